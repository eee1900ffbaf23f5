"""ECS tasks that run in the emulator (ops/emulator/patches/ecs_tasks.py): a one-off task runs its
command, writes its log stream and stops with the command's exit code; its secrets reach it only
when they exist and its execution role may read them; a service's tasks are listed; ECS Exec
answers with a session only where AWS would. moto 5.2.1 alone fails or differs in each test.
Runs moto in this process, IAM enforced for the roles the tasks use."""

import json
import time
import uuid

import pytest
from botocore.exceptions import ClientError

REGION = "ap-south-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def aws(admin_client):
    return admin_client


@pytest.fixture(scope="module")
def place(aws, awsvpc):
    """A cluster and a log group to run tasks in, and their network."""
    aws("ecs").create_cluster(clusterName="tasks")
    aws("logs").create_log_group(logGroupName="/ecs/tasks")
    return awsvpc


def task_definition(aws, secrets=(), execution_role=None, task_role=None,
                    read_only_root=False) -> str:
    """The app stack's shape: Fargate, awsvpc, no container memory, awslogs."""
    family = f"f-{uuid.uuid4().hex[:8]}"
    roles = {**({"executionRoleArn": execution_role} if execution_role else {}),
             **({"taskRoleArn": task_role} if task_role else {})}
    aws("ecs").register_task_definition(
        family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", **roles, containerDefinitions=[{
            "name": "web", "image": "crccheck/hello-world", "essential": True,
            "readonlyRootFilesystem": read_only_root,
            "environment": [{"name": "STAGE", "value": "uat"}],
            "secrets": [{"name": name, "valueFrom": value} for name, value in secrets],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/tasks", "awslogs-region": REGION,
                "awslogs-stream-prefix": "web"}}}])
    return family


def run(aws, place, family, command=None, **extra) -> dict:
    """The task RunTask started, once DescribeTasks finds it (the first one does not)."""
    overrides = {"containerOverrides": [{"name": "web", "command": command}]} if command else {}
    task = aws("ecs").run_task(cluster="tasks", taskDefinition=family, launchType="FARGATE",
                               networkConfiguration=place, overrides=overrides,
                               **extra)["tasks"][0]
    assert describe(aws, task) == ([], [{"arn": task["taskArn"], "reason": "MISSING"}])
    assert describe(aws, task)[0]
    return task


def describe(aws, task: dict) -> tuple[list, list]:
    found = aws("ecs").describe_tasks(cluster="tasks", tasks=[task["taskArn"]])
    return found["tasks"], found["failures"]


def until_stopped(aws, task: dict, seconds: float = 20) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        described = aws("ecs").describe_tasks(cluster="tasks", tasks=[task["taskArn"]])["tasks"][0]
        if described["lastStatus"] == "STOPPED" or time.monotonic() > deadline:
            return described
        time.sleep(0.05)


def log_lines(aws, task: dict) -> list[str]:
    stream = f"web/web/{task['taskArn'].split('/')[-1]}"
    return [event["message"] for event in aws("logs").get_log_events(
        logGroupName="/ecs/tasks", logStreamName=stream)["events"]]


def test_a_one_off_task_runs_its_command_logs_and_exits_with_its_code(aws, place):
    family = task_definition(aws)
    task = run(aws, place, family, ["sh", "-c", "echo migrating $STAGE; echo done; exit 3"])
    assert task["lastStatus"] == "PROVISIONING"
    stopped = until_stopped(aws, task)
    assert stopped["lastStatus"] == "STOPPED"
    assert stopped["stopCode"] == "EssentialContainerExited"
    assert stopped["containers"][0]["exitCode"] == 3
    assert log_lines(aws, task) == ["migrating uat", "done"]


def test_stop_task_ends_a_running_command(aws, place):
    task = run(aws, place, task_definition(aws), ["sleep", "60"])
    deadline = time.monotonic() + 10
    while aws("ecs").describe_tasks(cluster="tasks", tasks=[task["taskArn"]])["tasks"][0][
            "lastStatus"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    stopped = aws("ecs").stop_task(cluster="tasks", task=task["taskArn"], reason="enough")["task"]
    assert (stopped["lastStatus"], stopped["stopCode"], stopped["stoppedReason"]) == \
        ("STOPPED", "UserInitiated", "enough")
    assert stopped["containers"][0]["exitCode"] == 143


def test_secrets_reach_the_container_when_the_execution_role_may_read_them(aws, place, task_role):
    aws("ssm").put_parameter(Name="/uat/db-password", Value="s3cret", Type="SecureString")
    secret = aws("secretsmanager").create_secret(
        Name="uat/api", SecretString=json.dumps({"token": "t0ken"}))["ARN"]
    reader = task_role("ssm:GetParameters", "secretsmanager:GetSecretValue")
    family = task_definition(aws, secrets=[
        ("DB_PASSWORD", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/uat/db-password"),
        ("API_TOKEN", f"{secret}:token::")], execution_role=reader)
    task = run(aws, place, family, ["sh", "-c", "echo $DB_PASSWORD $API_TOKEN"])
    stopped = until_stopped(aws, task)
    assert stopped["containers"][0]["exitCode"] == 0
    assert log_lines(aws, task) == ["s3cret t0ken"]


def test_a_task_whose_execution_role_may_not_read_its_secret_fails_to_start(aws, place, task_role):
    aws("ssm").put_parameter(Name="/uat/other", Value="x", Type="SecureString")
    family = task_definition(aws, secrets=[("OTHER", "/uat/other")],
                             execution_role=task_role("logs:CreateLogStream"))
    task = run(aws, place, family, ["true"])
    assert task["lastStatus"] == "STOPPED" and task["stopCode"] == "TaskFailedToStart"
    assert "ResourceInitializationError" in task["stoppedReason"]
    assert f"ssm:GetParameters on resource: arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/uat/other" \
        in task["stoppedReason"]


def test_a_task_whose_secret_does_not_exist_fails_to_start(aws, place, task_role):
    family = task_definition(aws, secrets=[("MISSING", "/uat/missing")],
                             execution_role=task_role("ssm:GetParameters"))
    task = run(aws, place, family, ["true"])
    assert task["stopCode"] == "TaskFailedToStart"
    assert "invalid parameters: /uat/missing" in task["stoppedReason"]


def test_a_service_lists_its_running_tasks(aws, place):
    family = task_definition(aws)
    ecs = aws("ecs")
    ecs.create_service(cluster="tasks", serviceName="api", taskDefinition=family,
                       desiredCount=2, launchType="FARGATE", networkConfiguration=place,
                       enableExecuteCommand=True)
    deadline = time.monotonic() + 20
    while ecs.describe_services(cluster="tasks", services=["api"])["services"][0][
            "runningCount"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    arns = ecs.list_tasks(cluster="tasks", serviceName="api")["taskArns"]
    assert len(arns) == 2
    tasks = ecs.describe_tasks(cluster="tasks", tasks=arns)["tasks"]
    assert {task["group"] for task in tasks} == {"service:api"}
    assert all(task["enableExecuteCommand"] and task["lastStatus"] == "RUNNING" for task in tasks)
    assert ecs.list_tasks(cluster="tasks", serviceName="other")["taskArns"] == []


def test_exec_needs_execute_command_enabled_and_the_agent_permissions(aws, place, task_role):
    ecs = aws("ecs")
    bare = run(aws, place, task_definition(aws, task_role=task_role()), enableExecuteCommand=True)
    allowed = run(aws, place, task_definition(aws, task_role=task_role("ssmmessages:*")),
                  enableExecuteCommand=True)
    disabled = run(aws, place, task_definition(aws, task_role=task_role("ssmmessages:*")))
    time.sleep(0.3)  # TASK_START_SECONDS at the default time scale
    session = ecs.execute_command(cluster="tasks", task=allowed["taskArn"], interactive=True,
                                  command="/bin/sh")
    assert session["containerName"] == "web"
    assert session["session"]["streamUrl"].startswith(f"wss://ssmmessages.{REGION}.")
    with pytest.raises(ClientError) as refused:
        ecs.execute_command(cluster="tasks", task=bare["taskArn"], interactive=True,
                            command="/bin/sh")
    assert refused.value.response["Error"]["Code"] == "TargetNotConnectedException"
    with pytest.raises(ClientError) as not_enabled:
        ecs.execute_command(cluster="tasks", task=disabled["taskArn"], interactive=True,
                            command="/bin/sh")
    assert "execute command was not enabled" in str(not_enabled.value)


def test_exec_agent_stops_on_a_read_only_root(aws, place, task_role):
    ecs = aws("ecs")
    sealed = run(aws, place, task_definition(aws, task_role=task_role("ssmmessages:*"),
                                             read_only_root=True), enableExecuteCommand=True)
    time.sleep(0.3)  # TASK_START_SECONDS at the default time scale
    (described,) = ecs.describe_tasks(cluster="tasks", tasks=[sealed["taskArn"]])["tasks"]
    assert described["lastStatus"] == "RUNNING"
    assert described["containers"][0]["managedAgents"] == [
        {"name": "ExecuteCommandAgent", "lastStatus": "STOPPED"}]
    with pytest.raises(ClientError) as stopped:
        ecs.execute_command(cluster="tasks", task=sealed["taskArn"], interactive=True,
                            command="/bin/sh")
    assert "the execute command agent isn't running" in str(stopped.value)


def test_a_service_whose_secret_cannot_be_read_fails_its_deployment(aws, place, task_role):
    aws("ssm").put_parameter(Name="/uat/service-secret", Value="x", Type="SecureString")
    family = task_definition(aws, secrets=[("S", "/uat/service-secret")],
                             execution_role=task_role("logs:CreateLogStream"))
    ecs = aws("ecs")
    ecs.create_service(cluster="tasks", serviceName="locked-out", taskDefinition=family,
                       desiredCount=1, launchType="FARGATE", networkConfiguration=place,
                       deploymentConfiguration={"deploymentCircuitBreaker": {
                           "enable": True, "rollback": False}})
    deadline = time.monotonic() + 20
    while True:
        deployment = ecs.describe_services(cluster="tasks", services=["locked-out"])[
            "services"][0]["deployments"][0]
        if deployment["rolloutState"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert deployment["rolloutState"] == "FAILED" and deployment["failedTasks"] >= 3
    stopped = ecs.list_tasks(cluster="tasks", serviceName="locked-out",
                             desiredStatus="STOPPED")["taskArns"]
    reasons = {task["stoppedReason"] for task in ecs.describe_tasks(
        cluster="tasks", tasks=stopped)["tasks"]}
    assert len(reasons) == 1
    assert "ssm:GetParameters on resource" in reasons.pop()
