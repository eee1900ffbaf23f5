"""python -m ops <command>: the project's one command line (docs/commands.md).

Global options mean the same for every command, before or after its name:

  --env NAMES    the environments to act on, comma separated (environments/<name>.toml);
                 default $ENV. A command that acts on one environment refuses a list; one
                 that takes a list (status, cost, ...: its --help says) defaults to all.
  --target T     emulator (the local AWS emulator `make up` starts) or aws (the credentials
                 the shell has); default $DEPLOY_TARGET, else emulator.
  --out DIR      where the command writes (plans, pictures, HCL, stacks); its --help gives
                 the default.
  --service NAME with several services per environment ([services.<name>]), the one to act
                 on; default: the only one (status: all of them).

Exit status: 0 done, 1 failed, 2 refused or bad input (nothing was changed); what went wrong
is one line `error: ...` on stderr. `python -m ops <command> --help` for each command.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

from ops.errors import BadInput, exit_code

PROG = "python -m ops"
TARGETS = ("emulator", "aws")

# Every command, in the order --help lists them; each is ops/commands/<name with _>.py.
COMMANDS = ("up", "down", "synth", "plan", "apply", "image", "release", "promote", "rollback",
            "unlock", "status", "smoke", "logs", "exec", "run", "secrets", "drift", "cost",
            "diagram", "hcl", "addresses", "environments", "ci-vars", "provider", "docs",
            "comment", "reviewed", "fork-skipped")

# What a command module declares about the global options (ENV: which --env it takes;
# SERVICE, optional: whether it takes --service).
ONE, MANY = "one", "many"


def takes_service(module: ModuleType) -> bool:
    return getattr(module, "SERVICE", False)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str):  # wide enough that each command's summary is one line
        super().__init__(prog, max_help_position=20, width=120)


class Parser(argparse.ArgumentParser):
    """Bad input is one line naming the problem and where the help is, never the usage block."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise BadInput(f"{message} ({self.prog} --help)")


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"ops.commands.{name.replace('-', '_')}")


def summary(module: ModuleType) -> str:
    """A command's one line: the first line of its module's docstring."""
    return module.__doc__.strip().splitlines()[0]


def reference() -> str:
    """docs/commands.md's table of every command, from the command modules themselves."""
    takes = {ONE: "one", MANY: "a list (all by default)", None: ""}
    rows = ["| command | --env | --target | --out | what it does |", "|---|---|---|---|---|"]
    for name in COMMANDS:
        module = command_module(name)
        cells = [f"`{name}`", takes[module.ENV], "yes" if module.TARGET else "",
                 module.OUT or "", summary(module)]
        rows.append("| " + " | ".join(cell.replace("<", "&lt;") for cell in cells) + " |")
    return "\n".join(rows)


def add_global_options(parser: argparse.ArgumentParser, module: ModuleType | None = None) -> None:
    """--env, --target and --out on the main parser (module None: all three) or on a command's
    (those it takes). SUPPRESS: an option left out after the name keeps one given before it."""
    group = parser.add_argument_group("global options (before or after the command)")
    env = MANY if module is None else module.ENV
    if env:
        group.add_argument("--env", default=argparse.SUPPRESS,
                           metavar="NAME" if env == ONE else "NAMES",
                           help="the environment (default $ENV)" if env == ONE else
                           "comma-separated environments (default $ENV, else all)")
    if module is None or module.TARGET:
        group.add_argument("--target", choices=TARGETS, default=argparse.SUPPRESS,
                           help="default $DEPLOY_TARGET, else emulator")
    if module is None or takes_service(module):
        group.add_argument("--service", default=argparse.SUPPRESS, metavar="NAME",
                           help="with several services per environment, the one to act on "
                           "(default: the only one)")
    out = "where the command writes" if module is None else module.OUT
    if out:
        group.add_argument("--out", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                           help=out)


def parser(argv: list[str] | None = None) -> Parser:
    """Every command with its one line; the options of those named in `argv` (default all)."""
    top = Parser(prog=PROG, description=__doc__.split("\n\n", 1)[1].rsplit("\n\n", 1)[0],
                 epilog=__doc__.rsplit("\n\n", 1)[1])
    add_global_options(top)
    commands = top.add_subparsers(dest="command", metavar="<command>", required=True,
                                  parser_class=Parser)
    for name in COMMANDS:
        module = command_module(name)
        sub = commands.add_parser(name, help=summary(module), description=module.__doc__)
        if hasattr(module, "arguments") and (argv is None or name in argv):
            module.arguments(sub)
        add_global_options(sub, module)
    return top


def resolve(args: argparse.Namespace, module: ModuleType) -> argparse.Namespace:
    """The global options with their defaults; refuse one the command does not take."""
    given = vars(args)
    for option, takes in (("env", module.ENV), ("target", module.TARGET), ("out", module.OUT),
                          ("service", takes_service(module))):
        if option in given and not takes:
            raise BadInput(f"{args.command} takes no --{option} ({PROG} {args.command} --help)")
    if module.ENV:
        args.env = given.get("env") or os.environ.get("ENV") or None
        if module.ENV == ONE and args.env and "," in args.env:
            raise BadInput(f"--env {args.env}: {args.command} acts on one environment; "
                           "name one")
    if module.TARGET:
        args.target = given.get("target") or os.environ.get("DEPLOY_TARGET") or TARGETS[0]
        if args.target not in TARGETS:
            raise BadInput(f"DEPLOY_TARGET = {args.target!r}: expected {' or '.join(TARGETS)}")
    if module.OUT:
        args.out = given.get("out")
    if takes_service(module):
        args.service = given.get("service")
    return args


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line as its command reads it, without running anything (BadInput if bad)."""
    args, unknown = parser(argv).parse_known_args(argv)
    if unknown:
        raise BadInput(f"unrecognized arguments: {' '.join(unknown)} "
                       f"({PROG} {args.command} --help)")
    return resolve(args, command_module(args.command))


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit status (the error table in ops/errors.py)."""
    try:
        args = parse(list(sys.argv[1:] if argv is None else argv))
        return command_module(args.command).run(args) or 0
    except SystemExit as done:  # --help
        return done.code or 0
    except BrokenPipeError:  # the reader stopped early (| head): not a failure
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        code = exit_code(error)
        if code is None:
            raise
        print(f"error: {error}", file=sys.stderr)
        return code


def alias(argv: list[str] | None, command: str | None = None,
          commands: dict[str, str] | None = None, renames: dict[str, str] | None = None) -> int:
    """An old `python -m ops.<module>` form, deprecated for one release (docs/commands.md):
    the same as `python -m ops <command>`. `commands` maps the old subcommand to the new
    command; `renames` an old option's spelling to the new one."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if commands:
        old = next((word for word in argv if word in commands), None)
        if old not in commands:
            print(f"error: expected one of {', '.join(commands)} ({PROG} --help)",
                  file=sys.stderr)
            return BadInput.exit_code
        argv.remove(old)
        command = commands[old]
    for old, new in (renames or {}).items():
        argv = [new if word == old else new + word[len(old):] if word.startswith(old + "=")
                else word for word in argv]
    return main([command, *argv])
