"""The Binder configuration, the launch links and the workshop schedule agree with the course.

- binder/requirements.txt names the same packages as requirements.txt and the same torch/torchvision pair
  (CPU builds, "+cpu"), and binder/postBuild installs course_utils.
- Every Binder, nbgitpuller or relative notebook link in README.md, docs/*.md and the notebooks' first cells
  uses binder/badges.py's REPO and BRANCH and opens one of the course notebooks, which must exist.
- docs/instructor-guide.md's schedules use the minutes of the notebooks' headers and add up.
"""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
GUIDE = ROOT / "docs" / "instructor-guide.md"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
# In requirements.txt only for the browser tests (tests/browser), which do not run on Binder: leaving them out
# keeps the Binder image smaller (the playwright wheel alone is 51 MiB).
NOT_ON_BINDER = {"playwright", "pytest-playwright"}


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


badges = _load(BINDER / "badges.py", "course_binder_badges")
memory = _load(ROOT / "scripts" / "measure_kernel_memory.py", "course_measure_kernel_memory")
NOTEBOOKS = list(badges.NOTEBOOKS)


# --- requirements ------------------------------------------------------------------------------------------

def parse_requirements(path: Path) -> tuple[dict[str, Requirement], list[str]]:
    """Requirements by canonical name, and the option lines (``--extra-index-url ...``, ``-e .``)."""
    reqs, options = {}, []
    for raw in path.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            options.append(line)
            continue
        req = Requirement(line)
        reqs[canonicalize_name(req.name)] = req
    return reqs, options


def pinned(req: Requirement) -> Version:
    specs = list(req.specifier)
    assert len(specs) == 1 and specs[0].operator == "==", f"{req} should be pinned with =="
    return Version(specs[0].version)


@pytest.fixture(scope="module")
def main_reqs():
    return parse_requirements(ROOT / "requirements.txt")


@pytest.fixture(scope="module")
def binder_reqs():
    return parse_requirements(BINDER / "requirements.txt")


def test_same_package_set(main_reqs, binder_reqs):
    main, binder = set(main_reqs[0]) - NOT_ON_BINDER, set(binder_reqs[0])
    assert main == binder, (f"binder/requirements.txt and requirements.txt differ: only in requirements.txt "
                            f"{sorted(main - binder)}, only in binder {sorted(binder - main)}")


@pytest.mark.parametrize("name", ["torch", "torchvision"])
def test_same_torch_pair_cpu_build(main_reqs, binder_reqs, name):
    main_v, binder_v = pinned(main_reqs[0][name]), pinned(binder_reqs[0][name])
    assert binder_v.public == main_v.public, (
        f"{name}: binder pins {binder_v}, requirements.txt pins {main_v}; the versions must be the same")
    assert binder_v.local == "cpu", f"{name}: binder should pin the CPU build ({main_v.public}+cpu), got {binder_v}"


def test_other_specifiers_match(main_reqs, binder_reqs):
    for name, req in main_reqs[0].items():
        if name in ("torch", "torchvision") or name in NOT_ON_BINDER:
            continue
        assert req.specifier == binder_reqs[0][name].specifier, (
            f"{name}: requirements.txt says {req.specifier}, binder says {binder_reqs[0][name].specifier}")


def test_binder_uses_cpu_index(binder_reqs):
    assert f"--extra-index-url {CPU_INDEX}" in binder_reqs[1], (
        f"binder/requirements.txt needs '--extra-index-url {CPU_INDEX}' for the +cpu wheels")


def test_postbuild_installs_course_utils(main_reqs):
    assert "-e ." in main_reqs[1], "requirements.txt installs the course package with '-e .'"
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    text = post.read_text()
    assert re.search(r"pip install .*--no-deps -e \.", text), "binder/postBuild should pip install -e . (no deps)"
    installs_config = r"cp binder/jupyter_server_config\.py \"\$\{HOME\}/\.jupyter/jupyter_server_config\.py\""
    assert re.search(installs_config, text), (
        "binder/postBuild should install binder/jupyter_server_config.py as ~/.jupyter/jupyter_server_config.py")
    assert badges.START in (BINDER / "jupyter_server_config.py").read_text(), (
        "binder/jupyter_server_config.py should make JupyterLab open the start notebook by default")


def test_runtime_python():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert match and int(match.group(1)) >= 10, f"binder/runtime.txt should say python-3.X (X >= 10), got {runtime!r}"


# --- links ---------------------------------------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def link_sources() -> list[tuple[str, str]]:
    """(label, text) for README.md, docs/*.md and each notebook's first cell."""
    sources = []
    readme = ROOT / "README.md"
    if readme.exists():
        sources.append(("README.md", readme.read_text()))
    for doc in sorted((ROOT / "docs").glob("*.md")):
        sources.append((f"docs/{doc.name}", doc.read_text()))
    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        sources.append((f"notebooks/{nb_path.name} (first cell)", nb.cells[0].source))
    return sources


def notebook_of(url: str) -> str | None:
    """The notebook a link opens (``notebooks/NAME``), or None if the link is not about a notebook."""
    parsed = urlparse(url)
    if parsed.netloc == "mybinder.org" and parsed.path.startswith("/v2/"):
        query = parse_qs(parsed.query)
        assert parsed.path == f"/v2/gh/{badges.REPO}/{badges.BRANCH}", (
            f"{url}: Binder links must use REPO={badges.REPO!r} and BRANCH={badges.BRANCH!r} from binder/badges.py")
        if "labpath" in query:
            return query["labpath"][0]
        if "urlpath" in query:
            return query["urlpath"][0].split("/tree/", 1)[-1]
        return None
    if "git-pull" in parsed.path:
        query = parse_qs(parsed.query)
        assert query["repo"][0] == f"https://github.com/{badges.REPO}", f"{url}: nbgitpuller repo is not REPO"
        folder = badges.REPO.split("/")[-1]
        return query["urlpath"][0].split(f"/tree/{folder}/", 1)[-1]
    if not parsed.scheme and parsed.path.endswith(".ipynb"):
        return "notebooks/" + Path(unquote(parsed.path)).name
    return None


def all_links() -> list[tuple[str, str, str]]:
    found = []
    for label, text in link_sources():
        for url in LINK.findall(text):
            target = notebook_of(url)
            if target is not None:
                found.append((label, url, target))
    return found


def test_links_found():
    labels = {label for label, _, _ in all_links()}
    assert "docs/binder.md" in labels, "docs/binder.md should carry the badge table"


def test_every_link_opens_an_existing_course_notebook():
    bad = []
    for label, url, target in all_links():
        name = target.removeprefix("notebooks/")
        if not target.startswith("notebooks/") or name not in badges.NOTEBOOKS:
            bad.append(f"{label}: {url} opens {target!r}, not one of the course notebooks")
        elif not (ROOT / target).is_file():
            bad.append(f"{label}: {url} opens {target}, which does not exist")
    assert not bad, "\n".join(bad)


def test_badge_table_lists_every_notebook():
    text = (ROOT / "docs" / "binder.md").read_text()
    for name in NOTEBOOKS:
        assert badges.binder_url(name) in text, f"docs/binder.md has no Binder badge for {name}"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.name)
def test_notebook_header_carries_its_own_badge(path):
    first = nbformat.read(path, as_version=4).cells[0].source
    assert badges.binder_url(path.name) in first, (
        f"{path.name}: the first cell should carry its Binder badge; add this line under the title:\n"
        f"{badges.header_line(path.name)}")


def test_readme_has_course_badge_and_docs():
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("README.md does not exist yet")
    text = readme.read_text()
    assert badges.binder_url(badges.START) in text, (
        "README.md should carry the course's Binder badge: paste the output of `python binder/badges.py`")
    for path in badges.DOCS.values():
        assert path in text, f"README.md should link to {path}"


def test_binder_md_is_generated_from_badges():
    assert (ROOT / "docs" / "binder.md").read_text() == badges.binder_md(), (
        "docs/binder.md is stale: run `python binder/badges.py --write`")


def test_binder_url_shape():
    url = badges.binder_url("02_dropout.ipynb")
    assert url == (f"https://mybinder.org/v2/gh/{badges.REPO}/main?labpath=notebooks%2F02_dropout.ipynb")
    assert notebook_of(url) == "notebooks/02_dropout.ipynb"
    puller = badges.nbgitpuller_url("https://hub.example.org/")
    assert puller.startswith("https://hub.example.org/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com")
    assert notebook_of(puller) == "notebooks/00_start_here.ipynb"


def test_badges_bad_input():
    with pytest.raises(ValueError, match="08_missing.ipynb"):
        badges.binder_url("08_missing.ipynb")
    with pytest.raises(ValueError, match="hub.example.org"):
        badges.nbgitpuller_url("hub.example.org")


# --- the instructor guide's schedules ----------------------------------------------------------------------

MINUTES = re.compile(r"\*\*Minutes:\*\*\s*(\d+)\s*teaching\s*·\s*(\d+)\s*exercises")


def header_minutes(name: str) -> tuple[int, int]:
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    match = MINUTES.search(nb.cells[0].source)
    assert match, f"{name}: first cell has no '**Minutes:** X teaching · Y exercises' line"
    return int(match.group(1)), int(match.group(2))


def clock(text: str) -> int:
    hours, minutes = text.strip().split(":")
    return int(hours) * 60 + int(minutes)


def schedule(heading: str) -> list[dict]:
    """Rows of the first table under ``## heading`` in the guide: start, notebook (or None), minutes."""
    text = GUIDE.read_text()
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in section.splitlines() if ln.startswith("|")]
    header = [c.strip().lower() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|"))))
        name = re.search(r"(\d\d_[a-z_]+\.ipynb)", cells["session"])
        rows.append({
            "start": clock(cells["start"]),
            "notebook": name.group(1) if name else None,
            "teaching": int(cells["teaching"]) if cells.get("teaching", "").isdigit() else None,
            "exercises": int(cells["exercises"]) if cells.get("exercises", "").isdigit() else None,
            "slot": int(cells["slot (min)"]),
            "label": cells["session"],
        })
    return rows


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_schedule_minutes_match_headers(name):
    rows = [r for r in schedule("3-hour schedule") if r["notebook"] == name]
    assert len(rows) == 1, f"the 3-hour schedule should have exactly one row for {name}"
    if not (ROOT / "notebooks" / name).is_file():
        pytest.skip(f"notebooks/{name} does not exist yet: its header minutes cannot be compared")
    row = rows[0]
    assert (row["teaching"], row["exercises"]) == header_minutes(name), (
        f"{name}: the guide says {row['teaching']} teaching · {row['exercises']} exercises, "
        f"the notebook header says {header_minutes(name)[0]} · {header_minutes(name)[1]}")


@pytest.mark.parametrize("heading,length", [("3-hour schedule", 180), ("90-minute version", 90)])
def test_schedule_clock_adds_up(heading, length):
    rows = schedule(heading)
    assert rows[0]["start"] == 0, f"{heading}: starts at 0:00"
    for before, after in zip(rows, rows[1:]):
        assert before["start"] + before["slot"] == after["start"], (
            f"{heading}: {before['label']} starts {before['start']} min + {before['slot']} min "
            f"!= next start {after['start']} min")
    end = rows[-1]["start"] + rows[-1]["slot"]
    assert end == length, f"{heading}: ends after {end} min, expected {length}"


@pytest.mark.parametrize("heading", ["3-hour schedule", "90-minute version"])
def test_schedule_slots_fit_the_notebooks(heading):
    for row in schedule(heading):
        if row["notebook"] and (ROOT / "notebooks" / row["notebook"]).is_file():
            teaching, exercises = header_minutes(row["notebook"])
            assert row["slot"] <= teaching + exercises, (
                f"{heading}: {row['notebook']} gets {row['slot']} min, more than its {teaching + exercises}")


# --- the scripts -----------------------------------------------------------------------------------------

def test_proc_memory_reads_own_process():
    mem = memory.proc_memory(os.getpid())
    assert 10 < mem["rss"] <= mem["peak"], mem


@pytest.mark.parametrize("pid", [0, -3, "1", True])
def test_proc_memory_bad_pid(pid):
    with pytest.raises(ValueError, match=re.escape(repr(pid))):
        memory.proc_memory(pid)


def test_measure_notebook_missing_file(tmp_path):
    with pytest.raises(ValueError, match="nope.ipynb"):
        memory.measure_notebook(tmp_path / "nope.ipynb")


def test_wheelhouse_script_syntax_and_usage():
    script = ROOT / "scripts" / "wheelhouse.sh"
    assert os.access(script, os.X_OK), "scripts/wheelhouse.sh must be executable"
    subprocess.run(["bash", "-n", str(script)], check=True)
    bad = subprocess.run([str(script), "frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr


@pytest.mark.skipif(os.environ.get("COURSE_SLOW_TESTS") != "1",
                    reason="slow (3 GB download, ~6 GB venv, ~3 min here): set COURSE_SLOW_TESTS=1")
def test_wheelhouse_installs_offline(tmp_path):
    env = dict(os.environ, WHEELHOUSE=str(tmp_path / "wheelhouse"))
    script = str(ROOT / "scripts" / "wheelhouse.sh")
    subprocess.run([script, "download"], check=True, env=env)
    # unshare -n: a new network namespace with no network at all, so the install cannot reach any index.
    subprocess.run(["unshare", "-n", script, "install", str(tmp_path / "venv")], check=True, env=env)
