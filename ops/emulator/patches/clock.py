"""The emulator's clock. AWS takes minutes to roll a service out (tasks start, pass their health
checks, old ones drain) and CodeDeploy tens of minutes (traffic shift steps, then the
termination wait); moto did it at once or never. The rollout patches (ecs.py, codedeploy.py)
take the same steps for the same AWS durations, each multiplied by one emulator-wide factor:

    EMULATOR_TIME_SCALE   emulator seconds per AWS second (default 0.002: one AWS minute takes
                          0.12 s, a linear 10%-every-3-minutes shift plus a 5-minute
                          termination wait, 32 minutes, about 4 s). 1 is real time.

Read at every request, so a test may change it while the emulator runs (the durations of a
rollout in progress then scale anew). Rollouts advance before each request is answered
(tick(), run by serial.py under the one-request-at-a-time lock), so any read (ECS, ELB,
CodeDeploy) sees the same moment.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Callable

from ops.emulator import EmulatorError, log

TIME_SCALE_VARIABLE = "EMULATOR_TIME_SCALE"
DEFAULT_TIME_SCALE = 0.002

_hooks: list[Callable[[], None]] = []


def time_scale() -> float:
    """$EMULATOR_TIME_SCALE: emulator seconds per AWS second."""
    text = os.environ.get(TIME_SCALE_VARIABLE, "").strip()
    if not text:
        return DEFAULT_TIME_SCALE
    try:
        scale = float(text)
    except ValueError:
        scale = 0.0
    if not 0 < scale <= 10:
        raise EmulatorError(f"{TIME_SCALE_VARIABLE}={text!r}: want a number of emulator seconds "
                            f"per AWS second above 0 and at most 10, e.g. {DEFAULT_TIME_SCALE}")
    return scale


def aws_seconds_since(start: datetime) -> float:
    """How many AWS seconds have passed since `start` (a naive UTC time, as moto keeps them)."""
    from moto.core.utils import utcnow

    return (utcnow() - start).total_seconds() / time_scale()


def on_every_request(hook: Callable[[], None]) -> None:
    """Run `hook` before each request is answered (rollouts advance there)."""
    _hooks.append(hook)


def tick() -> None:
    """Advance every rollout to now. A failing hook is logged and the request still answered:
    the request is not to blame, and the SDKs would retry a 500 for minutes."""
    for hook in _hooks:
        try:
            hook()
        except Exception:
            log.exception("the emulator could not advance its rollouts (%s)", hook.__qualname__)
