"""The day-two library (ops/service_tasks.py) against the emulator: a service's logs (since, text,
one task, follow), ECS Exec (plugin missing, exec off, the session handed to the plugin), and a
one-off task from the service's current task definition (its log streamed, its exit code)."""

import json
import time
import uuid

import pytest

from ops.errors import BadInput, Failed, Refused
from ops.service_tasks import Service, log_lines, open_shell, run_one_off, running_tasks

REGION = "ap-south-1"


@pytest.fixture(scope="module")
def aws(admin_client):
    return admin_client


@pytest.fixture(scope="module")
def make_service(aws, awsvpc, task_role):
    return lambda **settings: running_service(aws, awsvpc, task_role, **settings)


def running_service(aws, network, role, exec_enabled=True, secrets=(),
                    role_actions=("ssmmessages:*",), running=2) -> Service:
    """A service shaped like the app stack's (Fargate, awsvpc, awslogs) with `running` tasks."""
    name = f"svc-{uuid.uuid4().hex[:6]}"
    service = Service(cluster=name, name=name, container="web", log_group=f"/ecs/{name}",
                      stream_prefix="web")
    ecs = aws("ecs")
    ecs.create_cluster(clusterName=name)
    aws("logs").create_log_group(logGroupName=service.log_group)
    ecs.register_task_definition(
        family=name, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", taskRoleArn=role(*role_actions), containerDefinitions=[{
            "name": "web", "image": "crccheck/hello-world", "essential": True,
            "secrets": [{"name": key, "valueFrom": value} for key, value in secrets],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": service.log_group, "awslogs-region": REGION,
                "awslogs-stream-prefix": "web"}}}])
    ecs.create_service(cluster=name, serviceName=name, taskDefinition=name, desiredCount=2,
                       launchType="FARGATE", networkConfiguration=network,
                       enableExecuteCommand=exec_enabled)
    deadline = time.monotonic() + 20
    while len(running_tasks(ecs, service)) < running:
        assert time.monotonic() < deadline, "the service's tasks never ran"
        time.sleep(0.05)
    return service


def write(aws, service, task_arn, *messages, at=None):
    logs = aws("logs")
    stream = service.stream(task_arn)
    try:
        logs.create_log_stream(logGroupName=service.log_group, logStreamName=stream)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    stamp = int((at or time.time()) * 1000)
    logs.put_log_events(logGroupName=service.log_group, logStreamName=stream,
                        logEvents=[{"timestamp": stamp + i, "message": message}
                                   for i, message in enumerate(messages)])


def test_logs_since_by_text_and_by_task(aws, make_service):
    service = make_service()
    first, second = running_tasks(aws("ecs"), service)
    write(aws, service, first["taskArn"], "old line", at=time.time() - 7200)
    write(aws, service, first["taskArn"], "GET / 200", "GET /health 200")
    write(aws, service, second["taskArn"], "GET / 500")
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


def test_logs_follow_prints_new_lines_once(aws, make_service):
    service = make_service()
    task = running_tasks(aws("ecs"), service)[0]["taskArn"]
    write(aws, service, task, "before")
    rounds = []

    def stop():
        rounds.append(1)
        if len(rounds) == 1:
            write(aws, service, task, "after")
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
