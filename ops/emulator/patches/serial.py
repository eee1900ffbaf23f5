"""Every service: moto's backends are not thread-safe (IAM CreateRole iterates the roles while
a concurrent CreateRole adds one: "dictionary changed size during iteration"), but Terraform
sends requests in parallel and the server answers each on its own thread. The patch handles one
request at a time; each takes milliseconds, so the waits that bound an apply stay the
provider's own. Before each, the rollouts in progress advance to now (clock.py)."""

from __future__ import annotations

import threading

from ops.emulator.patches import clock, wrap

_one_at_a_time = threading.Lock()


def serialize_requests() -> None:
    from moto.core.responses import BaseResponse

    def make(call_action):
        def wrapper(self):
            with _one_at_a_time:
                clock.tick()
                return call_action(self)

        return wrapper

    wrap(BaseResponse, "call_action", make)
