"""StateBucketProps and S3BackendProps (constructs_lib/state.py)."""

from __future__ import annotations

from dataclasses import dataclass

from . import require_range


@dataclass(frozen=True)
class StateBucketProps:
    bucket: str  # the bucket's name, globally unique
    noncurrent_version_expiration_days: int = 90  # @default 90: how long old state versions stay
    # @default None: S3 lock files only; a name: a DynamoDB lock table too
    lock_table_name: str | None = None

    def __post_init__(self) -> None:
        require_range(self, "noncurrent_version_expiration_days", 1, 3650)


@dataclass(frozen=True)
class S3BackendProps:
    """Where a stack keeps its state: s3://<bucket>/<key> in `region`."""

    bucket: str  # the state bucket
    key: str  # the state object's key
    region: str  # the bucket's region
    lock_table_name: str | None = None  # @default None: S3 lock files only; a name: DynamoDB too
