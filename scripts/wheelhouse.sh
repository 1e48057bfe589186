#!/usr/bin/env bash
# Offline install for weak Wi-Fi: download every wheel the course needs ONCE into wheelhouse/,
# then install from it with no network at all (pip --no-index).
#
#   scripts/wheelhouse.sh download            # online, once: fill wheelhouse/ (about 3 GB with CUDA torch on Linux)
#   scripts/wheelhouse.sh install [VENV]      # offline: create VENV (default .venv) and install from wheelhouse/
#   scripts/wheelhouse.sh all [VENV]          # both
#   scripts/wheelhouse.sh check [VENV]        # import the course from outside its folder and from notebooks/
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
    venv="$(cd "$venv" && pwd)"  # absolute: the self-check runs from other folders
    # The saved requirements less any editable line; the course package (course_utils and solutions) is
    # installed from this folder in the same pip run, editable as in the main path, whichever requirements
    # file the wheelhouse was made from (binder/requirements.txt names no "-e .").
    local reqs
    reqs="$(mktemp)"
    grep -vE '^[[:space:]]*(-e|--editable)[[:space:]]' "$WHEELHOUSE/requirements.txt" > "$reqs" || true
    echo "Installing from $WHEELHOUSE/ into $venv with no network (--no-index) ..."
    # --no-index: never contact an index; --find-links: take everything from the wheelhouse.
    # PIP_CONFIG_FILE=/dev/null: ignore site pip settings (extra indexes, constraints) for a reproducible install.
    PIP_CONFIG_FILE=/dev/null "$venv/bin/python" -m pip install --no-index --find-links "$WHEELHOUSE" \
        -r "$reqs" -e "$ROOT"
    rm -f "$reqs"
    self_check "$venv"
    echo "Done. Check everything in JupyterLab with notebooks/00_start_here.ipynb (make lab)."
}

# Import the course from outside the course folder and from notebooks/ (where a notebook's kernel starts),
# so that the check passes only if the packages are installed, not because the current folder holds them.
self_check() {
    local venv="$1" outside dir
    outside="$(mktemp -d)"
    for dir in "$outside" "$ROOT/notebooks"; do
        (cd "$dir" && "$venv/bin/python" - "$ROOT" <<'PY'
import os, sys
import torch, torchvision, ipywidgets, course_utils, solutions
root = os.path.realpath(sys.argv[1])
for module in (course_utils, solutions):
    where = os.path.realpath(module.__file__)
    if not where.startswith(root + os.sep):
        sys.exit(f"FAILED: {module.__name__} comes from {where}, not from the course folder {root}")
print(f"OK from {os.getcwd()}: torch {torch.__version__} | torchvision {torchvision.__version__} | "
      f"ipywidgets {ipywidgets.__version__} | course_utils and solutions from {root}")
PY
        ) || { rmdir "$outside"; echo "Self-check failed in $dir (see above)." >&2; exit 1; }
    done
    rmdir "$outside"
}

case "${1:-all}" in
    download) download ;;
    install) install "${2:-.venv}" ;;
    check)
        if [ ! -x "${2:-.venv}/bin/python" ]; then
            echo "No Python at ${2:-.venv}/bin/python: give the course's environment (make setup or $0 install)." >&2
            exit 1
        fi
        self_check "$(cd "${2:-.venv}" && pwd)" ;;
    all) download; install "${2:-.venv}" ;;
    -h|--help|help) sed -n '2,/^set -/{/^#/p}' "$0" ;;
    *) echo "usage: $0 [download|install [VENV]|all [VENV]|check [VENV]]" >&2; exit 2 ;;
esac
