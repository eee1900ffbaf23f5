"""The day-two library (ops/service_tasks.py) against the emulator: a service's logs (since, text,
one task, follow), ECS Exec (plugin missing, exec off, the session handed to the plugin), and a
one-off task from the service's current task definition (its log streamed, its exit code)."""

import json
import time

import pytest

from ops.errors import BadInput, Failed, Refused
from ops.service_tasks import Service, log_lines, open_shell, run_one_off, running_tasks

REGION = "ap-south-1"


@pytest.fixture(scope="module")
def aws(admin_client):
    return admin_client


def test_past_a_hundred_tasks_every_one_is_found(aws, make_service):
    # ListTasks pages by 100 and DescribeTasks takes 100 at most (AWS; the emulator as well).
    service = make_service(running=101)
    tasks = running_tasks(aws("ecs"), service)
    assert len({task["taskArn"] for task in tasks}) == 101
    page = aws("ecs").list_tasks(cluster=service.cluster, serviceName=service.name)
    assert len(page["taskArns"]) == 100 and page["nextToken"]


def test_logs_since_by_text_and_by_task(aws, make_service, write_log):
    service = make_service()
    first, second = running_tasks(aws("ecs"), service)
    write_log(service, first["taskArn"], "old line", at=time.time() - 7200)
    write_log(service, first["taskArn"], "GET / 200", "GET /health 200")
    write_log(service, second["taskArn"], "GET / 500")
    lines = []
    assert log_lines(aws("logs"), service, since_seconds=600, say=lines.append) == 3
    assert not any("old line" in line for line in lines)
    first_id = first["taskArn"].rsplit("/", 1)[-1]
    assert lines[0].startswith(f"{first_id} ") and lines[0].endswith(" GET / 200")
    only = []
    log_lines(aws("logs"), service, since_seconds=600, text="500", say=only.append)
    assert [line.split(" ", 2)[2] for line in only] == ["GET / 500"]
    one_task = []
    log_lines(aws("logs"), service, since_seconds=600, task=second["taskArn"],
              say=one_task.append)
    assert len(one_task) == 1 and "500" in one_task[0]


def test_logs_follow_prints_new_lines_once(aws, make_service, write_log):
    service = make_service()
    task = running_tasks(aws("ecs"), service)[0]["taskArn"]
    write_log(service, task, "before")
    rounds = []

    def stop():
        rounds.append(1)
        if len(rounds) == 1:
            write_log(service, task, "after")
        return len(rounds) > 2
    lines = []
    log_lines(aws("logs"), service, since_seconds=60, follow=True, poll=0.01, stop=stop,
              say=lines.append)
    assert [line.split(" ", 2)[2] for line in lines] == ["before", "after"]


def test_logs_of_a_missing_group_is_one_line(aws):
    missing = Service("c", "nothing", "web", "/ecs/nothing", "web")
    with pytest.raises(BadInput, match="no log group /ecs/nothing: apply the app stack"):
        log_lines(aws("logs"), missing, since_seconds=60)


def test_exec_hands_the_session_to_the_plugin(aws, make_service):
    service = make_service()
    calls = []
    code = open_shell(aws("ecs"), service, region=REGION, command="ls /", plugin="/opt/smp",
                      run=lambda argv: calls.append(argv) or 0)
    assert code == 0
    (argv,) = calls
    assert argv[0] == "/opt/smp" and argv[2:4] == [REGION, "StartSession"]
    assert json.loads(argv[1])["streamUrl"].startswith("wss://ssmmessages.")
    newest = running_tasks(aws("ecs"), service)[-1]["taskArn"].rsplit("/", 1)[-1]
    assert json.loads(argv[5])["Target"].startswith(f"ecs:{service.cluster}_{newest}_")


def test_exec_without_the_plugin_or_with_exec_off_says_what_to_do(aws, make_service):
    service = make_service()
    with pytest.raises(BadInput, match="session-manager-plugin is not installed"):
        open_shell(aws("ecs"), service, region=REGION, plugin="")
    said = []
    assert open_shell(aws("ecs"), service, region=REGION, emulator=True, plugin="",
                      say=said.append) == 0
    assert "no shell to attach to" in said[0]
    off = make_service(exec_enabled=False)
    with pytest.raises(Refused, match="ECS Exec is off for"):
        open_shell(aws("ecs"), off, region=REGION, plugin="/opt/smp", run=lambda argv: 0)
    with pytest.raises(BadInput, match="not a running task of"):
        open_shell(aws("ecs"), service, region=REGION, task="nope", plugin="/opt/smp")
    unreachable = make_service(role_actions=("s3:GetObject",))
    with pytest.raises(Failed, match="ECS Exec agent could not connect: its task role needs"):
        open_shell(aws("ecs"), unreachable, region=REGION, plugin="/opt/smp", run=lambda a: 0)


def test_run_streams_the_task_log_and_returns_its_exit_code(aws, make_service):
    service = make_service()
    said = []
    code = run_one_off(aws("ecs"), aws("logs"), service,
                       ["sh", "-c", "echo migrating; echo 2 tables; exit 4"], poll=0.02,
                       say=said.append)
    assert code == 4
    assert said[1:3] == ["migrating", "2 tables"] and said[-1].endswith("exited with 4")
    started = aws("ecs").list_tasks(cluster=service.cluster, startedBy="ops-run")["taskArns"]
    assert len(started) == 1


def test_run_that_cannot_start_or_has_no_service_is_one_line(aws, make_service):
    broken = make_service(secrets=[("DB", "/nowhere/db")], running=0)  # its tasks cannot start
    with pytest.raises(Failed, match="failed to start: ResourceInitializationError"):
        run_one_off(aws("ecs"), aws("logs"), broken, ["true"], poll=0.02, say=lambda _: None)
    missing = Service("nocluster", "nothing", "web", "/ecs/nothing", "web")
    with pytest.raises(BadInput, match="no ECS service nothing in cluster nocluster"):
        run_one_off(aws("ecs"), aws("logs"), missing, ["true"])
