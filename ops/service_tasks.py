"""What runs in a service, for the day-two commands: its logs, a shell in one of its tasks (ECS
Exec), and a one-off task from its current task definition (a migration before a release).

As AWS Copilot's `svc logs` / `svc exec` / `task run` and ecspresso's `run` / `exec` do. The
functions take boto3 clients and the service's names (Service), nothing of the config, so one
environment's several services use them alike.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from botocore.exceptions import ClientError

from ops.errors import BadInput, Failed, Refused

SESSION_PLUGIN = "session-manager-plugin"
SESSION_PLUGIN_INSTALL = ("https://docs.aws.amazon.com/systems-manager/latest/userguide/"
                          "session-manager-working-with-install-plugin.html")
RUN_STARTED_BY = "ops-run"  # ListTasks --started-by finds the one-off tasks


@dataclass(frozen=True)
class Service:
    """Where a service runs and logs."""
    cluster: str
    name: str
    container: str  # the essential container (the one the commands address)
    log_group: str
    stream_prefix: str  # awslogs-stream-prefix: streams are <prefix>/<container>/<task id>

    def stream(self, task_arn: str) -> str:
        return f"{self.stream_prefix}/{self.container}/{task_id(task_arn)}"


def task_id(task_arn: str) -> str:
    return task_arn.rsplit("/", 1)[-1]


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def describe(ecs, service: Service) -> dict:
    """The ECS service, or BadInput naming the stack to apply."""
    try:
        found = ecs.describe_services(cluster=service.cluster, services=[service.name])
    except ClientError as error:
        if _code(error) == "ClusterNotFoundException":
            found = {"services": []}
        else:
            raise
    live = [one for one in found.get("services", []) if one.get("status") == "ACTIVE"]
    if not live:
        raise BadInput(f"no ECS service {service.name} in cluster {service.cluster}: apply its "
                       f"app stack first")
    return live[0]


DESCRIBE_TASKS_MAX = 100  # task ARNs per DescribeTasks call (AWS's limit)


def running_tasks(ecs, service: Service) -> list[dict]:
    """The service's RUNNING tasks, oldest first (every page: a service may run 1000)."""
    arns = [arn for page in ecs.get_paginator("list_tasks").paginate(
        cluster=service.cluster, serviceName=service.name, desiredStatus="RUNNING")
        for arn in page["taskArns"]]
    tasks = [task for start in range(0, len(arns), DESCRIBE_TASKS_MAX)
             for task in ecs.describe_tasks(cluster=service.cluster,
                                            tasks=arns[start:start + DESCRIBE_TASKS_MAX])["tasks"]]
    return sorted((one for one in tasks if one.get("lastStatus") == "RUNNING"),
                  key=lambda one: str(one.get("startedAt") or one.get("createdAt") or ""))


def pick_task(ecs, service: Service, wanted: str | None) -> dict:
    """The running task `wanted` (ID or ARN), or the newest one."""
    tasks = running_tasks(ecs, service)
    if not tasks:
        raise Refused(f"{service.name} has no running task: check `status`, or wait for its "
                      f"deployment")
    if wanted is None:
        return tasks[-1]
    match = [one for one in tasks if task_id(one["taskArn"]) == task_id(wanted)]
    if not match:
        raise BadInput(f"--task {wanted}: not a running task of {service.name} (running: "
                       f"{', '.join(task_id(one['taskArn']) for one in tasks)})")
    return match[0]


# -- logs ------------------------------------------------------------------------------------
def log_lines(logs, service: Service, *, since_seconds: float, text: str | None = None,
              task: str | None = None, follow: bool = False, poll: float = 2.0,
              say: Callable[[str], None] = print, stop: Callable[[], bool] = lambda: False,
              now: Callable[[], float] = time.time) -> int:
    """Print the service's log lines of the last `since_seconds` (only those containing `text`,
    only `task`'s stream), as `<task id> <time> <line>`; with `follow`, keep printing new ones
    until `stop()` says so. Returns how many lines were printed."""
    start = int((now() - since_seconds) * 1000)
    query = {"logGroupName": service.log_group}
    if text:
        query["filterPattern"] = json.dumps(text)  # a quoted term: the text as it is
    if task:
        query["logStreamNames"] = [service.stream(task)]
    seen: set[str] = set()
    printed = 0
    while True:
        newest = start
        for event in _events(logs, service, {**query, "startTime": start}):
            newest = max(newest, int(event["timestamp"]))
            if event["eventId"] in seen:
                continue
            seen.add(event["eventId"])
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(event["timestamp"] / 1000))
            say(f"{event['logStreamName'].rsplit('/', 1)[-1]} {when} "
                f"{event['message'].rstrip()}")
            printed += 1
        if not follow or stop():
            return printed
        start = newest  # events of that same millisecond again: `seen` drops them
        time.sleep(poll)


def _events(logs, service: Service, query: dict) -> Iterable[dict]:
    token = None
    while True:
        try:
            page = logs.filter_log_events(**query, **({"nextToken": token} if token else {}))
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                raise BadInput(f"no log group {service.log_group}: apply the app stack of "
                               f"{service.name} first") from None
            raise
        yield from page.get("events", [])
        token = page.get("nextToken")
        if not token:
            return


# -- exec ------------------------------------------------------------------------------------
def _exec_agent_status(task: dict, container: str) -> str | None:
    """The lastStatus of the ECS Exec agent in the task's `container` (DescribeTasks)."""
    return next((agent.get("lastStatus") for one in task.get("containers", [])
                 if one.get("name") == container for agent in one.get("managedAgents", [])
                 if agent.get("name") == "ExecuteCommandAgent"), None)


def open_shell(ecs, service: Service, *, region: str, command: str = "/bin/sh",
               task: str | None = None, emulator: bool = False,
               plugin: str | None = None, say: Callable[[str], None] = print,
               run: Callable[[list[str]], int] = lambda argv: subprocess.call(argv)) -> int:
    """A shell (or `command`) in a running task through ECS Exec, as `aws ecs execute-command`
    does: ExecuteCommand, then the Session Manager plugin with the session. On the emulator the
    session is opened but no shell (it runs no containers)."""
    chosen = pick_task(ecs, service, task)
    plugin = plugin if plugin is not None else shutil.which(SESSION_PLUGIN)
    if not plugin and not emulator:
        raise BadInput(f"{SESSION_PLUGIN} is not installed (ECS Exec needs it on this machine): "
                       f"install it from {SESSION_PLUGIN_INSTALL}")
    try:
        answer = ecs.execute_command(cluster=service.cluster, task=chosen["taskArn"],
                                     container=service.container, interactive=True,
                                     command=command)
    except ClientError as error:
        code = _code(error)
        agent = _exec_agent_status(chosen, service.container)
        if code == "InvalidParameterException" and chosen.get("enableExecuteCommand") \
                and agent != "RUNNING":
            raise Failed(f"task {task_id(chosen['taskArn'])} has ECS Exec on but its agent is "
                         f"{agent or 'not reported'}: it stops on a read-only root file system "
                         f"(set read_only_root_filesystem = false, apply and release again), "
                         f"or it is still starting (try again in a minute)") from None
        if code == "InvalidParameterException" and "not enabled" in str(error):
            raise Refused(f"ECS Exec is off for {service.name} (or its task started before it "
                          f"was on): turn it on for the environment, apply, and release again "
                          f"so new tasks start with it") from None
        if code == "TargetNotConnectedException":
            raise Failed(f"task {task_id(chosen['taskArn'])}'s ECS Exec agent could not connect: "
                         f"its task role needs ssmmessages:CreateControlChannel, "
                         f"CreateDataChannel, OpenControlChannel and OpenDataChannel, and the "
                         f"task a route to ssmmessages") from None
        if code == "AccessDeniedException":
            raise Refused(f"not allowed to run ECS Exec on {service.name}: "
                          f"{error.response['Error'].get('Message', '')}") from None
        raise
    session = answer["session"]
    if emulator:
        say(f"ECS Exec session {session['sessionId']} opened on task "
            f"{task_id(chosen['taskArn'])}; the emulator runs no containers, so there is no shell "
            f"to attach to")
        return 0
    runtime = next((one.get("runtimeId") for one in chosen.get("containers", [])
                    if one.get("name") == service.container), "")
    target = {"Target": f"ecs:{service.cluster}_{task_id(chosen['taskArn'])}_{runtime}"}
    return run([plugin, json.dumps(session), region, "StartSession", "", json.dumps(target),
                f"https://ecs.{region}.amazonaws.com"])


# -- run -------------------------------------------------------------------------------------
def run_one_off(ecs, logs, service: Service, command: list[str], *, timeout: float = 3600.0,
                poll: float = 2.0, say: Callable[[str], None] = print,
                monotonic: Callable[[], float] = time.monotonic,
                task_definition: str | None = None) -> int:
    """Run `command` once in a task of the service's current task definition (or
    `task_definition`), with its network and roles; stream its log; return the container's
    exit code."""
    live = describe(ecs, service)
    network = live.get("networkConfiguration")
    definition = task_definition or live["taskDefinition"]
    started = ecs.run_task(
        cluster=service.cluster, taskDefinition=definition, launchType="FARGATE",
        startedBy=RUN_STARTED_BY, **({"networkConfiguration": network} if network else {}),
        overrides={"containerOverrides": [{"name": service.container, "command": command}]})
    if started.get("failures") or not started.get("tasks"):
        reasons = "; ".join(f"{one.get('arn', '')} {one.get('reason', '')}".strip()
                            for one in started.get("failures", [])) or "no task started"
        raise Failed(f"ECS did not start the task: {reasons}")
    arn = started["tasks"][0]["taskArn"]
    say(f"task {task_id(arn)} started from {definition.rsplit('/', 1)[-1]}")
    deadline = monotonic() + timeout
    token = None
    while True:
        described = ecs.describe_tasks(cluster=service.cluster, tasks=[arn])
        if not described["tasks"]:  # ECS is eventually consistent: RunTask's task, not yet
            reasons = {one.get("reason") for one in described.get("failures", [])}
            if reasons - {"MISSING"} or monotonic() > deadline:
                raise Failed(f"task {task_id(arn)}: DescribeTasks does not find it "
                             f"({', '.join(sorted(map(str, reasons))) or 'no answer'}); it may "
                             f"still run: aws ecs describe-tasks --cluster {service.cluster} "
                             f"--tasks {task_id(arn)}")
            time.sleep(poll)
            continue
        task = described["tasks"][0]
        token = _stream(logs, service, arn, token, say)
        if task["lastStatus"] == "STOPPED":
            token = _stream(logs, service, arn, token, say)  # what it wrote last
            break
        if monotonic() > deadline:
            raise Failed(f"task {task_id(arn)} still runs after {timeout:g} s; it was left "
                         f"running (stop it: aws ecs stop-task --cluster {service.cluster} "
                         f"--task {task_id(arn)})")
        time.sleep(poll)
    if task.get("stopCode") == "TaskFailedToStart":
        raise Failed(f"task {task_id(arn)} failed to start: {task.get('stoppedReason', '')}")
    container = next((one for one in task.get("containers", [])
                      if one.get("name") == service.container), {})
    code = container.get("exitCode")
    if code is None:
        raise Failed(f"task {task_id(arn)} stopped without an exit code: "
                     f"{task.get('stoppedReason', '')}")
    say(f"task {task_id(arn)} exited with {code}")
    return int(code)


def _stream(logs, service: Service, arn: str, token: str | None,
            say: Callable[[str], None]) -> str | None:
    """Print the task's new log lines; returns where to go on from."""
    query = {"logGroupName": service.log_group, "logStreamName": service.stream(arn),
             "startFromHead": True}
    while True:
        try:
            page = logs.get_log_events(**query, **({"nextToken": token} if token else {}))
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return token  # the stream appears when the container writes its first line
            raise
        for event in page.get("events", []):
            say(event["message"].rstrip())
        if page.get("nextForwardToken") in (None, token):
            return token
        token = page["nextForwardToken"]
