"""The systemd units: `systemd-analyze verify` on both, their hardening, and that the
command lines they run are ones `hearth` accepts with the example configuration."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ops.support import REPO, ok

UNITS = ("hearth-relay.service", "hearth-host.service")
INSTALLED = "/opt/hearth/.venv/bin/hearth"
HARDENING = (
    "User=hearth", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
    "PrivateTmp=yes", "PrivateDevices=yes", "CapabilityBoundingSet=", "UMask=0077",
    "SystemCallFilter=@system-service", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "Restart=on-failure", "KillSignal=SIGTERM",
)


def directives(unit: Path) -> list[tuple[str, str]]:
    out = []
    for line in unit.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.append((key, value))
    return out


@pytest.mark.parametrize("name", UNITS)
def test_unit_verifies_and_is_hardened(name: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: scripts/bootstrap installs systemd"
    unit = REPO / "deploy" / name
    text = unit.read_text()
    for line in HARDENING:
        assert f"\n{line}\n" in text, line
    # verify checks that ExecStart exists: point it at this checkout's hearth.
    local = tmp_path / name
    local.write_text(text.replace(INSTALLED, str(REPO / ".venv" / "bin" / "hearth")))
    done = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    security = subprocess.run([analyze, "security", "--offline=true", "--threshold=20",
                               str(local)], capture_output=True, text=True, timeout=60)
    assert security.returncode == 0, security.stdout[-2000:]
    assert " OK " in security.stdout.splitlines()[-1], security.stdout.splitlines()[-1]


def test_host_unit_has_its_state_dir_and_the_relay_none() -> None:
    host = dict(directives(REPO / "deploy" / "hearth-host.service"))
    relay = dict(directives(REPO / "deploy" / "hearth-relay.service"))
    assert host["StateDirectory"] == "hearth-host" and host["StateDirectoryMode"] == "0700"
    assert "StateDirectory" not in relay and "ReadWritePaths" not in relay


def test_unit_command_lines_work_with_the_example_config(tmp_path: Path) -> None:
    config = REPO / "deploy" / "hearth.toml.example"
    data = tmp_path / "state" / "hearth-host"
    env = {"HEARTH_CONFIG": str(config), "HEARTH_HOST_DATA": str(data)}
    commands = {}
    for name in UNITS:
        for key, value in directives(REPO / "deploy" / name):
            if key.startswith("ExecStart"):
                argv = shlex.split(value)
                assert argv[0] == INSTALLED, value
                commands.setdefault(name, []).append(argv[1:])
    (pre,), (run_host,) = ([c for c in commands["hearth-host.service"] if c[1] == "init"],
                           [c for c in commands["hearth-host.service"] if c[1] == "run"])
    first = ok(*pre, env=env).strip()
    assert ok(*pre, env=env).strip() == first  # every later start leaves the host alone
    shown = ok(*run_host, "--print-config", env=env)
    assert f'data = "{data}"  # env HEARTH_HOST_DATA' in shown
    assert 'relay = "wss://chat.example.org"  # config file' in shown
    (run_relay,) = commands["hearth-relay.service"]
    shown = ok(*run_relay, "--print-config", env=env)
    assert "proxy_headers = true  # flag" in shown
    assert 'bind = "127.0.0.1"  # config file' in shown
