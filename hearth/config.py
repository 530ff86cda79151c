"""Layered configuration of the ``hearth`` command, on top of click.

Precedence, highest first: a command-line flag, its environment variable, the TOML
file given by ``hearth --config FILE`` (or ``HEARTH_CONFIG``), the built-in default.

Invariant: every configurable option ``--some-flag`` of command section ``S``
(``relay``, ``host``, ``up``) has exactly one environment variable
``HEARTH_S_SOME_FLAG`` and one TOML key ``some_flag`` in table ``[S]``; options of the
top-level command (``--log-level``) are ``HEARTH_LOG_LEVEL`` and a top-level key. A
TOML key that no option knows is refused, naming the key and the file, so a typo
never silently falls back to a default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
from click.core import ParameterSource

F = TypeVar("F", bound=Callable[..., Any])

ENV_PREFIX = "HEARTH"
CONFIG_ENV = "HEARTH_CONFIG"


def env_name(section: str | None, flag: str) -> str:
    """``("relay", "--client-queue")`` → ``HEARTH_RELAY_CLIENT_QUEUE``."""
    parts = [ENV_PREFIX, *([section] if section else []), flag.lstrip("-")]
    return "_".join(parts).upper().replace("-", "_")


def setting(section: str | None, flag: str, *, negatable: bool = False,
            **kwargs: Any) -> Callable[[F], F]:
    """A configurable click option: its environment variable and TOML key follow from
    ``section`` and ``flag`` (see the module docstring); ``negatable`` adds ``--no-…``.
    The parameter's name is always the flag's, with underscores."""
    name = flag.lstrip("-").replace("-", "_")
    decl = f"{flag}/--no-{flag.lstrip('-')}" if negatable else flag
    return click.option(decl, name, envvar=env_name(section, flag), show_envvar=True,
                        **kwargs)


def configurable(command: click.Command) -> list[click.Option]:
    """The options of ``command`` that a TOML file may set (those with an env var)."""
    return [p for p in command.params
            if isinstance(p, click.Option) and p.envvar and p.expose_value]


def load_toml(path: Path) -> dict[str, Any]:
    """The parsed file; click.BadParameter quoting the path and TOML's own message."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise click.BadParameter(f"cannot read config file {str(path)!r}: {exc.strerror}",
                                 param_hint="--config") from None
    except tomllib.TOMLDecodeError as exc:
        raise click.BadParameter(f"config file {str(path)!r} is not valid TOML: {exc}",
                                 param_hint="--config") from None


def _keys(command: click.Command) -> set[str]:
    return {str(p.name) for p in configurable(command)}


def default_map(doc: dict[str, Any], root: click.Group, source: str) -> dict[str, Any]:
    """click's ``default_map`` for ``root`` from a parsed TOML document.

    A table named after a subcommand configures it; a table named after a subgroup
    (``[host]``) is shared by its subcommands, each taking the keys it knows.
    """
    out: dict[str, Any] = {}
    top = _keys(root)
    for key, value in doc.items():
        command = root.commands.get(key)
        if key in top:
            out[key] = value
        elif command is not None and isinstance(value, dict):
            out[key] = _section(key, value, command, source)
        else:
            known = sorted([*top, *(f"[{n}]" for n in root.commands)])
            raise click.BadParameter(
                f"config file {source!r}: unknown key {key!r} (known: {', '.join(known)})",
                param_hint="--config",
            )
    return out


def _section(name: str, table: dict[str, Any], command: click.Command,
             source: str) -> dict[str, Any]:
    if isinstance(command, click.Group):
        subs = command.commands.values()
        known = set().union(*(_keys(sub) for sub in subs))
        result: dict[str, Any] = {
            sub_name: {k: v for k, v in table.items() if k in _keys(sub)}
            for sub_name, sub in command.commands.items()
        }
    else:
        known = _keys(command)
        result = dict(table)
    unknown = sorted(set(table) - known)
    if unknown:
        raise click.BadParameter(
            f"config file {source!r}: [{name}] has unknown key(s) {unknown} "
            f"(known: {', '.join(sorted(known))})",
            param_hint="--config",
        )
    return result


def config_option(root: click.Group) -> Callable[[F], F]:
    """``--config FILE`` for the top-level group: eager, so the file is read before any
    other option takes its value, and every subcommand inherits the defaults."""

    def load(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
        if value is not None:
            ctx.default_map = default_map(load_toml(value), root, str(value))
        return value

    return click.option(
        "--config", type=click.Path(path_type=Path, dir_okay=False), envvar=CONFIG_ENV,
        show_envvar=True, is_eager=True, expose_value=False, callback=load,
        help="TOML file of defaults: top-level keys for these options, tables [relay], "
             "[host] and [up] for the subcommands. Flags and HEARTH_* variables win.",
    )


# ---- showing the effective configuration --------------------------------------------

def toml_value(value: object) -> str:
    """A TOML literal for an option's value (strings as JSON-escaped basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return orjson.dumps(str(value)).decode()


def _source(ctx: click.Context, option: click.Option) -> str:
    found = ctx.get_parameter_source(str(option.name))
    if found is ParameterSource.COMMANDLINE:
        return "flag"
    if found is ParameterSource.ENVIRONMENT:
        return f"env {option.envvar}"
    if found is ParameterSource.DEFAULT_MAP:
        return "config file"
    return "default"


def effective(ctx: click.Context) -> Iterator[str]:
    """``key = value  # source`` for every configurable option of ``ctx``'s command,
    as a TOML table a config file could hold (unset options are comments)."""
    assert ctx.command.name is not None
    section = ctx.command.name if ctx.parent is None or ctx.parent.parent is None \
        else ctx.parent.command.name
    yield f"[{section}]"
    for option in configurable(ctx.command):
        value = ctx.params.get(str(option.name))
        source = _source(ctx, option)
        if value is None or value == ():
            yield f"# {option.name} is unset  # {source}"
        else:
            yield f"{option.name} = {toml_value(value)}  # {source}"
