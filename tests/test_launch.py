"""Starting the course as the instructions say gives the learner the whole course, with notebook 00 first.

- ``make lab`` and the README's "Without make" line (binder/postBuild's config: tests/test_lab_settings.py)
  start a JupyterLab whose file browser shows the course root (README, notebooks, solutions, docs) and whose
  printed link (and ``/``) opens notebooks/00_start_here.ipynb; 127.0.0.1 only, token required;
  ``--allow-root`` only as root.
- The instructor guide's rescue, ``from solutions.modes_01 import *``, works in a kernel started in notebooks/
  (where JupyterLab starts a notebook's kernel) and in one started outside the course.
- The offline path (scripts/wheelhouse.sh install, make offline-setup) installs the course package whatever the
  requirements file (binder/requirements.txt has no ``-e .``), and its self-check runs outside the course folder
  and in notebooks/, so that it cannot pass merely because the current folder holds course_utils.
- The learner-facing setup guide has no placeholders and no notes about the development machine.
"""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lab_launch import (BIN, IS_ROOT, ROOT, START, START_PATH, check_course_server, free_port, launch,
                        make_lab_command, new_token, private_env, private_flags)

README = ROOT / "README.md"
LEARNER_SETUP = ROOT / "docs" / "learner-setup.md"
INSTRUCTOR_GUIDE = ROOT / "docs" / "instructor-guide.md"
WHEELHOUSE_SH = ROOT / "scripts" / "wheelhouse.sh"


# --- make lab --------------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed (the README's other path is tested)")
def test_make_lab_command_shape():
    argv = make_lab_command(8888, [])
    assert "--ServerApp.ip=127.0.0.1" in argv, f"make lab must listen on 127.0.0.1 only: {shlex.join(argv)}"
    assert ("--allow-root" in argv) == IS_ROOT, f"--allow-root only when running as root: {shlex.join(argv)}"
    assert not [a for a in argv[2:] if not a.startswith("-")], (
        f"a notebook path makes JupyterLab serve only notebooks/: {shlex.join(argv)}")
    assert not [a for a in argv if re.fullmatch(r"--\w+\.token=", a)], f"token must stay on: {shlex.join(argv)}"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed (the README's other path is tested)")
def test_make_lab_serves_the_course_root_and_opens_00(tmp_path):
    port, token = free_port(), new_token()
    server = launch(make_lab_command(port, private_flags(tmp_path, token)), tmp_path, port, token)
    try:
        check_course_server(server)
    finally:
        server.stop()


# --- README "Without make" ----------------------------------------------------------------------------------

def without_make_block() -> list[str]:
    section = README.read_text().split("### Without make", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S)
    assert block, "README.md: the 'Without make' section should have a code block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_without_make_runs_tests_before_the_server():
    lines = without_make_block()
    tests = [i for i, line in enumerate(lines) if "pytest" in line]
    servers = [i for i, line in enumerate(lines) if re.match(r"jupyter\s+lab\b", line)]
    assert len(servers) == 1 and tests, f"one `jupyter lab` line and a pytest line expected: {lines}"
    assert servers[0] == len(lines) - 1 and tests[0] < servers[0], (
        "the server keeps the terminal: pasted whole, a pytest line after it waits for the server to stop")


def test_readme_says_allow_root():
    section = README.read_text().split("### Without make", 1)[1].split("\n## ", 1)[0]
    assert "--allow-root" in section, "as root, jupyter lab refuses to start without --allow-root: say so"


def test_readme_without_make_line_serves_the_course_root_and_opens_00(tmp_path):
    line = [ln for ln in without_make_block() if re.match(r"jupyter\s+lab\b", ln)][0]
    port, token = free_port(), new_token()
    argv = [str(BIN / "jupyter")] + shlex.split(line)[1:] + [f"--port={port}"] + private_flags(tmp_path, token)
    if IS_ROOT:
        argv.append("--allow-root")  # as the README says
    server = launch(argv, tmp_path, port, token)
    try:
        check_course_server(server)
    finally:
        server.stop()


@pytest.mark.parametrize("doc", [README, LEARNER_SETUP], ids=lambda p: p.name)
def test_every_documented_jupyter_lab_line_opens_the_course_root(doc):
    lines = [ln for ln in doc.read_text().splitlines() if re.search(r"jupyter(\.exe)?\s+lab\b", ln)
             and not ln.lstrip().startswith(("|", "-"))]
    commands = [ln for ln in lines if "`" not in ln]  # code-block lines, not prose mentioning `jupyter lab`
    assert commands, f"{doc.name}: no `jupyter lab` command found"
    for line in commands:
        assert "--ServerApp.root_dir=." in line and f"--LabApp.default_url={START_PATH}" in line, (
            f"{doc.name}: `{line.strip()}` should start at the course root and open {START} "
            f"(--ServerApp.root_dir=. --LabApp.default_url={START_PATH})")
        assert not re.search(r"\s[^-\s]\S*\.ipynb(\s|$)", line), (
            f"{doc.name}: `{line.strip()}` passes a notebook path, so JupyterLab serves only notebooks/")


# --- solutions importable from a kernel ------------------------------------------------------------------------

RESCUE = re.compile(r"`(from solutions\.\w+ import \*)`")


def test_instructor_guide_names_the_rescue():
    assert RESCUE.search(INSTRUCTOR_GUIDE.read_text()), "docs/instructor-guide.md should give the rescue import"


@pytest.mark.parametrize("where", ["notebooks", "outside"])
def test_rescue_import_works_in_a_kernel(tmp_path, where):
    from jupyter_client.manager import start_new_kernel

    statement = RESCUE.search(INSTRUCTOR_GUIDE.read_text()).group(1)
    cwd = ROOT / "notebooks" if where == "notebooks" else tmp_path
    env = private_env(tmp_path)
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env)
    try:
        code = (f"{statement}\nimport os, solutions, course_utils\n"
                "print(os.getcwd()); print(solutions.__file__); print(course_utils.__file__)")
        outputs: list[str] = []
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda msg: outputs.append(
            msg["content"].get("text", "") or "\n".join(msg["content"].get("traceback", []))))
        text = "".join(outputs)
        assert reply["content"]["status"] == "ok", f"`{statement}` failed in a kernel started in {cwd}:\n{text}"
        cwd_line, solutions_file, course_file = text.split()[:3]
        assert Path(cwd_line).resolve() == cwd.resolve(), f"the kernel ran in {cwd_line}, not {cwd}"
        for name, path in (("solutions", solutions_file), ("course_utils", course_file)):
            assert Path(path).resolve().is_relative_to(ROOT), (
                f"{name} came from {path}, not from this course ({ROOT}): run `pip install -e .` here")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


# --- the offline wheelhouse path -------------------------------------------------------------------------------

FAKE_PYTHON = """#!/bin/bash
# Records each call (working folder | arguments); pretends pip worked; runs everything else for real.
printf '%s|%s\\n' "$PWD" "$*" >> {log}
if [ "$1 $2" = "-m pip" ]; then exit 0; fi
exec {python} "$@"
"""


def test_wheelhouse_install_installs_the_course_and_checks_from_elsewhere(tmp_path):
    """With binder/requirements.txt saved in the wheelhouse (no "-e ."), make offline-setup still installs the
    course package, with --no-index; the self-check imports it outside the course folder and in notebooks/; and
    make setup has nothing left to do afterwards."""
    wheelhouse, venv, log = tmp_path / "wheelhouse", tmp_path / "venv", tmp_path / "calls.log"
    wheelhouse.mkdir()
    shutil.copy(ROOT / "binder" / "requirements.txt", wheelhouse / "requirements.txt")
    (venv / "bin").mkdir(parents=True)
    fake = venv / "bin" / "python"
    fake.write_text(FAKE_PYTHON.format(log=shlex.quote(str(log)), python=shlex.quote(sys.executable)))
    fake.chmod(0o755)
    env = dict(private_env(tmp_path), WHEELHOUSE=str(wheelhouse))
    # Through make offline-setup where make exists (the documented path), else the script itself.
    command = ([str(WHEELHOUSE_SH), "install", str(venv)] if shutil.which("make") is None
               else ["make", "--no-print-directory", "offline-setup", f"VENV={venv}"])
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{shlex.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    if command[0] == "make":
        up_to_date = subprocess.run(["make", "-q", "setup", f"VENV={venv}"], cwd=ROOT, env=env)
        assert up_to_date.returncode == 0, (
            "after make offline-setup, make setup (and so make lab) must have nothing left to install")
    calls = [line.split("|", 1) for line in log.read_text().splitlines()]
    pip = [args.split() for _, args in calls if args.startswith("-m pip install")]
    assert len(pip) == 1, f"one pip install expected, got {pip}"
    assert "--no-index" in pip[0], f"the install must not contact an index: {pip[0]}"
    editable = [pip[0][i + 1] for i, arg in enumerate(pip[0]) if arg in ("-e", "--editable")]
    assert [Path(p).resolve() for p in editable] == [ROOT], (
        f"the course package must be installed (editable, from {ROOT}), as requirements.txt's '-e .' does: {pip[0]}")
    checks = [Path(cwd).resolve() for cwd, args in calls if not args.startswith("-m pip")]
    assert (ROOT / "notebooks").resolve() in checks, f"the self-check should run in notebooks/: {checks}"
    assert any(not c.is_relative_to(ROOT) for c in checks), f"the self-check should run outside the course: {checks}"
    assert ROOT not in checks, "a self-check from the course root passes even when nothing was installed"
    assert result.stdout.count("OK from") == 2, result.stdout


def test_wheelhouse_check_fails_when_the_course_is_not_installed(tmp_path):
    """The situation of the old wheelhouse path: torch and friends installed, the course package not. From the
    course root `import course_utils` still works (the current folder holds it), so only a check run elsewhere
    catches it."""
    import sysconfig

    venv = tmp_path / "no-course"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    purelib = Path(subprocess.run([str(venv / "bin" / "python"), "-c",
                                   "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # This environment's packages on the path, but not its .pth files: no editable finder, so no course package.
    (purelib / "course-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = private_env(tmp_path)
    probe = "import torch, torchvision, ipywidgets, course_utils, solutions"
    assert subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=ROOT, env=env).returncode == 0, (
        "set-up: from the course root everything imports")
    assert subprocess.run([str(venv / "bin" / "python"), "-c", probe], cwd=tmp_path, env=env,
                          capture_output=True).returncode != 0, "set-up: elsewhere the course does not import"
    result = subprocess.run([str(WHEELHOUSE_SH), "check", str(venv)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0, f"the check passed for a venv without the course:\n{result.stdout}"
    assert "Self-check failed" in result.stderr and "No module named 'course_utils'" in result.stderr, result.stderr


def test_wheelhouse_check_bad_venv(tmp_path):
    result = subprocess.run([str(WHEELHOUSE_SH), "check", str(tmp_path / "nope")], capture_output=True, text=True)
    assert result.returncode == 1 and f"No Python at {tmp_path / 'nope'}/bin/python" in result.stderr


def test_offline_setup_uses_the_wheelhouse_install():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "-n", "offline-setup", "VENV=/tmp/x"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert "scripts/wheelhouse.sh install /tmp/x" in out, out


# --- the learner's setup guide ---------------------------------------------------------------------------------

def test_learner_setup_has_no_placeholders_or_development_notes():
    text = LEARNER_SETUP.read_text()
    assert "OWNER" not in text, "docs/learner-setup.md: a learner cannot use a link with OWNER in it"
    assert "development machine" not in text, (
        "docs/learner-setup.md is for learners: notes about the development machine belong elsewhere")
