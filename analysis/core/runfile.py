"""Run files: ``run --config FILE.toml`` and the record of how a bundle was made.

A run file holds the options of a command as TOML keys named like the long options (``-`` and
``_`` alike: ``eval_fraction = 0.25``, ``no_baselines = true``, ``clip = ["ViT-B-32:openai"]``).
Options given on the command line win over the file; paths in the file are relative to the file's
folder. After a run the bundle's manifest lists, under ``runs``, the effective configuration and
the command that makes the same bundle again.
"""

from __future__ import annotations

import argparse
import copy
import json
import shlex
from pathlib import Path
from typing import Any

from analysis.core import bundle

RUNS = "runs"                 # manifest key: one entry per command that wrote into the bundle
COMMAND_PREFIX = "python -m analysis"
NOT_RECORDED = ("config", "quiet", "force", "if_missing",  # how this invocation behaved, not what the bundle holds
                "ray", "ray_actors", "ray_gpus")
RELAXED = "_cornlens_required_unless_run_file"


class RunFileError(Exception):
    """A run file cannot be used; the message names the file and the key."""


# --- the options of a command ---------------------------------------------------------------------

def key_name(option: str) -> str:
    """The run-file key of a long option: ``--eval-fraction`` → ``eval_fraction``."""
    return option.lstrip("-").replace("-", "_")


def option_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Run-file key → argparse action, for every long option of ``parser`` except help and config."""
    actions = {}
    for action in parser._actions:  # argparse has no public list of a parser's options
        long_options = [option for option in action.option_strings if option.startswith("--")]
        if long_options and action.dest not in ("help", "config"):
            actions[key_name(long_options[0])] = action
    return actions


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--config FILE.toml``; options that are required become required "unless the run file has them"."""
    parser.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="run file: TOML with the options of this command as keys (e.g. eval_fraction = "
                             "0.25, clip = [\"ViT-B-32:openai\"]); options on the command line win")
    relaxed = []
    for action in parser._actions:
        if action.required:
            action.required = False
            relaxed.append(action)
    setattr(parser, RELAXED, relaxed)


# --- reading a run file ---------------------------------------------------------------------------

def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def _scalar(action: argparse.Action, key: str, value: Any, base: Path, where: str) -> Any:
    """One value of ``key`` converted as the command line would convert it; RunFileError when it cannot be."""
    kind = action.type
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise RunFileError(f"{where}: key {key!r} must be an integer, got {_describe(value)}.")
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RunFileError(f"{where}: key {key!r} must be a number, got {_describe(value)}.")
        value = float(value)
    elif kind is Path:
        if not isinstance(value, str) or not value:
            raise RunFileError(f"{where}: key {key!r} must be a path (a string), got {_describe(value)}.")
        path = Path(value).expanduser()
        value = path if path.is_absolute() else base / path
    elif kind is None or kind is str:
        if not isinstance(value, str):
            raise RunFileError(f"{where}: key {key!r} must be a string, got {_describe(value)}.")
    else:  # a parsing function such as the comma-separated class list: give it the text
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            value = ",".join(value)
        if not isinstance(value, str):
            raise RunFileError(f"{where}: key {key!r} must be a string or a list of strings, got {_describe(value)}.")
        value = kind(value)
    if action.choices is not None and value not in action.choices:
        raise RunFileError(f"{where}: key {key!r} must be one of {', '.join(map(str, action.choices))}, "
                           f"got {value!r}.")
    return value


def _value(action: argparse.Action, key: str, value: Any, base: Path, where: str) -> Any:
    """The namespace value for ``key``: flags take true/false, repeatable options a list."""
    if action.nargs == 0:  # a flag such as --tta or --no-baselines
        if not isinstance(value, bool):
            raise RunFileError(f"{where}: key {key!r} must be true or false, got {_describe(value)}.")
        return action.const if value else action.default
    if isinstance(action, argparse._AppendAction):
        items = value if isinstance(value, list) else [value]
        return [_scalar(action, key, item, base, where) for item in items]
    return _scalar(action, key, value, base, where)


def read_run_file(path: str | Path, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """The options a run file sets, converted as the command line converts them.

    Args:
        path: the TOML file.
        parser: the command's parser (its long options are the allowed keys).

    Returns:
        argparse destination → value. Raises :class:`RunFileError` naming the file and the key.
    """
    path = Path(path).expanduser()
    try:
        import tomllib  # standard library from Python 3.11
    except ModuleNotFoundError as error:
        raise RunFileError(f"{path}: run files need Python 3.11 or newer (tomllib); give the options on the "
                           "command line instead.") from error
    try:
        with open(path, "rb") as handle:
            content = tomllib.load(handle)
    except FileNotFoundError as error:
        raise RunFileError(f"{path}: run file not found.") from error
    except (OSError, UnicodeDecodeError) as error:
        raise RunFileError(f"{path}: run file cannot be read ({error}).") from error
    except tomllib.TOMLDecodeError as error:
        raise RunFileError(f"{path}: not valid TOML ({error}).") from error
    actions = option_actions(parser)
    values: dict[str, Any] = {}
    for raw_key, value in content.items():
        key = key_name(raw_key)
        if key not in actions:
            raise RunFileError(f"{path}: unknown key {raw_key!r}; the keys are the long options of the command: "
                               f"{', '.join(sorted(actions))}.")
        action = actions[key]
        if action.dest in values:
            raise RunFileError(f"{path}: key {raw_key!r} sets the same option as another key.")
        values[action.dest] = _value(action, raw_key, value, path.resolve().parent, str(path))
    return values


# --- merging with the command line ----------------------------------------------------------------

def given_on_command_line(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The argparse destinations that ``argv`` sets explicitly (abbreviations and ``--opt=value`` included)."""
    silent = copy.deepcopy(parser)
    for action in silent._actions:
        action.default, action.required = argparse.SUPPRESS, False
    return set(vars(silent.parse_args(argv)))


def apply_run_file(parser: argparse.ArgumentParser, argv: list[str], args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with the run file's values for every option not given on the command line.

    Args:
        parser: the command's parser (with :func:`add_config_option`).
        argv: the command's own arguments (after the command name).
        args: the namespace the parser made of ``argv``.
    """
    merged = argparse.Namespace(**vars(args))
    if getattr(args, "config", None) is not None:
        given = given_on_command_line(parser, argv)
        for dest, value in read_run_file(args.config, parser).items():
            if dest not in given:
                setattr(merged, dest, value)
    missing = [action for action in getattr(parser, RELAXED, []) if getattr(merged, action.dest, None) is None]
    if missing:
        parser.error("the following arguments are required: "
                     + ", ".join(f"{action.option_strings[-1]} (or {key_name(action.option_strings[-1])} in "
                                 "the run file)" for action in missing))
    return merged


# --- the record in the bundle ---------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """A TOML/JSON-ready value: paths absolute, lists element-wise."""
    if isinstance(value, Path):
        return str(value.expanduser().resolve())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def effective_config(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """Run-file key → value of every option that says what the bundle holds (paths made absolute)."""
    config = {}
    for key, action in option_actions(parser).items():
        if action.dest in NOT_RECORDED or not hasattr(args, action.dest):
            continue
        value = getattr(args, action.dest)
        if action.nargs == 0:
            value = value == action.const
        if value is not None:
            config[key] = _plain(value)
    return config


def command_line(command: str, parser: argparse.ArgumentParser, config: dict[str, Any]) -> str:
    """The shell command that gives ``config``: required options and every option off its default."""
    actions = option_actions(parser)
    words = [*COMMAND_PREFIX.split(), command]
    for key, value in config.items():
        action = actions[key]
        option = action.option_strings[-1]
        default = _plain(action.default)
        if action.nargs == 0:
            if value:
                words.append(option)
        elif isinstance(action, argparse._AppendAction):
            for item in value:
                words += [option, str(item)]
        elif value != default or action in getattr(parser, RELAXED, []):
            words += [option, ",".join(value) if isinstance(value, list) else str(value)]
    return shlex.join(words)


def run_record(command: str, parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """What the manifest keeps of one invocation: command, effective configuration, run file, time."""
    config = effective_config(parser, args)
    run_file = getattr(args, "config", None)
    return {"name": command, "command": command_line(command, parser, config), "config": config,
            "run_file": _plain(run_file) if run_file is not None else None, "finished": bundle.now()}


def record_run(path: str | Path, record: dict[str, Any]) -> None:
    """Add ``record`` to the bundle's ``runs`` (an earlier entry with the same configuration is replaced)."""
    def add(manifest: dict) -> None:
        earlier = [entry for entry in manifest.get(RUNS, []) if entry.get("config") != record["config"]]
        manifest[RUNS] = earlier + [record]

    bundle.update_manifest(path, add)


# --- showing the record ---------------------------------------------------------------------------

def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string


def to_toml(config: dict[str, Any]) -> str:
    """A run file for ``config`` (the flat keys :func:`effective_config` writes)."""
    return "".join(f"{key} = {_toml_value(value)}\n" for key, value in config.items())


def runs(manifest: dict) -> list[dict]:
    """The recorded invocations of a bundle, oldest first (empty for bundles made before they were recorded)."""
    return [entry for entry in manifest.get(RUNS, []) if isinstance(entry, dict) and entry.get("command")]


def with_command_parser(parser: argparse.ArgumentParser, argv: list[str], args: argparse.Namespace) -> argparse.Namespace:
    """``args`` of a ``parser`` with sub-commands, completed from the run file when the command takes one;
    ``command_parser`` holds the sub-command's parser (for :func:`run_record`)."""
    commands = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    command_parser = commands.choices[args.command]
    own_argv = argv[argv.index(args.command) + 1:]
    merged = apply_run_file(command_parser, own_argv, args)
    merged.command_parser = command_parser
    return merged
