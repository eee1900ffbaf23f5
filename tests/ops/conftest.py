"""Fixtures of the emulator's own tests: an in-process emulator that enforces IAM, one per module,
and clients with the administrator's keys (never evaluated)."""

import boto3
import pytest

from ops.emulator import Emulator

REGION = "ap-south-1"


@pytest.fixture(scope="module")
def enforcing_emulator(tmp_path_factory):
    with Emulator(port=0, enforce_iam=True,
                  denials_file=tmp_path_factory.mktemp("iam") / "denials.jsonl") as running:
        yield running


@pytest.fixture(scope="module")
def admin_client(enforcing_emulator):
    """admin_client("ecs"): a client of the enforcing emulator with the administrator's keys."""
    def make(service):
        return boto3.client(service, region_name=REGION,
                            endpoint_url=enforcing_emulator.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return make
