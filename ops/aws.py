"""AWS clients for the ops commands, against the emulator or AWS alike.

The commands pass around one environment (a dict like os.environ: credentials, region and, for
the emulator, AWS_ENDPOINT_URL), the same one Terraform runs with, so boto3 and Terraform always
talk to the same place.
"""

from __future__ import annotations

from typing import Mapping

from ops import emulator
from ops.core.terraform import cli_environment


def target_environment(target: str, region: str, port: int | None = None) -> dict[str, str]:
    """This process's environment for `target` ("emulator" or "aws") in `region`. The emulator's
    variables come from ops.emulator (whose package imports nothing of moto)."""
    env = cli_environment()
    if target == "emulator":
        env.update(emulator.aws_environment(port or emulator.default_port(), region))
    else:
        env.setdefault("AWS_REGION", region)
    return env


def client(service: str, env: Mapping[str, str]):
    """A boto3 client that uses `env`'s credentials, region and endpoint."""
    import boto3

    session = boto3.session.Session(
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        profile_name=env.get("AWS_PROFILE"),
        region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"))
    return session.client(service, endpoint_url=env.get("AWS_ENDPOINT_URL") or None)
