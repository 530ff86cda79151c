"""Configuration: flag > HEARTH_* variable > TOML file > default, each refusal exact,
and every option explained by --help and documented in docs/operations.md."""

from __future__ import annotations

import re
from pathlib import Path

from hearth.config import env_name
from relay.options import OPTIONS
from tests.ops.support import REPO, ok, refused

HOST_RUN_FLAGS = ("--data", "--relay", "--shutdown-grace", "--admin-poll")


def effective(text: str) -> dict[str, tuple[str, str]]:
    """``key = value  # source`` lines → {key: (value, source)}."""
    out = {}
    for line in text.splitlines():
        m = re.fullmatch(r"(\w+) = (.*?)  # (.*)", line)
        if m:
            out[m[1]] = (m[2], m[3])
    return out


def test_flag_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    config = tmp_path / "hearth.toml"
    config.write_text(
        'log_level = "warning"\n'
        "[relay]\nport = 9001\nidle_timeout = 11.5\nauth_timeout = 3\nproxy_headers = true\n"
        'rate = ["req=50/100"]\n'
        '[host]\ndata = "/srv/hearth"\nrelay = "wss://chat.example.org"\npublic_url = "https://x"\n'
    )
    env = {"HEARTH_CONFIG": str(config), "HEARTH_RELAY_PORT": "9002",
           "HEARTH_RELAY_IDLE_TIMEOUT": "22"}
    got = effective(ok("relay", "--port", "9003", "--print-config", env=env))
    assert got["port"] == ("9003", "flag")
    assert got["idle_timeout"] == ("22.0", "env HEARTH_RELAY_IDLE_TIMEOUT")
    assert got["auth_timeout"] == ("3.0", "config file")
    assert got["proxy_headers"] == ("true", "config file")
    assert got["rate"] == ('["req=50/100"]', "config file")
    assert got["close_timeout"] == ("5.0", "default")

    # --config on the command line names the file too; a [host] table serves host run.
    host = effective(ok("--config", str(config), "host", "run", "--admin-poll", "0.5",
                        "--print-config", env={"HEARTH_HOST_SHUTDOWN_GRACE": "4"}))
    assert host == {
        "data": ('"/srv/hearth"', "config file"),
        "relay": ('"wss://chat.example.org"', "config file"),
        "shutdown_grace": ("4.0", "env HEARTH_HOST_SHUTDOWN_GRACE"),
        "admin_poll": ("0.5", "flag"),
    }


def test_bad_configuration_is_refused_naming_the_bad_value(tmp_path: Path) -> None:
    bad_key = tmp_path / "bad_key.toml"
    bad_key.write_text("[relay]\nprot = 1\n")
    err = refused("--config", str(bad_key), "relay", "--print-config", status=2)
    assert f"config file {str(bad_key)!r}: [relay] has unknown key(s) ['prot']" in err

    top = tmp_path / "top.toml"
    top.write_text("colour = 1\n")
    err = refused("--config", str(top), "relay", status=2)
    assert "unknown key 'colour' (known: [host], [relay], [up], log_level)" in err

    broken = tmp_path / "broken.toml"
    broken.write_text("[relay\n")
    err = refused("--config", str(broken), "relay", status=2)
    assert f"config file {str(broken)!r} is not valid TOML: Expected ']'" in err

    err = refused("--config", str(tmp_path / "missing.toml"), "relay", status=2)
    assert "cannot read config file" in err and "missing.toml" in err

    typed = tmp_path / "typed.toml"
    typed.write_text('[relay]\nport = "eighty"\n')
    err = refused("--config", str(typed), "relay", "--print-config", status=2)
    assert "'eighty' is not a valid integer" in err

    err = refused("relay", "--rate", "bogus=1", "--print-config", status=2)
    assert "unknown rate limit 'bogus'" in err
    err = refused("relay", "--print-config", env={"HEARTH_RELAY_CLIENT_QUEUE": "2"}, status=2)
    assert "Invalid value for '--client-queue'" in err and "2 is not in the range x>=8" in err
    err = refused("relay", "--bus", "ftp://x", "--port", "0", status=2)
    assert "bus URL 'ftp://x' is not supported: use redis://HOST:PORT[/DB]" in err
    err = refused("host", "run", "--data", str(tmp_path), status=2)
    assert "Missing option '--relay'" in err


def test_help_explains_every_option_and_docs_list_them() -> None:
    relay_help = " ".join(ok("relay", "--help").split())
    host_help = " ".join(ok("host", "run", "--help").split())
    docs = (REPO / "docs" / "operations.md").read_text()
    for option in OPTIONS:
        env = env_name("relay", option.flag)
        assert option.flag in relay_help and env in relay_help, option.flag
        assert f"`{option.flag}`" in docs and f"`{env}`" in docs, option.flag
        assert f"`{option.name}`" in docs, option.name
    for flag in HOST_RUN_FLAGS:
        env = env_name("host", flag)
        assert flag in host_help and env in host_help, flag
        assert f"`{flag}`" in docs and f"`{env}`" in docs, flag
    assert "`HEARTH_CONFIG`" in docs and "`HEARTH_LOG_LEVEL`" in docs
    assert "`--rate`" in docs and "`HEARTH_RELAY_RATE`" in docs
    group_help = ok("host", "--help")
    for command in ("status", "members", "remove-member", "invites", "revoke-invite",
                    "owner-invite", "rotate-key", "backup", "restore", "upgrade", "run"):
        assert f"  {command}" in group_help, command
