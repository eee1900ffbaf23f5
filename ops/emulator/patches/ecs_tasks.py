"""ECS tasks that run, for the day-two commands (run a one-off task, exec, read its logs).

What moto 5.2.1 lacks or gets wrong:
- RunTask fails on these stacks' Fargate task definitions: a container without its own
  `memory` (Fargate sizes the task) breaks its placement sums (TypeError), and an awsvpc task in
  a VPC without DNS hostnames reads an ENI attribute moto never set (`private_dns_name`).
- A run task runs nothing and never ends by itself (its default state manager even shows it
  STOPPED at the first describe).
- A service has no tasks: ListTasks' serviceName filter is a TODO there.
- There is no ExecuteCommand.
- A task's secrets are never fetched: a missing secret, or an execution role that may not read
  it, passes where ECS stops the task with ResourceInitializationError.

What the patch does (AWS seconds scaled by $EMULATOR_TIME_SCALE, clock.py):
- ListTasks answers pages of at most 100 task ARNs (maxResults, nextToken) and DescribeTasks
  takes at most 100 tasks, as AWS's do; moto answered any number at once.
- ECS is eventually consistent: a task RunTask has just started may be missing from
  DescribeTasks for a moment (RunTask's API reference). The first DescribeTasks that names it
  answers it as a failure, reason MISSING, as AWS does; later ones find it.
- A run task is PROVISIONING, then RUNNING after TASK_START_SECONDS. Its command (the override's,
  else the container definition's entryPoint + command) runs ON THIS HOST (no container engine
  here; no image is pulled), in an empty folder, with the container's environment and the values
  of its secrets. Each output line goes to the awslogs group the task definition names, stream
  `<prefix>/<container>/<task id>` as ECS names it. When the command ends the task STOPS with the
  container's exit code ("Essential container in task exited"); StopTask ends it early. A task
  without a command runs until StopTask, like the hello-world server.
- Before a run task starts, its log group and every secret's `valueFrom` must exist and, with
  IAM enforced, its execution role must be allowed to read them (ssm:GetParameters or
  secretsmanager:GetSecretValue, and kms:Decrypt for a customer managed key, the key policy
  included, with kms:ViaService naming the service that asks KMS, as AWS sets it); otherwise it STOPS at once with ECS's TaskFailedToStart / ResourceInitializationError
  reason naming what failed.
- A service's running tasks exist as tasks: one per running task of each deployment (startedBy
  the deployment id, group `service:<name>`), with the service's enableExecuteCommand, so
  ListTasks (serviceName), DescribeTasks and ExecuteCommand find them.
- ExecuteCommand on a RUNNING task started with execute command enabled answers with a session,
  as AWS does, unless a container's root file system is read-only: the ECS Exec agent stops
  there (DescribeTasks shows it STOPPED) and ExecuteCommand says it isn't running; no shell
  opens (no container runs). With IAM enforced the task role must allow the ssmmessages actions
  the ECS Exec agent uses, else TargetNotConnectedException, which is how AWS answers when the
  agent cannot connect.
- A service's deployment whose task definition's secrets cannot be fetched (as above) fails
  like an image that never starts (ecs.py: the circuit breaker), its stopped tasks giving the
  reason.
Not modelled: the ECS Exec agent's KMS session encryption and logging settings, exit codes of a
service's tasks.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import ServiceException

from ops.emulator import EmulatorError
from ops.emulator.patches import clock, wrap
from ops.emulator.patches.ecs import TASK_START_SECONDS


class EcsError(ServiceException):
    """An ECS error moto has no class for (TargetNotConnectedException)."""

# The actions the ECS Exec agent (SSM agent) calls with the task role (ECS developer guide,
# "Monitor Amazon ECS containers with ECS Exec", IAM permissions required).
EXEC_AGENT_ACTIONS = ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                      "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel")
EXEC_NOT_ENABLED = ("The execute command failed because execute command was not enabled when "
                    "the task was run or the execute command agent isn't running. Wait and try "
                    "the command again or run a new task with execute command enabled and try "
                    "again.")
EXEC_NOT_CONNECTED = "The execute command failed due to an internal error. Try again later."
_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:(?P<region>[^:]+):(?P<account>\d{12}):parameter"
                      r"(?P<name>/.+)$")
_SECRET_ARN = re.compile(r"^(?P<arn>arn:aws[a-z-]*:secretsmanager:(?P<region>[^:]+):"
                         r"(?P<account>\d{12}):secret:[^:]+)(?::(?P<key>[^:]*):(?P<stage>[^:]*)"
                         r":(?P<version>[^:]*))?$")


@dataclass
class Run:
    """A run task's life on this host."""
    backend: Any
    task: Any
    created: Any  # moto's naive UTC time
    argv: list[str]
    environment: dict[str, str]
    log: tuple[str, str] | None  # (group, stream)
    process: subprocess.Popen | None = None
    folder: str = ""
    lines: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    reader: threading.Thread | None = None


_runs: dict[str, Run] = {}  # task ARN -> its run, until it has stopped
_unseen: set[str] = set()  # tasks RunTask started that no DescribeTasks has named yet


def _set_status(task, status: str) -> None:
    task._transitions = []  # moto's state manager moves it no more: this module does
    task.status = status
    for container in task.containers:
        container.last_status = status if status in ("RUNNING", "STOPPED") else "PENDING"


def _stop(task, code: str, reason: str, exit_code: int | None = None) -> None:
    from moto.core.utils import utcnow

    _set_status(task, "STOPPED")
    task.desired_status = "STOPPED"
    task.stop_code, task.stopped_reason = code, reason
    task.stopped_at = task.execution_stopped_at = utcnow()
    for container in task.containers:
        container.exitCode = container.exit_code = exit_code
        if code == "TaskFailedToStart":
            container.reason = reason


def _secret_checks(account: str, region: str, value_from: str) -> tuple[list, str, str | None]:
    """(IAM checks, resolved value, error) for one secret's valueFrom."""
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.ssm.models import ssm_backends

    secret = _SECRET_ARN.match(value_from)
    if secret:
        backend = secretsmanager_backends[secret["account"]][secret["region"]]
        try:
            found = backend.describe_secret(secret["arn"])
            value = backend.get_secret_value(secret["arn"], secret["version"] or None,
                                             secret["stage"] or None).get("SecretString", "")
        except Exception as exc:  # moto's ResourceNotFound and friends
            return [], "", (f"unable to retrieve secret from asm: ResourceNotFoundException: "
                            f"Secrets Manager can't find the specified secret ({value_from}): "
                            f"{type(exc).__name__}")
        if secret["key"]:
            import json
            value = str(json.loads(value or "{}").get(secret["key"], ""))
        checks = [("secretsmanager:GetSecretValue", found.arn, {})]
        key = getattr(found, "kms_key_id", None)
        if key and key != backend.DEFAULT_KMS_KEY_ALIAS:
            checks.append(("kms:Decrypt", _key_arn(account, region, key),
                           {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}))
        return checks, value, None
    ssm = _SSM_ARN.match(value_from)
    name = ssm["name"] if ssm else (value_from if value_from.startswith("/") else f"/{value_from}")
    where = (ssm["account"], ssm["region"]) if ssm else (account, region)
    backend = ssm_backends[where[0]][where[1]]
    parameter = backend.get_parameter(name) or backend.get_parameter(name.lstrip("/"))
    if parameter is None:
        return [], "", (f"unable to retrieve secrets from ssm: invalid parameters: "
                        f"{value_from}")
    arn = f"arn:aws:ssm:{where[1]}:{where[0]}:parameter/{parameter.name.lstrip('/')}"
    checks = [("ssm:GetParameters", arn, {})]
    if parameter.parameter_type == "SecureString" and parameter.keyid not in (None, "",
                                                                              "alias/aws/ssm"):
        checks.append(("kms:Decrypt", _key_arn(account, region, parameter.keyid),
                       {"kms:ViaService": f"ssm.{where[1]}.amazonaws.com"}))
    return checks, parameter.decrypt(parameter.value) or "", None


def _key_arn(account: str, region: str, key: str) -> str:
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        from moto.kms.models import kms_backends

        key = kms_backends[account][region].get_key_id_from_alias(key) or key
    return f"arn:aws:kms:{region}:{account}:key/{key}"


def secrets_of(backend, definition, session: str) -> tuple[dict[str, str], str | None]:
    """The values of the task definition's secrets as ECS fetches them with its execution role
    (`session`: the task's id), or ECS's ResourceInitializationError reason."""
    from ops.emulator.iam import enforce

    account, region = backend.account_id, backend.region_name
    values: dict[str, str] = {}
    checks: list = []
    for secret in definition.container_definitions[0].get("secrets") or []:
        secret_checks, value, error = _secret_checks(account, region, secret["valueFrom"])
        if error:
            return {}, f"ResourceInitializationError: unable to pull secrets or registry " \
                       f"auth: execution resource retrieval failed: {error}"
        checks += secret_checks
        values[secret["name"]] = value
    enforcer = enforce.current()
    role = getattr(definition, "execution_role_arn", None)
    if checks and enforcer is not None:
        if not role:
            return {}, ("ResourceInitializationError: unable to pull secrets or registry auth: "
                        "the task definition has no execution role to fetch its secrets with")
        denied = enforcer.denial(enforcer.service_principal(account, role, session), checks,
                                 region)
        if denied:
            return {}, ("ResourceInitializationError: unable to pull secrets or registry auth: "
                        "execution resource retrieval failed: service call has been retried 1 "
                        f"time(s): AccessDeniedException: {denied}")
    return values, None


def _prepare(backend, task, overrides: dict[str, Any]) -> tuple[Run | None, str | None]:
    """The run of a new task, or why ECS would not start it."""
    account, region = backend.account_id, backend.region_name
    definition = backend.describe_task_definition(task.task_definition_arn)
    container = definition.container_definitions[0]
    override = next((one for one in (overrides or {}).get("containerOverrides", [])
                     if one.get("name") == container.get("name")), {})
    environment = {one["name"]: one["value"] for one in container.get("environment") or []}
    environment.update({one["name"]: one["value"] for one in override.get("environment") or []})
    secrets, error = secrets_of(backend, definition, task.id)
    if error:
        return None, error
    environment.update(secrets)
    log = None
    options = (container.get("logConfiguration") or {}).get("options") or {}
    if (container.get("logConfiguration") or {}).get("logDriver") == "awslogs":
        from moto.logs.models import logs_backends

        group = options.get("awslogs-group", "")
        if group not in logs_backends[account][region].groups:
            return None, ("ResourceInitializationError: failed to validate logger args: "
                          f"create stream has been retried 1 times: failed to create Cloudwatch "
                          f"log stream: ResourceNotFoundException: The specified log group "
                          f"does not exist. ({group})")
        prefix = options.get("awslogs-stream-prefix", "")
        log = (group, f"{prefix}/{container['name']}/{task.id}" if prefix else task.id)
    argv = list(override.get("command") or
                (container.get("entryPoint") or []) + (container.get("command") or []))
    return Run(backend, task, task.created_at, argv, environment, log), None


def _reader(run: Run) -> None:
    assert run.process is not None and run.process.stdout is not None
    for line in run.process.stdout:
        with run.lock:
            run.lines.append((int(time.time() * 1000), line.rstrip("\n")))
    run.process.wait()


def _flush(run: Run) -> None:
    if run.log is None:
        return
    with run.lock:
        lines, run.lines = run.lines, []
    if not lines:
        return
    from moto.logs.models import logs_backends

    logs = logs_backends[run.backend.account_id][run.backend.region_name]
    group, stream = run.log
    if group in logs.groups:
        logs.ensure_log_stream(group, stream)
        logs.put_log_events(group, stream, [{"timestamp": stamp, "message": message}
                                            for stamp, message in lines])


def _advance(run: Run) -> bool:
    """Move a run task to now; False once it has stopped."""
    task = run.task
    if task.status == "STOPPED":
        _end_process(run)
        return False
    if task.status == "PROVISIONING":
        if clock.aws_seconds_since(run.created) < TASK_START_SECONDS:
            return True
        from moto.core.utils import utcnow

        _set_status(task, "RUNNING")
        task.started_at = utcnow()
        if run.argv:
            _start_process(run)
    _flush(run)
    if run.process is not None and run.process.poll() is not None and \
            (run.reader is None or not run.reader.is_alive()):
        _flush(run)
        _stop(task, "EssentialContainerExited", "Essential container in task exited",
              run.process.returncode)
        _end_process(run)
        return False
    return True


def _start_process(run: Run) -> None:
    executable = shutil.which(run.argv[0], path=os.environ.get("PATH"))
    run.folder = tempfile.mkdtemp(prefix=f"ecs-task-{run.task.id[:8]}-")
    if executable is None:
        _stop(run.task, "EssentialContainerExited",
              "Essential container in task exited", 127)
        with run.lock:
            run.lines.append((int(time.time() * 1000),
                              f"exec {run.argv[0]}: executable file not found in $PATH"))
        _flush(run)
        return
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": run.folder, **run.environment}
    run.process = subprocess.Popen([executable, *run.argv[1:]], cwd=run.folder, env=environment,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, start_new_session=True)
    run.reader = threading.Thread(target=_reader, args=(run,), daemon=True)
    run.reader.start()


def _end_process(run: Run) -> None:
    if run.process is not None and run.process.poll() is None:
        run.process.terminate()  # StopTask: SIGTERM, as ECS sends first
        try:
            run.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            run.process.kill()
    if run.folder:
        shutil.rmtree(run.folder, ignore_errors=True)
        run.folder = ""


@atexit.register
def _end_all() -> None:
    for run in list(_runs.values()):
        _end_process(run)


def _sync_service_tasks(backend, cluster_name: str | None = None) -> None:
    """One task per running task of each deployment of every service (in `cluster_name`)."""
    from moto.ecs.models import Task

    for service in list(backend.services.values()):
        if cluster_name and service.cluster_name != cluster_name.split("/")[-1]:
            continue
        wanted: dict[str, tuple[str, int]] = {}
        if service.status == "ACTIVE":
            if service.deployment_controller.get("type", "ECS") == "ECS":
                for deployment in service.deployments:
                    wanted[deployment["id"]] = (deployment["taskDefinition"],
                                                int(deployment.get("runningCount") or 0))
            else:
                sets = [one for one in service.task_sets if one.status in ("PRIMARY", "ACTIVE")]
                for one in sets:
                    share = float((one.scale or {}).get("value", 100.0)) / 100.0
                    wanted[one.id] = (one.task_definition,
                                      round(service.running_count * share) if len(sets) > 1
                                      else service.running_count)
        cluster = backend.clusters.get(service.cluster_name)
        tasks = backend.tasks.setdefault(service.cluster_name, {})
        group = f"service:{service.name}"
        mine = [task for task in tasks.values()
                if task.group == group and task.status != "STOPPED"]
        for task in mine:
            if task.started_by not in wanted:
                _stop(task, "ServiceSchedulerInitiated", "Task stopped by the deployment")
        for started_by, (definition_arn, count) in wanted.items():
            running = [task for task in mine if task.started_by == started_by]
            for task in running[count:]:
                _stop(task, "ServiceSchedulerInitiated",
                      f"Scaling activity initiated by (deployment {started_by})")
            if len(running) >= count or cluster is None or not definition_arn:
                continue  # a CODE_DEPLOY service has no task definition until its task set
            definition = backend.describe_task_definition(definition_arn)
            if definition.network_mode == "awsvpc" and not service.network_configuration:
                continue  # moto cannot make its ENI; AWS refused such a service at creation
            for _ in range(count - len(running)):
                task = Task(cluster, definition, None, None, backend, group,
                            launch_type="FARGATE", started_by=started_by,
                            networking_configuration=service.network_configuration,
                            platform_version=service.platform_version)
                _set_status(task, "RUNNING")
                task.enable_execute_command = bool(getattr(service, "enable_execute_command",
                                                           False))
                _agent(task, definition)
                tasks[task.task_arn] = task


def failed_to_start(backend, service, deployment: dict[str, Any], reason: str) -> None:
    """A task of `deployment` that stopped before it ran, saying why (DescribeTasks)."""
    from moto.ecs.models import Task

    cluster = backend.clusters.get(service.cluster_name)
    definition = backend.describe_task_definition(deployment["taskDefinition"])
    if cluster is None or (definition.network_mode == "awsvpc"
                           and not service.network_configuration):
        return
    task = Task(cluster, definition, None, None, backend, f"service:{service.name}",
                launch_type="FARGATE", started_by=deployment["id"],
                networking_configuration=service.network_configuration)
    _stop(task, "TaskFailedToStart", reason)
    backend.tasks.setdefault(service.cluster_name, {})[task.task_arn] = task


def _agent(task, definition) -> None:
    """The ECS Exec agent of a task started with execute command enabled: RUNNING, or STOPPED
    on a read-only root file system, which it cannot write its state to (AWS's
    amazon-ecs-exec-checker; aws/containers-roadmap#1359)."""
    if getattr(task, "enable_execute_command", False):
        read_only = any(one.get("readonlyRootFilesystem")
                        for one in definition.container_definitions)
        for container in task.containers:
            container.managed_agents = [{"name": "ExecuteCommandAgent",
                                         "lastStatus": "STOPPED" if read_only else "RUNNING"}]


def run_tasks() -> None:
    from moto.ec2.models.elastic_network_interfaces import NetworkInterface
    from moto.ec2.utils import generate_dns_from_ip
    from moto.ecs.models import EC2ContainerServiceBackend
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow

    # RunTask of a container without `memory` (Fargate: the task's size): TypeError adding None.
    original = EC2ContainerServiceBackend.__dict__.get("_calculate_task_resource_requirements")
    if not isinstance(original, staticmethod):
        raise EmulatorError("moto's EC2ContainerServiceBackend._calculate_task_resource_"
                            "requirements changed; update ops/emulator/patches/ecs_tasks.py")
    calculate = original.__func__

    def requirements(task_definition):
        class Sized:  # the containers as moto wants them: memory 0 where Fargate sizes the task
            container_definitions = [
                {**one, "memory": one.get("memory") or one.get("memoryReservation") or 0}
                for one in task_definition.container_definitions]
        return calculate(Sized)
    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(requirements)

    # An awsvpc task's ENI in a VPC without DNS hostnames: AttributeError private_dns_name.
    def make_interface(init):
        def wrapper(self, *args, **kwargs):
            init(self, *args, **kwargs)
            if not getattr(self, "private_dns_name", None):
                self.private_dns_name = generate_dns_from_ip(self.private_ip_address)
        return wrapper
    wrap(NetworkInterface, "__init__", make_interface)

    def make_run_task(run_task):
        def wrapper(self):
            result = run_task(self)
            overrides = self._get_param("overrides") or {}
            execute = bool(self._get_param("enableExecuteCommand"))
            for task in result.result["tasks"]:
                _unseen.add(task.task_arn)
                task.created_at = utcnow()
                task.enable_execute_command = execute
                _agent(task, self.ecs_backend.describe_task_definition(
                    task.task_definition_arn))
                run, error = _prepare(self.ecs_backend, task, overrides)
                if error:
                    _stop(task, "TaskFailedToStart", error)
                    continue
                _set_status(task, "PROVISIONING")
                task.desired_status = "RUNNING"
                _runs[task.task_arn] = run
            return result
        return wrapper
    wrap(EC2ContainerServiceResponse, "run_task", make_run_task)

    # DescribeTasks described any number of tasks, and a task RunTask had just started at once.
    def make_describe_tasks(describe_tasks):
        def wrapper(self):
            from moto.ecs.exceptions import InvalidParameterException

            if len(self._get_param("tasks", [])) > 100:
                raise InvalidParameterException("Tasks cannot be longer than 100.")
            result = describe_tasks(self)
            found = result.result["tasks"]
            missing = [task.task_arn for task in found if task.task_arn in _unseen]
            _unseen.difference_update(missing)
            result.result["tasks"] = [task for task in found if task.task_arn not in missing]
            result.result["failures"] = [*result.result.get("failures", []),
                                         *({"arn": arn, "reason": "MISSING"} for arn in missing)]
            return result
        return wrapper
    wrap(EC2ContainerServiceResponse, "describe_tasks", make_describe_tasks)

    # ListTasks answered every task in one page: AWS pages it (maxResults 1-100, default 100,
    # nextToken).
    def make_list_tasks_pages(list_tasks):
        def wrapper(self):
            from moto.ecs.exceptions import InvalidParameterException

            result = list_tasks(self)
            size = int(self._get_param("maxResults") or 100)
            if not 1 <= size <= 100:
                raise InvalidParameterException("maxResults must be between 1 and 100.")
            start = int(self._get_param("nextToken") or 0)
            arns = result.result["taskArns"]
            result.result["taskArns"] = arns[start:start + size]
            if start + size < len(arns):
                result.result["nextToken"] = str(start + size)
            return result
        return wrapper
    wrap(EC2ContainerServiceResponse, "list_tasks", make_list_tasks_pages)

    def make_stop_task(stop_task):
        def wrapper(self, cluster_str, task_str, reason):
            task = stop_task(self, cluster_str, task_str, reason)
            run = _runs.pop(task.task_arn, None)
            if run is not None:
                _flush(run)
                _end_process(run)
            _stop(task, "UserInitiated", reason or "Task stopped by user",
                  143 if run is not None and run.process is not None else None)
            return task
        return wrapper
    wrap(EC2ContainerServiceBackend, "stop_task", make_stop_task)

    def make_listing(listing):
        def wrapper(self, *args, **kwargs):
            _sync_service_tasks(self)
            tasks = listing(self, *args, **kwargs)
            service_name = kwargs.get("service_name") or (args[4] if len(args) > 4 else None)
            if listing.__name__ == "list_tasks" and service_name:
                tasks = [task for task in tasks
                         if task.group == f"service:{service_name.split('/')[-1]}"]
            return tasks
        return wrapper
    # ListTasks' serviceName was ignored (moto made no service tasks).
    wrap(EC2ContainerServiceBackend, "list_tasks", make_listing)
    wrap(EC2ContainerServiceBackend, "describe_tasks", make_listing)

    if hasattr(EC2ContainerServiceResponse, "execute_command"):
        raise EmulatorError("moto now implements ECS ExecuteCommand; drop the stand-in in "
                            "ops/emulator/patches/ecs_tasks.py")

    def execute_command(self):
        from moto.ecs.exceptions import InvalidParameterException

        from ops.emulator.iam import enforce

        backend = self.ecs_backend
        cluster = self._get_param("cluster", "default")
        task_id = str(self._get_param("task", "")).split("/")[-1]
        tasks = [task for task in backend.describe_tasks(cluster, [task_id])]
        if not tasks:
            raise InvalidParameterException(f"The task {task_id} was not found.")
        task = tasks[0]
        if not self._get_param("interactive"):
            raise InvalidParameterException("Interactive is the only mode supported currently.")
        agents = [agent for container in task.containers
                  for agent in getattr(container, "managed_agents", [])
                  if agent["lastStatus"] == "RUNNING"]
        if task.status != "RUNNING" or not getattr(task, "enable_execute_command", False) \
                or not agents:
            raise InvalidParameterException(EXEC_NOT_ENABLED)
        container = task.containers[0]
        wanted = self._get_param("container")
        if wanted and wanted != container.name:
            raise InvalidParameterException(f"The container {wanted} was not found in the task.")
        definition = backend.describe_task_definition(task.task_definition_arn)
        enforcer = enforce.current()
        role = getattr(definition, "task_role_arn", None)
        if enforcer is not None and (not role or enforcer.denial(
                enforcer.service_principal(backend.account_id, role, task.id),
                [(action, "*", {}) for action in EXEC_AGENT_ACTIONS], backend.region_name)):
            raise EcsError("TargetNotConnectedException", EXEC_NOT_CONNECTED)
        session = f"ecs-execute-command-{uuid.uuid4().hex[:17]}"
        return ActionResult({
            "clusterArn": task.cluster_arn, "containerArn": container.container_arn,
            "containerName": container.name, "interactive": True, "taskArn": task.task_arn,
            "session": {"sessionId": session,
                        "streamUrl": f"wss://ssmmessages.{backend.region_name}.amazonaws.com/"
                                     f"v1/data-channel/{session}?role=publish_subscribe",
                        "tokenValue": uuid.uuid4().hex}})
    EC2ContainerServiceResponse.execute_command = execute_command

    def tick() -> None:
        for arn, run in list(_runs.items()):
            if not _advance(run):
                _runs.pop(arn, None)

    clock.on_every_request(tick)
