"""ScalingProps, ServiceLoadBalancer and FargateServiceProps (constructs_lib/fargate_service.py),
and the task sizes Fargate allows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from ..secret_reference import SecretReference, parse
from . import require, require_range, require_retention

if TYPE_CHECKING:
    from cdktf import TerraformResource

# Fargate's allowed task sizes: cpu units -> memory MiB values.
FARGATE_SIZES: Mapping[int, tuple[int, ...]] = MappingProxyType({
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
})
# The tasks' CPU architecture, and the image platform that runs on it (what `docker build
# --platform` builds: an arm64 machine builds arm64 images otherwise, which Fargate cannot pull).
CPU_ARCHITECTURE = "X86_64"
IMAGE_PLATFORM = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}[CPU_ARCHITECTURE]
_CONTAINER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_ENV_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MANAGED_POLICY = re.compile(r"^([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]+$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
# SQS: at most 80 letters, digits, '-' and '_', a FIFO queue's ending in .fifo (within the 80).
_QUEUE_NAME = re.compile(r"(?=.{1,80}\Z)[A-Za-z0-9_-]+(\.fifo)?")


@dataclass(frozen=True)
class ScalingProps:
    """Target tracking on the service's desired count: its average CPU, and with queue_name also
    an SQS queue's backlog per running task (Application Auto Scaling scales out on whichever
    asks for more tasks, and in only when both allow it)."""

    min_capacity: int = 1  # @default 1: fewest tasks (and the count the service starts with)
    max_capacity: int = 3  # @default 3: most tasks
    cpu_target_percent: float = 70  # @default 70: the service's average CPU to hold
    scale_in_cooldown_seconds: int = 60  # @default 60: wait after scaling in
    scale_out_cooldown_seconds: int = 60  # @default 60: wait after scaling out
    # @default None: CPU only. An SQS queue's name, in the service's region and account: the
    # service also keeps the queue's visible messages per running task near
    # queue_messages_per_task (AWS's "backlog per task"; the running tasks are Container
    # Insights' count, so the cluster needs Container Insights)
    queue_name: str | None = None
    # @default 100: with queue_name, the messages waiting per running task to hold (how many
    # one task gets through in the wait you accept)
    queue_messages_per_task: int = 100

    def __post_init__(self) -> None:
        require_range(self, "min_capacity", 1, 1000)
        require_range(self, "max_capacity", 1, 1000)
        require(self.min_capacity <= self.max_capacity, self, "min_capacity",
                f"must not exceed max_capacity={self.max_capacity}")
        require_range(self, "cpu_target_percent", 1, 100)
        require_range(self, "scale_in_cooldown_seconds", 0, 3600)
        require_range(self, "scale_out_cooldown_seconds", 0, 3600)
        if self.queue_name is not None:
            require(bool(_QUEUE_NAME.fullmatch(self.queue_name)), self, "queue_name",
                    "an SQS queue's name (not its URL or ARN): 1-80 letters, digits, '-' and "
                    "'_', a FIFO queue's ending in .fifo")
        require_range(self, "queue_messages_per_task", 1, 1_000_000)


@dataclass(frozen=True)
class ServiceLoadBalancer:
    """The load balancer a service registers with (as terraform-aws-ecs's `load_balancer`)."""

    target_group_arn: str  # where the service registers its tasks
    security_group_id: str  # the load balancer's: admitted on the container port, given egress
    listener: TerraformResource | None = None  # @default None: created before the service when set


@dataclass(frozen=True)
class FargateServiceProps:
    """What a FargateService needs. Sizes and deploy settings default to this project's."""

    name: str  # names the cluster, service, task family, roles and security group
    log_group_name: str  # the container's CloudWatch log group
    region: str  # where the awslogs driver sends logs
    partition: str  # the AWS partition (aws, aws-cn, ...), for managed policy ARNs
    vpc_id: str  # the VPC of the service's security group
    private_subnet_ids: list[str]  # where the tasks run (no public IPs)
    # The target group to register with, and its ALB; None: a worker, reached by no one.
    load_balancer: ServiceLoadBalancer | None
    image: str  # the container image reference (e.g. the version of record's value)
    # @default None: no ECR permissions (a public image). The ECR repository to pull from.
    image_repository_arn: str | None = None
    # @default None: none. The repositories of an ECR pull-through cache the image comes
    # through (arn:...:repository/<prefix>/*), which the first pull creates and fills.
    pull_through_cache_arn: str | None = None
    container_name: str = "web"  # @default "web": the container's name in the task definition
    container_port: int = 8000  # @default 8000: the port the container listens on
    cpu: int = 2048  # @default 2048: Fargate CPU units (1024 = 1 vCPU), a key of FARGATE_SIZES
    memory: int = 4096  # @default 4096: MiB, a size Fargate allows for `cpu`
    # @default {}: the container's environment variables
    environment: Mapping[str, str] = field(default_factory=dict)
    # @default {}: container variables set from secrets by reference (ECS `secrets`/`valueFrom`):
    # an SSM parameter's name or ARN, or a Secrets Manager secret's ARN (optionally
    # :json-key:stage:version), in the service's region. The execution role may read exactly
    # these; the value never appears in the task definition, a plan or the state.
    secrets: Mapping[str, str] = field(default_factory=dict)
    # @default (): the customer managed KMS keys the secrets are encrypted with, which the
    # execution role may decrypt with through SSM or Secrets Manager only; none for AWS managed
    # keys
    secrets_kms_key_arns: tuple[str, ...] = ()
    # @default None: the account the service runs in (for SSM parameters named without an ARN);
    # required with secrets. A secret's ARN naming another account is refused when this is an ID.
    account_id: str | None = None
    # @default False: ECS Exec (a shell or command in a running task): the service allows it and
    # the task role may open Session Manager's channels and log the session to the log group.
    # Needs read_only_root_filesystem = False: the agent ECS Exec mounts writes to the disk.
    enable_execute_command: bool = False
    # @default True: turn off only for images that write to their disk, or for ECS Exec
    read_only_root_filesystem: bool = True
    # @default (): AWS managed policy names (e.g. "AmazonS3ReadOnlyAccess") for the task role
    task_role_managed_policies: tuple[str, ...] = ()
    permissions_boundary: str | None = None  # @default None: the roles' boundary policy ARN
    log_retention_days: int = 30  # @default 30: days the container's logs are kept
    container_insights: bool = True  # @default True: ECS Container Insights on the cluster
    # @default None: the service makes its own cluster, named `name`. A cluster's (ARN, name):
    # the service runs in it (several services share one: Cluster).
    cluster: tuple[str, str] | None = None
    # @default False: rolling deploys by ECS. True: CodeDeploy (blue/green) owns each deploy's
    # task definition and target group, and Terraform leaves them alone.
    code_deploy: bool = False
    # @default 100: rolling deploys never drop below full capacity
    deployment_minimum_healthy_percent: int = 100
    deployment_maximum_percent: int = 200  # @default 200: new tasks start before old ones stop
    # @default True: roll back a rolling deploy whose tasks never get healthy
    deployment_circuit_breaker: bool = True
    # @default 60: a new task's time before load balancer health checks count
    health_check_grace_period_seconds: int = 60
    scaling: ScalingProps = field(default_factory=ScalingProps)  # @default 1-3 tasks at 70% CPU

    def __post_init__(self) -> None:
        object.__setattr__(self, "environment", MappingProxyType(dict(self.environment)))
        object.__setattr__(self, "task_role_managed_policies",
                           tuple(self.task_role_managed_policies))
        object.__setattr__(self, "secrets", MappingProxyType(dict(self.secrets)))
        object.__setattr__(self, "secrets_kms_key_arns", tuple(self.secrets_kms_key_arns))
        require(bool(_CONTAINER_NAME.match(self.container_name)), self, "container_name",
                "letters, digits, '_' and '-'")
        require_range(self, "container_port", 1, 65535)
        require(self.cpu in FARGATE_SIZES, self, "cpu",
                f"Fargate allows {', '.join(map(str, FARGATE_SIZES))}")
        allowed = FARGATE_SIZES[self.cpu]
        require(self.memory in allowed, self, "memory",
                f"with cpu={self.cpu} Fargate allows {allowed[0]}-{allowed[-1]} MiB in steps of "
                f"{allowed[1] - allowed[0]}")
        for key, value in self.environment.items():
            require(bool(_ENV_VAR.match(key)), self, f"environment.{key}",
                    "variable names are letters, digits and '_', not starting with a digit",
                    value)
        for policy in self.task_role_managed_policies:
            require(bool(_MANAGED_POLICY.match(policy)), self, "task_role_managed_policies",
                    "an AWS managed policy name like AmazonS3ReadOnlyAccess or service-role/X",
                    policy)
        self._check_secrets()
        require_retention(self, "log_retention_days")
        require_range(self, "health_check_grace_period_seconds", 0, 2147483647)
        require_range(self, "deployment_minimum_healthy_percent", 0, 100)
        require_range(self, "deployment_maximum_percent", 100, 200)
        # The agent ECS Exec bind-mounts writes to the container's disk and stops at once on
        # a read-only one; ExecuteCommand then answers "the execute command agent isn't running".
        require(not (self.enable_execute_command and self.read_only_root_filesystem), self,
                "enable_execute_command", "ECS Exec's agent needs a writable root file system: "
                "set read_only_root_filesystem = false with it (or leave ECS Exec off)")
        require(self.scaling.queue_name is None or self.container_insights, self,
                "container_insights", f"scaling on queue {self.scaling.queue_name!r} divides its "
                "backlog by Container Insights' RunningTaskCount: leave Container Insights on")

    @property
    def secret_references(self) -> dict[str, SecretReference]:
        """The secrets, parsed (checked in __post_init__)."""
        return {name: parse(text) for name, text in sorted(self.secrets.items())}

    def _check_secrets(self) -> None:
        for name, text in self.secrets.items():
            require(bool(_ENV_VAR.match(name)), self, f"secrets.{name}",
                    "variable names are letters, digits and '_', not starting with a digit", text)
            require(name not in self.environment, self, f"secrets.{name}",
                    "is also a plain environment variable: keep it in one of the two", text)
            try:
                reference = parse(text)
            except ValueError as error:
                require(False, self, f"secrets.{name}",
                        str(error).removeprefix(f"{text!r} is "), text)
            if reference.region and not self.region.startswith("${"):
                require(reference.region == self.region, self, f"secrets.{name}",
                        f"is in {reference.region}; the service runs in {self.region}: "
                        f"keep its secrets in its own region", text)
            if reference.account and _ACCOUNT_ID.match(self.account_id or ""):
                require(reference.account == self.account_id, self, f"secrets.{name}",
                        f"is in account {reference.account}, not the service's "
                        f"{self.account_id}", text)
        require(not self.secrets or self.account_id is not None, self, "account_id",
                "required with secrets (the account their SSM parameters are in)")
        for arn in self.secrets_kms_key_arns:
            require(bool(_KMS_KEY_ARN.match(arn)), self, "secrets_kms_key_arns",
                    "KMS key ARNs like arn:aws:kms:<region>:<account>:key/<id>", arn)
        require(not self.secrets_kms_key_arns or bool(self.secrets), self,
                "secrets_kms_key_arns", "only with secrets (the keys they are encrypted with)")
