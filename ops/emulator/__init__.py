"""A local AWS emulator to deploy the stacks to: moto's in-process server plus the few fixes the
stacks need.

It runs moto's ``ThreadedMotoServer`` on 127.0.0.1 only (never on other interfaces), with the
AWS managed IAM policies loaded (``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, so attachments such as
arn:aws:iam::aws:policy/AmazonS3FullAccess work). moto keeps everything in memory: stopping the
emulator discards every resource.

From Python (``port=0`` picks a free port)::

    with Emulator(port=0) as emulator:
        env = {**os.environ, **emulator.environment()}   # for terraform, boto3, ...

From a shell or a Makefile (``--port`` defaults to $EMULATOR_PORT, else 4566)::

    python -m ops.emulator serve [--port N] [--pidfile F] [--quiet]
        Foreground until SIGTERM/SIGINT. Prints one line on stdout when ready, then one log line
        per AWS call on stderr (unless --quiet).
    python -m ops.emulator start [--port N] [--pidfile F] [--logfile F] [--timeout S]
        Runs `serve` in the background and returns once it answers (pidfile and logfile default
        to <tmp>/ops-emulator-<port>.pid/.log). Does nothing if that pidfile's emulator still runs.
    python -m ops.emulator stop [--port N] [--pidfile F] [--timeout S]
        Stops the emulator `start` left running (SIGTERM, then SIGKILL after --timeout).
    python -m ops.emulator env [--port N] [--region R]
        Prints the KEY=VALUE lines of aws_environment(), e.g. for `export $(... env)`.
    python -m ops.emulator put-image --repository R --tag T [--port N] [--region R]
        Pushes a stand-in image (no Docker needed) to ECR repository R and prints its digest.

On a taken port, `serve` and `start` exit with status 1 and one line on stderr saying so.

IAM enforcement (opt-in: ``Emulator(enforce_iam=True)``, or EMULATOR_ENFORCE_IAM=1 for
`serve`/`start`): requests signed with an assumed role's credentials are evaluated against its
policies as AWS would, and refused ones recorded (EMULATOR_IAM_DENIALS); see iam/__init__.py.

The environment for clients is aws_environment(): AWS_ENDPOINT_URL=http://127.0.0.1:<port>, fake
credentials, the region (ap-south-1 unless told), and AWS_EC2_METADATA_DISABLED so that nothing
probes the EC2 metadata service. The hashicorp/aws provider and Terraform's S3 backend both honour
AWS_ENDPOINT_URL. S3 path-style addressing: with an IP address endpoint like this one the AWS SDK
already uses path-style URLs, so the S3 backend works with no extra setting (checked with
Terraform 1.11.4, use_lockfile included). With a host name endpoint (http://localhost:...) it
would use <bucket>.localhost, which does not resolve: then pass
``terraform init -backend-config=use_path_style=true``; Terraform's S3
backend ignores the AWS_S3_USE_PATH_STYLE environment variable.

Rollouts take the time AWS takes (ECS task starts, health checks and draining; CodeDeploy's
traffic shift steps and termination wait), each AWS second multiplied by EMULATOR_TIME_SCALE
(default 0.002: one AWS minute in 0.12 s; 1 is real time; read at every request; a value that is
not a number above 0 stops `serve`/`start` with one line). EMULATOR_FAILING_IMAGES
(comma-separated fnmatch patterns) names images whose tasks never start. See
patches/clock.py, patches/ecs.py and patches/codedeploy.py.

The server is in server.py, the command line in cli.py, and the fixes for what moto lacks in
patches/ (one module per service). Importing this package loads neither moto nor werkzeug (a dev
dependency, not needed on the AWS path): Emulator, apply_patches, put_test_image and main are
imported on first use.
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path
from typing import Any, Mapping

HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_REGION = "ap-south-1"
ROOT = Path(__file__).resolve().parents[2]
# Variables that would make AWS clients use other credentials than the fake ones.
_CONFLICTING_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                          "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")

log = logging.getLogger("ops.emulator")


class EmulatorError(RuntimeError):
    """The emulator could not start or stop."""


class PortInUseError(EmulatorError):
    def __init__(self, port: int):
        super().__init__(f"port {port} on {HOST} is already in use (an emulator left running?): "
                         f"run `make down`, or set EMULATOR_PORT to a free port")
        self.port = port


def default_port() -> int:
    return int(os.environ.get("EMULATOR_PORT") or DEFAULT_PORT)


def aws_environment(port: int, region: str = DEFAULT_REGION,
                    base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables the AWS provider, Terraform's S3 backend and boto3 need to use the emulator
    on `port`. With `base` (e.g. os.environ), a copy of it with them added and with the
    variables that select other credentials (AWS_PROFILE, AWS_SESSION_TOKEN, ...) removed."""
    env = {key: value for key, value in (base or {}).items() if key not in _CONFLICTING_VARIABLES}
    env.update({
        "AWS_ENDPOINT_URL": f"http://{HOST}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


# name -> the module that defines it, imported on first access (PEP 562).
_LAZY = {"Emulator": "ops.emulator.server", "apply_patches": "ops.emulator.patches",
         "put_test_image": "ops.emulator.cli", "main": "ops.emulator.cli"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)
