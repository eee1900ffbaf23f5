"""The release lock: one release at a time per environment."""

from __future__ import annotations

import json
import os
import socket
from contextlib import contextmanager
from typing import Iterator

from botocore.exceptions import ClientError

from ops.errors import Refused
from ops.release.target import Target, error_code, released_by, utc_now


@contextmanager
def release_lock(target: Target, version: str) -> Iterator[None]:
    """Hold the environment's release lock: an SSM parameter that PutParameter creates only if
    it does not exist (atomic), deleted when the release ends."""
    ssm, name = target.client("ssm"), target.names.release_lock_parameter
    value = json.dumps({"holder": released_by(), "host": socket.gethostname(),
                        "pid": os.getpid(), "since": utc_now(), "version": version})
    try:
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=False,
                          Description="A release is in progress (python -m ops release)")
    except ClientError as error:
        if error_code(error) != "ParameterAlreadyExists":
            raise
        raise Refused(f"{target.label}: a release is already in progress ({describe_lock(target)}"
                      f"); if it died, clear it: python -m ops unlock "
                      f"{target.flags}") from None
    try:
        yield
    finally:
        try:
            if ssm.get_parameter(Name=name)["Parameter"]["Value"] == value:
                ssm.delete_parameter(Name=name)
        except ClientError:
            pass  # already cleared by `unlock`


def describe_lock(target: Target) -> str:
    try:
        value = target.client("ssm").get_parameter(
            Name=target.names.release_lock_parameter)["Parameter"]["Value"]
    except ClientError:
        return "lock released meanwhile"
    try:
        held = json.loads(value)
        return (f"held by {held['holder']} on {held['host']} (pid {held['pid']}) since "
                f"{held['since']}, releasing {held['version']}")
    except (ValueError, KeyError, TypeError):
        return f"lock value {value!r}"


def unlock(target: Target) -> str:
    ssm = target.client("ssm")
    try:
        held = describe_lock(target)
        ssm.delete_parameter(Name=target.names.release_lock_parameter)
    except ClientError as error:
        if error_code(error) == "ParameterNotFound":
            return f"{target.label}: no release lock held"
        raise
    return f"{target.label}: cleared the release lock ({held})"
