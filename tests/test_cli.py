"""python -m ops (ops/cli.py): every command's --help, the global options in both positions, the
error table (one line, the right exit status, no traceback), the old forms as aliases, and every
example command the README and docs/ show parses. Parsing only: nothing here runs a command."""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ops import cli
from ops.errors import EXIT_CODES, BadInput, Failed, OpsError, Refused, exit_code

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# The least each command needs to parse.
REQUIRED = {"release": ["--version", "v1"], "promote": ["--from", "uat", "--to", "prod"],
            "addresses": ["network-uat"], "comment": ["--pr", "7", "--body-file", "x.md"],
            "reviewed": ["--commit", "0" * 40, "--plans", "plans/uat"],
            "fork-skipped": ["--fork", "someone/fork"], "secrets": ["list"]}
# No old `python -m ops.<module>` form: synth's was main.py; the day-two commands are new.
NO_OLD_FORM = {"synth", "logs", "exec", "run", "secrets"}


@pytest.fixture(autouse=True)
def no_defaults_from_the_shell(monkeypatch):
    for name in ("ENV", "DEPLOY_TARGET", "ENVIRONMENTS"):
        monkeypatch.delenv(name, raising=False)


def run(*argv: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ops", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})


# --- The commands and their help ---------------------------------------------------------------

def test_every_command_module_is_registered_and_every_registered_command_has_one():
    files = {path.stem.replace("_", "-") for path in (ROOT / "ops" / "commands").glob("*.py")
             if path.stem != "__init__"}
    assert files == set(cli.COMMANDS)


def test_help_lists_every_command_with_one_line(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        line = f"{name:<16}{cli.summary(cli.command_module(name))}"
        assert [row.strip() for row in out.splitlines() if row.strip().startswith(name + " ")] \
            == [line.strip()], name


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_every_command_has_help_with_the_global_options_it_takes(name, capsys):
    assert cli.main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: python -m ops {name} ")
    usage = out.split("\n\n")[0]
    module = cli.command_module(name)
    for option, takes in (("--env", module.ENV), ("--target", module.TARGET),
                          ("--out", module.OUT)):
        assert (f"[{option} " in usage) == bool(takes), option


def test_python_s_lists_the_commands_without_the_installed_packages():
    # The workflows' first job runs `python -m ops environments` with nothing installed.
    result = subprocess.run([sys.executable, "-S", "-m", "ops", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in cli.COMMANDS)


# --- Global options: the same meaning, before or after the command -------------------------------

def argv_of(name: str) -> list[str]:
    return [name, *REQUIRED.get(name, [])]


def test_every_command_parses_with_what_it_requires():
    for name in cli.COMMANDS:
        assert cli.parse(argv_of(name)).command == name


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_global_options_mean_the_same_before_or_after_the_command(name, tmp_path):
    module = cli.command_module(name)
    given = {"env": ["--env", "uat"] if module.ENV else [],
             "target": ["--target", "aws"] if module.TARGET else [],
             "out": ["--out", str(tmp_path)] if module.OUT else []}
    flags = [word for words in given.values() for word in words]
    before, after = cli.parse([*flags, *argv_of(name)]), cli.parse([*argv_of(name), *flags])
    assert vars(before) == vars(after)
    if module.ENV:
        assert before.env == "uat"
    if module.TARGET:
        assert before.target == "aws"
    if module.OUT:
        assert before.out == tmp_path
    for option, words in given.items():
        if not words:  # a command refuses an option it does not take, in either position
            flag = {"env": ["--env", "uat"], "target": ["--target", "aws"],
                    "out": ["--out", "x"]}[option]
            for argv in ([*flag, *argv_of(name)], [*argv_of(name), *flag]):
                with pytest.raises(BadInput, match=f"--{option}"):
                    cli.parse(argv)


def test_defaults_come_from_env_and_deploy_target(monkeypatch):
    args = cli.parse(["plan"])
    assert (args.env, args.target, args.out) == (None, "emulator", None)
    monkeypatch.setenv("ENV", "prod")
    monkeypatch.setenv("DEPLOY_TARGET", "aws")
    args = cli.parse(["plan"])
    assert (args.env, args.target) == ("prod", "aws")
    assert cli.parse(["plan", "--env", "uat", "--target", "emulator"]).env == "uat"
    monkeypatch.setenv("DEPLOY_TARGET", "mars")
    with pytest.raises(BadInput, match="DEPLOY_TARGET = 'mars': expected emulator or aws"):
        cli.parse(["plan"])


def test_a_one_environment_command_refuses_a_list_a_multi_environment_one_takes_it():
    for name in cli.COMMANDS:
        module = cli.command_module(name)
        if module.ENV == cli.ONE:
            with pytest.raises(BadInput, match=f"--env uat,prod: {name} acts on one environment"):
                cli.parse([*argv_of(name), "--env", "uat,prod"])
        elif module.ENV == cli.MANY:
            assert cli.parse([*argv_of(name), "--env", "uat,prod"]).env == "uat,prod"


def test_a_one_environment_command_asks_for_it_when_nothing_names_it(capsys):
    assert cli.main(["rollback"]) == 2
    assert capsys.readouterr().err == \
        "error: --env: name the environment rollback acts on (or set $ENV)\n"


# --- One error table ---------------------------------------------------------------------------

def test_every_error_in_the_table_exists_and_the_most_specific_entry_wins():
    for name, code in EXIT_CODES.items():
        module, _, cls = name.rpartition(".")
        kind = getattr(importlib.import_module(module), cls)
        assert issubclass(kind, BaseException), name
        assert f"{kind.__module__}.{kind.__qualname__}" == name, f"{name}: defined elsewhere"
        assert code in (1, 2), name
    from config import ConfigError
    from ops.core.runner import TerraformError
    from ops.core.terraform import MirrorError
    from ops.deploy import DownRefused

    assert (exit_code(TerraformError("x")), exit_code(DownRefused("x"))) == (1, 2)
    assert (exit_code(ConfigError("x")), exit_code(MirrorError("x"))) == (2, 1)
    assert [exit_code(error("x")) for error in (OpsError, Failed, Refused, BadInput)] == \
        [1, 1, 2, 2]
    assert exit_code(ValueError("a bug")) is None


def test_a_mapped_error_is_one_line_and_a_bug_keeps_its_traceback(monkeypatch, capsys):
    from ops.deploy import DownRefused

    up = importlib.import_module("ops.commands.up")

    def refused(args):
        raise DownRefused("prod: not destroyed")

    monkeypatch.setattr(up, "run", refused)
    assert cli.main(["up", "--env", "prod"]) == 2
    assert capsys.readouterr().err == "error: prod: not destroyed\n"

    def bug(args):
        raise ValueError("a bug")

    monkeypatch.setattr(up, "run", bug)
    with pytest.raises(ValueError):
        cli.main(["up", "--env", "prod"])


def bad_environments(tmp_path) -> Path:
    for source in (ROOT / "environments").glob("*.toml"):
        (tmp_path / source.name).write_text(source.read_text())
    (tmp_path / "uat.toml").write_text("region = [\n")
    return tmp_path


@pytest.mark.parametrize("argv, env, message", [
    (["plan", "--env", "uat"], "bad", "uat.toml: not valid TOML"),
    (["up", "--env", "staging"], None, "ENVIRONMENTS = 'staging': unknown environment"),
    (["release", "--env", "uat,prod", "--version", "v1"], None,
     "--env uat,prod: release acts on one environment; name one"),
    (["--env", "uat,prod", "smoke"], None, "--env uat,prod: smoke acts on one environment"),
    (["status", "--env", "qa"], None, "ENVIRONMENTS = 'qa': unknown environment"),
    (["plan", "--env", "uat", "--frobnicate"], None,
     "unrecognized arguments: --frobnicate (python -m ops plan --help)"),
    (["sideways"], None, "invalid choice: 'sideways'"),
    # time.sleep(-1) was a traceback, --poll 0 a busy loop
    (["release", "--env", "uat", "--version", "v1", "--poll", "-1"], None,
     "argument --poll: '-1': expected seconds above 0"),
    (["run", "--env", "uat", "--poll", "0", "--", "true"], None,
     "argument --poll: '0': expected seconds above 0"),
    (["rollback", "--env", "prod", "--timeout", "soon"], None,
     "argument --timeout: 'soon': expected seconds above 0"),
    (["run", "--env", "uat", "--timeout", "inf", "--", "true"], None,
     "argument --timeout: 'inf': expected seconds above 0"),
])
def test_bad_input_is_one_line_exit_2_and_no_traceback(tmp_path, argv, env, message):
    extra = {"ENVIRONMENTS_DIR": str(bad_environments(tmp_path))} if env == "bad" else {}
    result = run(*argv, **extra)
    assert (result.returncode, result.stdout) == (2, "")
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line, line


# --- The old forms: thin aliases, documented in docs/commands.md ---------------------------------

def alias_rows() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "commands.md").read_text()
    return re.findall(r"^\| `python -m (ops\.\w+[^`]*)` \| `python -m ops ([^`]*)` \|$",
                      text, re.M)


def test_every_old_form_in_the_docs_runs_the_command_it_names(monkeypatch):
    rows = alias_rows()
    assert len(rows) >= 20
    seen = []
    monkeypatch.setattr(cli, "main", lambda argv: seen.append(argv) or 0)
    for old, new in rows:
        module, *words = old.split()
        assert importlib.import_module(module).main(words) == 0
        assert seen.pop() == new.split(), old
    assert {new.split()[0] for _, new in rows} >= set(cli.COMMANDS) - NO_OLD_FORM


def test_an_old_form_with_an_unknown_subcommand_is_one_line(capsys):
    from ops import deploy

    assert deploy.main(["sideways"]) == 2
    assert capsys.readouterr().err == "error: expected one of up, down (python -m ops --help)\n"


# --- Every documented example parses -------------------------------------------------------------

def documented_examples() -> list[tuple[str, str]]:
    """(page, argv text) of every `python -m ops <command> ...` the README and docs/ show (the
    deprecated table's are checked above)."""
    found = []
    for page in DOCS:
        text = page.read_text()
        if page.name == "commands.md":
            text = text.split("## Deprecated")[0]
        for match in re.finditer(r"python -m ops ([a-z][^`\n#;|]*)", text):
            text = re.sub(r"\s+\)?$|\)$", "", match.group(1).strip())
            found.append((page.name, text))
    return found


def example_argv(text: str) -> list[str]:
    """The example as argv: optional parts kept, placeholders given a value."""
    text = text.replace("[", "").replace("]", "")
    text = re.sub(r"<[^>]+>", "x", text)
    return [VALUES.get(word, word) for word in shlex.split(text)]


# The workflows' variables where an option takes only some values.
VALUES = {"$ALLOW_UNREVIEWED": "false"}


def test_the_docs_show_examples_of_most_commands():
    shown = {example_argv(text)[0] for _, text in documented_examples()}
    assert len(documented_examples()) > 40
    assert shown >= {"up", "down", "plan", "apply", "image", "release", "promote", "rollback",
                     "unlock", "status", "smoke", "cost", "diagram", "hcl", "addresses",
                     "environments", "ci-vars", "docs"}


@pytest.mark.parametrize("page, text", documented_examples())
def test_every_documented_example_parses(page, text):
    argv = example_argv(text)
    if len(argv) == 1 or "--help" in argv:  # the text names a command (or its help)
        assert argv[0] in cli.COMMANDS, f"{page}: {text}"
        return
    try:
        cli.parse(argv)
    except BadInput as error:
        pytest.fail(f"{page}: python -m ops {text}: {error}")


def test_the_docs_show_no_old_form_outside_the_deprecated_table():
    for page in DOCS:
        for line in page.read_text().splitlines():
            if page.name == "commands.md" and line.startswith("| `"):
                continue
            if page.name == "configuration.md" and line.startswith("| `"):
                continue  # generated from config/__init__.py's comments (ops.config_reference)
            old = re.findall(r"python -m (ops\.(?!emulator|config_reference\))\w+)", line)
            assert not old, f"{page.name}: {line}"


def test_the_command_table_is_generated_from_the_commands(capsys):
    assert cli.main(["docs", "--check"]) == 0
    page = (ROOT / "docs" / "commands.md").read_text()
    for name in cli.COMMANDS:
        assert f"| `{name}` |" in page


# --- What the glue does with a command's outcome -------------------------------------------------

def test_plan_exits_0_with_changes_and_says_so_in_its_outputs(tmp_path, monkeypatch, capsys):
    from ops import plan

    outcome = {"code": plan.CHANGES, "plans": [plan.StackPlan("network-uat", "changes")]}

    def fake_plan(environment, env, out, progress):
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.md").write_text("## the summary\n")
        return outcome["code"], outcome["plans"], out / "summary.md"

    monkeypatch.setattr(plan, "plan", fake_plan)
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    argv = ["plan", "--env", "uat", "--out", str(tmp_path / "plans"), "--summary", str(summary),
            "--github-output"]
    assert cli.main(argv) == 0
    assert output.read_text() == "changes=true\n"
    assert "(changes, " in capsys.readouterr().out
    assert summary.read_text() == "\n## the summary\n"
    outcome["code"] = plan.NO_CHANGES
    assert cli.main(argv) == 0
    assert output.read_text() == "changes=true\nchanges=false\n"
    outcome.update(code=plan.ERROR, plans=[plan.StackPlan(
        "app-uat", "error", message="app-uat: terraform plan failed")])
    assert cli.main(argv) == 1
    assert capsys.readouterr().err == "error: app-uat: terraform plan failed\n"
    assert summary.read_text().count("## the summary") == 3  # shown even when it failed
    monkeypatch.delenv("GITHUB_OUTPUT")
    assert cli.main(argv) == 2
    assert "GITHUB_OUTPUT is not set" in capsys.readouterr().err


def test_an_aws_error_on_the_emulator_is_one_line_with_the_likely_cause(monkeypatch, capsys):
    from botocore.exceptions import EndpointConnectionError

    from ops import commands

    def unreachable(args, names, **_):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    monkeypatch.setattr(commands, "release_targets", unreachable)
    assert cli.main(["status", "--env", "uat"]) == 1
    assert capsys.readouterr().err == ('error: Could not connect to the endpoint URL: '
                                       '"http://127.0.0.1:9" (is the emulator running? make up)\n')
    assert cli.main(["status", "--env", "uat", "--target", "aws"]) == 1
    assert "make up" not in capsys.readouterr().err
