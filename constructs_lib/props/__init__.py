"""The constructs' props: what each construct takes, its defaults and its checks, apart from the
constructs themselves so that checking them (the environment config does, on load) needs no
cdktf. Each props dataclass checks itself on construction and raises `PropError` naming the
prop, as aws-cdk-lib's constructors throw a ValidationError. Wiring values (ids and ARNs that
Terraform resolves) are taken as they come: only settings are checked."""

from __future__ import annotations

from typing import Any


class PropError(ValueError):
    """A bad value for one prop of a props dataclass."""

    def __init__(self, props: str, prop: str, value: Any, allowed: str):
        super().__init__(f"{props}.{prop} = {value!r}: {allowed}")
        self.props, self.prop, self.value, self.allowed = props, prop, value, allowed


def require(ok: bool, props: object, prop: str, allowed: str, value: Any = None) -> None:
    """PropError for `props.prop` (or `value`, for one item of it) unless `ok`."""
    if not ok:
        raise PropError(type(props).__name__, prop,
                        getattr(props, prop) if value is None else value, allowed)


def require_range(props: object, prop: str, low: int | float, high: int | float) -> None:
    require(low <= getattr(props, prop) <= high, props, prop, f"must be between {low} and {high}")


# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)


def require_retention(props: object, prop: str) -> None:
    require(getattr(props, prop) in LOG_RETENTION_DAYS, props, prop,
            f"CloudWatch Logs allows {', '.join(map(str, LOG_RETENTION_DAYS))}")
