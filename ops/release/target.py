"""One environment to release to, the image it runs, and what every step shares."""

from __future__ import annotations

import getpass
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone

from botocore.exceptions import ClientError

from config import RELEASE_TAG_PREFIX, EnvironmentConfig, outputs
from ops.aws import client
from ops.core.runner import Runner
from ops.core.synth import synthesize
from ops.errors import Failed
from ops.image import git_commit

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class RolloutFailed(Failed):
    """The rollout failed and was rolled back, or did not finish in time (exit 1)."""


@dataclass
class Target:
    """One environment to release to: its config, the AWS environment (credentials, region,
    endpoint) that boto3 and Terraform share, and its synthesized stacks (made on first use)."""

    environment: EnvironmentConfig
    env: dict[str, str]
    deployment: Runner | None = None

    @property
    def name(self) -> str:
        return self.environment.name

    @property
    def names(self):
        return self.environment.names

    @property
    def label(self) -> str:
        """The environment, and with several services the service: `shop (api)`."""
        return (f"{self.name} ({self.environment.service_key})" if self.environment.several
                else self.name)

    @property
    def flags(self) -> str:
        """The command line options naming this target: `--env E [--service S]`."""
        return f"--env {self.name}" + (f" --service {self.environment.service_key}"
                                       if self.environment.several else "")

    def output(self, stack_outputs: dict, name: str) -> str:
        """This service's output `name` (config/outputs.py SERVICE_OUTPUTS) of the app stack."""
        return stack_outputs[outputs.service_output(self.environment, name)]

    @property
    def app_stack(self) -> str:
        return self.environment.stack_names["app"]

    @property
    def blue_green(self) -> bool:
        return self.environment.service.blue_green.enabled

    def client(self, service: str):
        return client(service, self.env)

    def stacks(self) -> Runner:
        if self.deployment is None:
            synthesize(self.environment, reuse=True)  # skipped when cdktf.out is current
            self.deployment = Runner(self.environment, self.env)
        return self.deployment


@dataclass(frozen=True)
class Image:
    reference: str  # <repository url>@sha256:...
    digest: str
    tags: tuple[str, ...]

    @property
    def label(self) -> str:
        # The release-<env>-<time> tags are bookkeeping for the lifecycle rule, not names.
        names = [tag for tag in self.tags if not tag.startswith(RELEASE_TAG_PREFIX)]
        return f"{', '.join(names) or 'untagged'} ({self.digest[:19]})"


def error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def released_by() -> str:
    return (os.environ.get("RELEASED_BY") or os.environ.get("GITHUB_ACTOR")
            or os.environ.get("USER") or getpass.getuser())


def commit() -> str:
    """The commit the release runs from (its infrastructure code)."""
    try:
        return os.environ.get("GITHUB_SHA", "")[:12] or git_commit()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
