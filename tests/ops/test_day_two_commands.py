"""The day-two commands (`python -m ops logs|exec|run|secrets`, ops/commands/) against the
emulator: each finds the service by the names its environment file derives (environments/uat.toml
under fresh names, ENVIRONMENTS_DIR), prints what the library says, exits with the right status,
and says what is wrong in one line."""

import io
import time
import uuid

import pytest
from helpers import uat_toml_named

from ops import cli
from ops.service_tasks import running_tasks


@pytest.fixture(scope="module")
def aws(admin_client):
    return admin_client


@pytest.fixture(autouse=True)
def on_the_emulator(monkeypatch, enforcing_emulator):
    """--target's default (the emulator) is this module's emulator; nothing comes from the shell."""
    monkeypatch.setenv("EMULATOR_PORT", str(enforcing_emulator.port))
    for name in ("ENV", "DEPLOY_TARGET", "TF_PROVIDER_MIRROR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def uat(tmp_path, monkeypatch, make_service):
    """uat(**settings): an environment uat of its own names whose service runs on the emulator
    (make_service's settings); returns that service, named as the app stack names it. With
    applied=False: only the environment file; returns its prefix (<prefix>-uat: the service)."""
    def make(applied=True, **settings):
        prefix = f"d2{uuid.uuid4().hex[:6]}"
        folder = tmp_path / prefix
        folder.mkdir()
        (folder / "uat.toml").write_text(uat_toml_named(prefix))
        monkeypatch.setenv("ENVIRONMENTS_DIR", str(folder))
        return make_service(name=f"{prefix}-uat", **settings) if applied else prefix
    return make


def ops(capsys, *argv):
    """(exit status, stdout lines, stderr lines) of `python -m ops <argv>`."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def task_ids(aws, service):
    return [task["taskArn"].rsplit("/", 1)[-1] for task in running_tasks(aws("ecs"), service)]


# --- logs --------------------------------------------------------------------------------------

def test_logs_since_filter_and_task(aws, uat, write_log, capsys):
    service = uat()
    first, second = running_tasks(aws("ecs"), service)
    write_log(service, first["taskArn"], "two hours ago", at=time.time() - 7200)
    write_log(service, first["taskArn"], "GET / 200")
    write_log(service, second["taskArn"], "GET / 500")
    first_id, second_id = task_ids(aws, service)
    code, out, err = ops(capsys, "logs", "--env", "uat")
    assert (code, err) == (0, [])
    assert [line.split(" ", 2)[::2] for line in out] == \
        [[first_id, "GET / 200"], [second_id, "GET / 500"]]
    assert ops(capsys, "logs", "--env", "uat", "--since", "3h")[1][0].endswith(" two hours ago")
    assert [line.split(" ", 2)[2] for line in
            ops(capsys, "logs", "--env", "uat", "--filter", "500")[1]] == ["GET / 500"]
    only = ops(capsys, "logs", "--env", "uat", "--since", "1d", "--task", first_id)[1]
    assert [line.split(" ", 2)[2] for line in only] == ["two hours ago", "GET / 200"]
    assert ops(capsys, "logs", "--env", "uat", "--filter", "nowhere") == \
        (0, [], [f"no log lines of {service.name} in the last 10m"])


def test_logs_follow_ends_with_ctrl_c(aws, uat, write_log, capsys, monkeypatch):
    service = uat()
    write_log(service, running_tasks(aws("ecs"), service)[0]["taskArn"], "ready")

    def interrupted(seconds):
        raise KeyboardInterrupt
    monkeypatch.setattr("ops.service_tasks.time.sleep", interrupted)
    code, out, err = ops(capsys, "logs", "--env", "uat", "--follow")
    assert (code, err) == (0, []) and out[0].endswith(" ready")


@pytest.mark.parametrize("since", ["10 minutes", "5", "1w", "0m", "-1h"])
def test_logs_with_a_bad_since_is_one_line_exit_2(since, capsys):
    code, out, err = ops(capsys, "logs", "--env", "uat", f"--since={since}")
    assert (code, out) == (2, [])
    assert err == [f"error: --since {since!r}: expected a number above 0 and s, m, h or d, "
                   "e.g. 30s, 10m, 2h, 1d"]


def test_logs_of_an_environment_not_applied_says_so(uat, capsys):
    prefix = uat(applied=False)
    code, _, err = ops(capsys, "logs", "--env", "uat")
    assert (code, err) == (2, [f"error: no log group /ecs/{prefix}-uat: apply the app stack of "
                               f"{prefix}-uat first"])


# --- exec --------------------------------------------------------------------------------------

def test_exec_on_the_emulator_opens_a_session(aws, uat, capsys):
    service = uat()
    oldest, newest = task_ids(aws, service)
    code, out, err = ops(capsys, "exec", "--env", "uat", "--command", "ls /")
    assert (code, err) == (0, [])
    (line,) = out
    assert line.startswith("ECS Exec session ") and f"opened on task {newest};" in line
    assert "the emulator runs no containers" in line
    assert f"on task {oldest};" in ops(capsys, "exec", "--env", "uat", "--task", oldest)[1][0]


def test_exec_refused_or_on_no_task_is_one_line_exit_2(aws, uat, capsys):
    off = uat(exec_enabled=False)
    code, out, err = ops(capsys, "exec", "--env", "uat")
    assert (code, out) == (2, [])
    assert len(err) == 1 and err[0].startswith(f"error: ECS Exec is off for {off.name} ")
    code, _, err = ops(capsys, "exec", "--env", "uat", "--task", "nope")
    assert code == 2 and err[0].startswith("error: --task nope: not a running task of")


def test_exec_whose_agent_stopped_names_the_read_only_root(aws, uat, capsys):
    sealed = uat(read_only_root=True)
    newest = task_ids(aws, sealed)[-1]
    code, out, err = ops(capsys, "exec", "--env", "uat")
    assert (code, out) == (1, [])
    assert err == [f"error: task {newest} has ECS Exec on but its agent is STOPPED: it stops on "
                   "a read-only root file system (set read_only_root_filesystem = false, apply "
                   "and release again), or it is still starting (try again in a minute)"]


# --- run ---------------------------------------------------------------------------------------

def test_run_streams_the_task_log_and_exits_with_its_code(aws, uat, capsys):
    service = uat()
    code, out, err = ops(capsys, "run", "--env", "uat", "--poll", "0.1", "--",
                         "sh", "-c", "echo migrating; echo --env stays; exit 3")
    assert (code, err) == (3, [])
    assert out[0].startswith("task ") and f"started from {service.name}:" in out[0]
    assert out[1:3] == ["migrating", "--env stays"] and out[-1].endswith(" exited with 3")
    started = aws("ecs").list_tasks(cluster=service.cluster, startedBy="ops-run")["taskArns"]
    assert len(started) == 1
    assert ops(capsys, "run", "--env", "uat", "--timeout", "60", "--poll", "0.1", "--",
               "true")[0] == 0


def test_run_without_a_command_or_a_service_is_one_line_exit_2(uat, capsys):
    assert ops(capsys, "run", "--env", "uat") == (2, [], [
        "error: run: give the task's command after --, e.g. python -m ops run --env uat -- "
        "./migrate up"])
    prefix = uat(applied=False)
    code, _, err = ops(capsys, "run", "--env", "uat", "--", "true")
    assert (code, err) == (2, [f"error: no ECS service {prefix}-uat in cluster {prefix}-uat: "
                               "apply its app stack first"])


# --- secrets -----------------------------------------------------------------------------------

@pytest.fixture
def with_secrets(aws, uat, tmp_path):
    """uat's service with two secrets in its [service] table: an SSM parameter not written yet,
    a Secrets Manager one."""
    prefix = uat(applied=False)
    arn = aws("secretsmanager").create_secret(Name=f"{prefix}/token",
                                              SecretString="first")["ARN"]
    secrets = {"DB_PASSWORD": f"/{prefix}/db-password", "TOKEN": arn}
    toml = tmp_path / prefix / "uat.toml"
    table = ", ".join(f'{name} = "{value}"' for name, value in secrets.items())
    toml.write_text(toml.read_text().replace(
        "[service]\n", f"[service]\nsecrets = {{ {table} }}\n", 1))
    return secrets


def test_secrets_set_writes_a_secure_string_from_stdin_and_never_prints_it(
        aws, with_secrets, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-value\n"))
    code, out, err = ops(capsys, "secrets", "set", "DB_PASSWORD", "--env", "uat")
    assert (code, err) == (0, [])
    assert out == [f"{with_secrets['DB_PASSWORD']}: new version written (SSM SecureString, "
                   "key alias/aws/ssm)"]
    parameter = aws("ssm").get_parameter(Name=with_secrets["DB_PASSWORD"],
                                         WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", "s3cret-value")
    monkeypatch.setattr("sys.stdin", io.StringIO("t0ken"))
    assert ops(capsys, "secrets", "set", "TOKEN", "--env", "uat") == \
        (0, [f"{with_secrets['TOKEN']}: new version written (Secrets Manager)"], [])
    assert aws("secretsmanager").get_secret_value(
        SecretId=with_secrets["TOKEN"])["SecretString"] == "t0ken"


def test_secrets_list_shows_names_references_and_dates_never_a_value(
        aws, with_secrets, capsys, monkeypatch):
    code, out, err = ops(capsys, "secrets", "list", "--env", "uat")
    assert (code, err) == (0, [])
    assert [line.split() for line in out] == [
        ["DB_PASSWORD", with_secrets["DB_PASSWORD"], "missing"],
        ["TOKEN", with_secrets["TOKEN"], out[1].split()[2]]]
    assert out[1].split()[2].startswith(time.strftime("%Y-"))
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-value"))
    ops(capsys, "secrets", "set", "DB_PASSWORD", "--env", "uat")
    listed = ops(capsys, "secrets", "list", "--env", "uat")[1]
    assert listed[0].split()[2] != "missing"
    assert not any("s3cret" in line or "first" in line for line in listed)


@pytest.mark.parametrize("argv, message", [
    (["set", "API_KEY"], "API_KEY: not a secret of {service}; its secrets: DB_PASSWORD, TOKEN"),
    (["set"], "secrets set: name the secret (secrets set NAME)"),
    (["list", "TOKEN"], "secrets list: takes no NAME (TOKEN)"),
])
def test_secrets_with_an_unknown_or_missing_name_is_one_line_exit_2(
        argv, message, with_secrets, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("never read"))
    code, out, err = ops(capsys, "secrets", *argv, "--env", "uat")
    service = with_secrets["DB_PASSWORD"].split("/")[1] + "-uat"
    assert (code, out, err) == (2, [], ["error: " + message.format(service=service)])


def test_secrets_of_a_service_without_any_say_how_to_add_them(uat, capsys):
    uat(applied=False)
    code, _, err = ops(capsys, "secrets", "list", "--env", "uat")
    assert code == 2 and err[0].startswith("error: uat's service has no secrets: add secrets = ")
