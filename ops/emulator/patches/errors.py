"""Every service: a call moto does not implement (or fails on) answered HTTP 500, which the
AWS SDKs retry for minutes (the provider, e.g. for Application Auto Scaling
ListTagsForResource, seemed to hang). The patch answers a 400 naming the call at once, and
logs each call."""

from __future__ import annotations

import warnings

from moto.core.exceptions import ServiceException

from ops.emulator import log
from ops.emulator.patches import wrap


class UnsupportedCall(ServiceException):
    """The answer to a call moto does not implement or fails on: a 400, which no SDK retries."""


# moto warns that UnsupportedCall's codes are not in the service's model: they need not be.
warnings.filterwarnings("ignore", message=r"Exception\(UnsupportedCall\)", category=UserWarning)


def fail_fast_on_unsupported_calls() -> None:
    from moto.core.responses import ActionResult, BaseResponse
    from werkzeug.exceptions import HTTPException

    def make(call_action):
        def wrapper(self):
            try:
                action = f"{self.service_name} {self._get_action()}"
            except Exception:
                action = self.service_name
            try:
                status, headers, body = call_action(self)
                log.info("%s -> %s", action, status)
                return status, headers, body
            except HTTPException:
                raise  # moto's own error responses
            except NotImplementedError:
                log.warning("%s -> not implemented by moto", action)
                error = UnsupportedCall("InvalidAction",
                                        f"the local AWS emulator does not implement {action}")
            except ServiceException as exc:
                error = exc
            except Exception as exc:  # a moto bug: answer, rather than a 500 the SDKs retry
                log.exception("%s -> moto failed", action)
                error = UnsupportedCall("InternalFailure",
                                        f"the local AWS emulator failed on {action}: {exc!r}")
            return self.serialized(ActionResult(error))

        return wrapper

    # Any call moto lacks answered HTTP 500, which every AWS SDK retries (the provider for
    # minutes, e.g. Application Auto Scaling ListTagsForResource): make it a 400 at once.
    wrap(BaseResponse, "call_action", make)
