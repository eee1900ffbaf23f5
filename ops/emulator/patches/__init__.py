"""What moto lacks for these stacks, filled by patching moto's classes (process-wide), one module
per service; each module's docstring says what moto lacks and what its patch does.

Gaps found for moto 5.2.1 + hashicorp/aws 5.100.0 by applying, re-planning (no changes) and
destroying the state, network and app stacks of uat and prod, and of the blue/green and hardened
variants (tests/test_variants_e2e.py); each patch has a comment naming the provider call that
needed it, and its own boto3 test (tests/ops/test_emulator.py).

Rollouts (ECS deployments, CodeDeploy blue/green) take AWS's time scaled by
$EMULATOR_TIME_SCALE: clock.py, advanced before every request.

The patches reach into moto's internals, so apply_patches() refuses any other moto version than
MOTO_VERSION, and wrap() fails loudly when an attribute it replaces is gone.

Not fixable here: the provider itself waits before and between status checks (about 30 s twice
for an ALB, 50 s for an S3 lifecycle configuration, 10 s for a VPC attribute, an ECS cluster or a
NAT gateway deletion), so applies take about 15 s (network), 65 s (app) and 60 s (state) even
though every call answers in milliseconds. moto does not check dependencies when deleting subnets
or VPCs (AWS answers DependencyViolation while a load balancer or security group remains).
"""

from __future__ import annotations

import threading
from importlib import metadata
from typing import Any, Callable

from ops.emulator import EmulatorError

# The moto release the patches were written for and tested with (Pipfile pins the same).
MOTO_VERSION = "5.2.1"

_patch_lock = threading.Lock()


def check_moto_version() -> None:
    installed = metadata.version("moto")
    if installed != MOTO_VERSION:
        raise EmulatorError(
            f"moto {installed} is installed, but the emulator's patches were written for moto "
            f"{MOTO_VERSION}: install moto=={MOTO_VERSION} (pipenv sync --dev), or re-check each "
            f"patch in ops/emulator/patches/ against moto {installed} and update MOTO_VERSION")


def wrap(cls: type, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Replace cls.name by make(original)."""
    original = getattr(cls, name, None)
    if original is None:
        raise EmulatorError(f"cannot patch {cls.__module__}.{cls.__qualname__}.{name}: moto no "
                            f"longer has it; update the patch in ops/emulator/patches/")
    setattr(cls, name, make(original))


def apply_patches() -> None:
    """Patch moto's classes (process-wide) once; later calls do nothing."""
    check_moto_version()
    from moto.core.responses import BaseResponse

    from ops.emulator.iam import enforce
    from ops.emulator.patches import (autoscaling, codedeploy, ec2, ecs, ecs_tasks, elbv2, errors,
                                      iam, s3, serial)

    with _patch_lock:
        # A marker on moto itself, so that even a reloaded copy of this module patches only once.
        if getattr(BaseResponse, "_ops_emulator_patched", False):
            return
        enforce.install()  # innermost: IAM (when enabled) before moto handles a request
        errors.fail_fast_on_unsupported_calls()
        serial.serialize_requests()  # outermost: one request at a time
        autoscaling.add_tagging()
        ecs.keep_service_settings()
        ec2.describe_referenced_group_rule_descriptions()
        elbv2.enforce_deletion_protection()
        iam.enforce_quotas()
        s3.treat_requests_as_tls_in_bucket_policies()
        s3.dispose_delete_markers()
        codedeploy.complete()
        ecs.roll_out_deployments()
        ecs_tasks.run_tasks()  # after the rollouts: a service's tasks follow its deployments
        codedeploy.run_ecs_deployments()
        BaseResponse._ops_emulator_patched = True
