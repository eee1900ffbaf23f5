"""The server: moto's ThreadedMotoServer on a socket bound to 127.0.0.1 beforehand, with the
patches (ops/emulator/patches/) applied. Imported only when an emulator is started: it pulls in
moto and werkzeug."""

from __future__ import annotations

import errno
import logging
import os
import socket
from pathlib import Path
from typing import Mapping

# Read when moto creates its IAM backend, so it must be set before any request reaches moto.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"

from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication, create_backend_app)
from moto.server import ThreadedMotoServer  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from ops.emulator import (DEFAULT_REGION, HOST, EmulatorError, PortInUseError,  # noqa: E402
                          aws_environment, default_port, log)
from ops.emulator import iam  # noqa: E402
from ops.emulator.iam import enforce  # noqa: E402
from ops.emulator.patches import apply_patches  # noqa: E402
from ops.emulator.patches.clock import time_scale  # noqa: E402


class _MotoServer(ThreadedMotoServer):
    """ThreadedMotoServer on a socket bound beforehand: a taken port is then a PortInUseError in
    the caller, instead of werkzeug's sys.exit(1) in the server thread (which left start()
    waiting forever)."""

    def __init__(self, listening: socket.socket):
        host, port = listening.getsockname()[:2]
        super().__init__(ip_address=host, port=port, verbose=False)
        self._listening = listening

    def _server_entry(self) -> None:
        try:
            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(self._ip_address, self._port, app, threaded=True,
                                       fd=self._listening.fileno())
        finally:
            self._listening.close()  # the server works on its own duplicate of the socket
            self._server_ready_event.set()
        self._server.serve_forever()

    def start(self) -> None:
        super().start()
        if self._server is None:
            self._thread.join()
            raise EmulatorError("the emulator's HTTP server did not start")


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart right after a stop
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise PortInUseError(port) from None
        raise EmulatorError(f"cannot listen on {HOST}:{port}: {error.strerror}") from None
    return sock


class Emulator:
    """moto on http://127.0.0.1:<port> in a thread of this process, with the patches above.

    moto's state is global to the process: emulators started in one process share it."""

    def __init__(self, port: int | None = None, log_requests: bool = False,
                 enforce_iam: bool | None = None, denials_file: Path | None = None):
        """enforce_iam: evaluate assumed roles' requests (ops/emulator/iam/); None reads
        $EMULATOR_ENFORCE_IAM. denials_file: where refusals are appended (default
        $EMULATOR_IAM_DENIALS, else <tmp>/ops-emulator-<port>-iam-denials.jsonl)."""
        self.port = default_port() if port is None else port  # 0: any free port (set on start)
        self.log_requests = log_requests
        self.enforce_iam = iam.enforce_requested() if enforce_iam is None else enforce_iam
        self.denials_file = denials_file
        self._server: _MotoServer | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def environment(self, region: str = DEFAULT_REGION,
                    base: Mapping[str, str] | None = None) -> dict[str, str]:
        return aws_environment(self.port, region, base)

    def start(self) -> "Emulator":
        """Listen and serve; raises PortInUseError if the port is taken."""
        if self._server is not None:
            return self
        time_scale()  # a bad $EMULATOR_TIME_SCALE stops the start, with one line saying so
        apply_patches()
        log.setLevel(logging.INFO if self.log_requests else logging.WARNING)
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # ops.emulator logs the calls
        server = _MotoServer(_listen(self.port))
        server.start()
        self._server = server
        self.port = server.get_host_and_port()[1]
        if self.enforce_iam:
            self.denials_file = self.denials_file or iam.default_denials_file(self.port)
            self.denials_file.unlink(missing_ok=True)
            try:
                enforce.enable(self.denials_file)
            except EmulatorError:
                self.stop()
                raise
        return self

    def denials(self) -> list[dict]:
        """The requests IAM refused since start (enforce_iam only)."""
        enforcer = enforce.current()
        return list(enforcer.denials) if enforcer else []

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.stop()
            if self.enforce_iam:
                enforce.disable()

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
