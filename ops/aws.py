"""AWS clients for the ops commands, against the emulator or AWS alike.

The commands pass around one environment (a dict like os.environ: credentials, region and, for
the emulator, AWS_ENDPOINT_URL), the same one Terraform runs with, so boto3 and Terraform always
talk to the same place.
"""

from __future__ import annotations

import functools
import threading
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


# What names a session: its credentials, profile and region.
SESSION_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                     "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION")


def client(service: str, env: Mapping[str, str]):
    """A boto3 client that uses `env`'s credentials, region and endpoint. One per service and
    settings, kept for the process: a release polls for minutes, and a new session each time
    would assume a profile's role again (and ask for its MFA code again: botocore caches
    assumed-role credentials per session)."""
    with _making:  # a session makes clients one thread at a time (clients may then be shared)
        return _client(service, tuple(env.get(name) for name in SESSION_VARIABLES),
                       env.get("AWS_ENDPOINT_URL") or None)


_making = threading.Lock()


@functools.lru_cache(maxsize=None)
def _client(service: str, settings: tuple, endpoint_url: str | None):
    return _session(settings).client(service, endpoint_url=endpoint_url)


@functools.lru_cache(maxsize=None)
def _session(settings: tuple):
    import boto3

    key, secret, token, profile, region, default_region = settings
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret,
                                 aws_session_token=token, profile_name=profile,
                                 region_name=region or default_region)
