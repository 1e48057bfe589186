"""The JupyterLab and Jupyter Server settings that binder/ ships (and make lab installs) exist and take effect.

- binder/overrides.json names only plugins and settings that exist in the installed JupyterLab's schemas, with
  values of the right type (a typo such as "kernelShutdwon" would otherwise be ignored silently).
- binder/jupyter_server_config.py sets only configurable traits that exist, with valid values, and culls idle
  kernels.
- binder/postBuild, run in a sandbox, puts both files where Jupyter reads them; a JupyterLab started with them
  opens 00 at the course root, reports kernelShutdown on as the default, and starts its kernel culler.
- make setup installs the same overrides.json into the course venv, so `make lab` uses it too (that it takes
  effect there: tests/browser/test_make_lab.py).
"""
from __future__ import annotations

import importlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from traitlets.config.loader import PyFileConfigLoader

from lab_launch import (BIN, IS_ROOT, ROOT, check_course_server, free_port, launch, new_token, private_env,
                        private_flags)

BINDER = ROOT / "binder"
OVERRIDES = BINDER / "overrides.json"
SERVER_CONFIG = BINDER / "jupyter_server_config.py"
SHUTDOWN_PLUGIN, SHUTDOWN_KEY = "@jupyterlab/notebook-extension:tracker", "kernelShutdown"
# Where each configurable class in the server config lives.
CONFIG_CLASSES = {
    "ServerApp": "jupyter_server.serverapp",
    "LabApp": "jupyterlab.labapp",
    "MappingKernelManager": "jupyter_server.services.kernels.kernelmanager",
}


def lab_app_dir() -> Path:
    from jupyterlab.commands import get_app_dir
    return Path(get_app_dir())


def schema_of(plugin_id: str) -> dict:
    package, _, plugin = plugin_id.partition(":")
    path = lab_app_dir() / "schemas" / package / f"{plugin}.json"
    assert path.is_file(), f"{plugin_id}: no such JupyterLab plugin schema ({path} does not exist)"
    return json.loads(path.read_text())


# --- binder/overrides.json -------------------------------------------------------------------------------------

def test_overrides_name_existing_settings_with_valid_values():
    overrides = json.loads(OVERRIDES.read_text())
    assert isinstance(overrides, dict) and overrides, "binder/overrides.json should map plugin ids to settings"
    for plugin_id, settings in overrides.items():
        properties = schema_of(plugin_id)["properties"]
        for key, value in settings.items():
            assert key in properties, (f"binder/overrides.json: {plugin_id} has no setting {key!r}; "
                                       f"it has {sorted(properties)}")
            jsonschema.validate(value, {k: v for k, v in properties[key].items() if k != "default"})


def test_overrides_shut_kernels_down_when_tabs_close():
    overrides = json.loads(OVERRIDES.read_text())
    assert overrides.get(SHUTDOWN_PLUGIN, {}).get(SHUTDOWN_KEY) is True, (
        f"binder/overrides.json should set {SHUTDOWN_PLUGIN} {SHUTDOWN_KEY}: true")
    assert schema_of(SHUTDOWN_PLUGIN)["properties"][SHUTDOWN_KEY]["default"] is False, (
        "JupyterLab's own default changed: is the override still needed?")


# --- binder/jupyter_server_config.py -------------------------------------------------------------------------

def load_server_config():
    return PyFileConfigLoader(SERVER_CONFIG.name, path=str(SERVER_CONFIG.parent)).load_config()


def test_server_config_sets_only_existing_traits():
    config = load_server_config()
    assert config, "binder/jupyter_server_config.py sets nothing"
    for section, values in config.items():
        assert section in CONFIG_CLASSES, f"binder/jupyter_server_config.py: unexpected section {section!r}"
        cls = getattr(importlib.import_module(CONFIG_CLASSES[section]), section)
        traits = cls.class_traits(config=True)
        for name, value in values.items():
            assert name in traits, f"binder/jupyter_server_config.py: {section} has no setting {name!r}"
            traits[name].validate(None, value)


def test_server_config_culls_idle_kernels():
    kernels = load_server_config().MappingKernelManager
    assert kernels.cull_idle_timeout > 0 and 0 < kernels.cull_interval <= kernels.cull_idle_timeout
    assert kernels.cull_busy is False, "a kernel running a cell must never be culled"


# --- binder/postBuild, run in a sandbox --------------------------------------------------------------------

FAKE_PYTHON = """#!/bin/bash
# Stands in for Binder's python: pip does nothing, sys.prefix is the sandbox's.
if [ "$1 $2" = "-m pip" ]; then exit 0; fi
if [ "$1" = "-c" ] && [ "$2" = "import sys; print(sys.prefix)" ]; then echo {prefix}; exit 0; fi
exec {python} "$@"
"""


def test_postbuild_installs_the_settings_and_lab_applies_them(tmp_path):
    home, prefix, fake_bin = tmp_path / "home", tmp_path / "prefix", tmp_path / "fakebin"
    home.mkdir()
    fake_bin.mkdir()
    (fake_bin / "python").write_text(FAKE_PYTHON.format(prefix=shlex.quote(str(prefix)),
                                                        python=shlex.quote(sys.executable)))
    (fake_bin / "python").chmod(0o755)
    env = dict(private_env(tmp_path), HOME=str(home), PATH=f"{fake_bin}:/usr/bin:/bin")
    result = subprocess.run([str(BINDER / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, f"binder/postBuild failed:\n{result.stdout}\n{result.stderr}"
    server_config = home / ".jupyter" / "jupyter_server_config.py"
    lab_settings = prefix / "share" / "jupyter" / "lab" / "settings"
    assert server_config.read_text() == SERVER_CONFIG.read_text()
    assert (lab_settings / "overrides.json").read_text() == OVERRIDES.read_text()

    # A JupyterLab with that config folder and that application settings folder.
    (tmp_path / "config").mkdir(exist_ok=True)
    shutil.copy(server_config, tmp_path / "config" / "jupyter_server_config.py")
    port, token = free_port(), new_token()
    argv = [str(BIN / "jupyter"), "lab", "--ServerApp.ip=127.0.0.1", f"--port={port}",
            f"--LabApp.app_settings_dir={lab_settings}"] + private_flags(tmp_path, token)
    if IS_ROOT:
        argv.append("--allow-root")
    server = launch(argv, tmp_path, port, token)
    try:
        check_course_server(server)
        status, _, body = server.get(f"/lab/api/settings/{SHUTDOWN_PLUGIN}")
        assert status == 200, f"settings API answered {status}"
        prop = json.loads(body)["schema"]["properties"][SHUTDOWN_KEY]
        assert prop["default"] is True and prop.get("title"), f"JupyterLab did not apply the override: {prop}"
        status, _, _ = server.request("POST", "/api/kernels")
        assert status == 201, f"could not start a kernel ({status})"
        timeout = load_server_config().MappingKernelManager.cull_idle_timeout
        wanted = f"Culling kernels with idle durations > {timeout} seconds"
        assert server.wait_for_log(wanted, 60), f"the server did not start its culler ({wanted!r}):\n{server.log()}"
    finally:
        server.stop()


# --- make setup -----------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_setup_installs_the_overrides_into_the_venv():
    out = subprocess.run(["make", "-n", "-B", "setup", "VENV=/tmp/course-venv"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    target = "/tmp/course-venv/share/jupyter/lab/settings/overrides.json"
    assert re.search(rf"cp binder/overrides\.json {re.escape(target)}", out), (
        f"make setup should copy binder/overrides.json to {target}:\n{out}")


# --- docs/jupyterhub.md gives hubs the same settings ---------------------------------------------------------

HUB_DOC = ROOT / "docs" / "jupyterhub.md"


def binder_culling() -> dict:
    return {k: v for k, v in load_server_config().MappingKernelManager.items() if k != "cull_busy"}


def test_hub_dockerfile_culling_json_is_loaded_by_jupyter(tmp_path):
    found = re.search(r"echo \\\n\s*'(\{\"MappingKernelManager\".*?\})'", HUB_DOC.read_text())
    assert found, "docs/jupyterhub.md: the Dockerfile should write the kernel-culling JSON"
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(found.group(1))
    env = dict(private_env(tmp_path), JUPYTER_CONFIG_DIR=str(config_dir))
    out = subprocess.run([str(BIN / "jupyter"), "lab", "--show-config-json"], env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert json.loads(out).get("MappingKernelManager") == binder_culling(), (
        f"the hub's culling settings differ from binder/jupyter_server_config.py: {out}")


def test_hub_extra_files_match_binder():
    import yaml

    blocks = re.findall(r"```yaml\n(.*?)```", HUB_DOC.read_text(), re.S)
    extra = [yaml.safe_load(b)["singleuser"]["extraFiles"] for b in blocks if "extraFiles" in b]
    assert len(extra) == 1, "docs/jupyterhub.md should give one singleuser.extraFiles block"
    files = {entry["mountPath"]: entry["data"] for entry in extra[0].values()}
    overrides = [data for path, data in files.items() if path.endswith("/share/jupyter/lab/settings/overrides.json")]
    assert overrides == [json.loads(OVERRIDES.read_text())], f"extraFiles overrides differ from binder/: {files}"
    culling = [data for path, data in files.items() if path.endswith("/jupyter_server_config.json")]
    assert culling == [{"MappingKernelManager": binder_culling()}], (
        f"extraFiles culling differs from binder/: {files}")
