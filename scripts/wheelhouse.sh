#!/usr/bin/env bash
# Offline install for weak Wi-Fi: download every wheel the course needs ONCE into wheelhouse/,
# then install from it with no network at all (pip --no-index).
#
#   scripts/wheelhouse.sh download            # online, once: fill wheelhouse/ (about 3 GB with CUDA torch on Linux)
#   scripts/wheelhouse.sh install [VENV]      # offline: create VENV (default .venv) and install from wheelhouse/
#   scripts/wheelhouse.sh all [VENV]          # both
#
# Environment variables:
#   REQUIREMENTS  requirements file to download (default: requirements.txt). On Linux, use
#                 REQUIREMENTS=binder/requirements.txt for the CPU-only torch (about 10x smaller; needs
#                 download.pytorch.org to be reachable at download time).
#   WHEELHOUSE    folder for the wheels (default: wheelhouse/; it is git-ignored)
#   PYTHON        interpreter for the new venv (default: python3). Wheels are specific to the OS, CPU and
#                 Python version of the machine that downloads them: download on the same kind of machine
#                 (and the same Python minor version) as the learners', or pass pip's --platform /
#                 --python-version / --only-binary=:all: through PIP_DOWNLOAD_ARGS.
#   PIP_DOWNLOAD_ARGS  extra arguments for `pip download`.
#
# Hand wheelhouse/ (plus a clone of the course) out on a USB stick or a local file share.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
REQUIREMENTS="${REQUIREMENTS:-requirements.txt}"
WHEELHOUSE="${WHEELHOUSE:-wheelhouse}"
PYTHON="${PYTHON:-python3}"
# Build requirements of the course's own package (pyproject.toml [build-system]), so that
# `pip install -e .` also works offline.
BUILD_REQS=("setuptools>=68" "wheel")

# The requirements without the editable install of the course itself: that one is built locally.
remote_requirements() {
    grep -vE '^[[:space:]]*(-e|--editable)[[:space:]]' "$REQUIREMENTS"
}

download() {
    local py="${PIP_PYTHON:-$PYTHON}"
    mkdir -p "$WHEELHOUSE"
    local tmp
    tmp="$(mktemp)"
    remote_requirements > "$tmp"
    echo "Downloading the wheels of $REQUIREMENTS into $WHEELHOUSE/ ..."
    # shellcheck disable=SC2086
    "$py" -m pip download --dest "$WHEELHOUSE" --only-binary=:all: -r "$tmp" "${BUILD_REQS[@]}" \
        ${PIP_DOWNLOAD_ARGS:-}
    rm -f "$tmp"
    cp "$REQUIREMENTS" "$WHEELHOUSE/requirements.txt"
    echo "Wheelhouse: $(find "$WHEELHOUSE" -name '*.whl' | wc -l) wheels, $(du -sh "$WHEELHOUSE" | cut -f1)"
}

install() {
    local venv="${1:-.venv}"
    if [ ! -f "$WHEELHOUSE/requirements.txt" ]; then
        echo "No $WHEELHOUSE/requirements.txt: run '$0 download' first (online)." >&2
        exit 1
    fi
    test -x "$venv/bin/python" || "$PYTHON" -m venv "$venv"
    echo "Installing from $WHEELHOUSE/ into $venv with no network (--no-index) ..."
    # --no-index: never contact an index; --find-links: take everything from the wheelhouse.
    # PIP_CONFIG_FILE=/dev/null: ignore site pip settings (extra indexes, constraints) for a reproducible install.
    PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install --no-index --find-links "$WHEELHOUSE" \
        -r "$WHEELHOUSE/requirements.txt"
    "$venv/bin/python" -c "import torch, torchvision, ipywidgets, course_utils; \
print('OK: torch', torch.__version__, '| torchvision', torchvision.__version__, '| ipywidgets', ipywidgets.__version__)"
    echo "Done. Check everything in JupyterLab with notebooks/00_start_here.ipynb."
}

case "${1:-all}" in
    download) download ;;
    install) install "${2:-.venv}" ;;
    all) download; install "${2:-.venv}" ;;
    -h|--help|help) sed -n '2,22p' "$0" ;;
    *) echo "usage: $0 [download|install [VENV]|all [VENV]]" >&2; exit 2 ;;
esac
