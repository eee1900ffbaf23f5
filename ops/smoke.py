"""Smoke check an environment: its load balancer answers 200 with the expected text.

    python -m ops smoke --env uat [--url URL] [--address HOST] [--expect "Hello World"]
                        [--attempts 10] [--interval 6] [--timeout 5] [--target aws]

The URL is app-<env>'s `alb_url` output (the stack must be initialized, as after ops.apply),
unless --url is given. With `service.https`, it is https://<service.domain_name>/: no ACM
certificate covers the ALB's own *.elb.amazonaws.com name, so the certificate is verified for
the domain. While that name does not resolve (DNS not set up yet), the check connects to the
ALB's address (app-<env>'s `alb_dns_name`, or --address) and sends the domain as SNI and Host,
verifying the certificate for the domain all the same. GET it up to --attempts times,
--interval seconds apart, each waiting at most --timeout seconds: a new target can take a while
to pass its health checks. Exit 0 on the
first 200 whose body contains --expect; 1 when every attempt failed (one line: the last
failure); 2 for bad input.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from config import ServiceConfig
from config import outputs

HELLO = "Hello World"  # what the crccheck/hello-world image serves


class _AddressedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `address` for the URL's host: SNI, Host and the certificate check all name the
    host, as a browser's request would once DNS points the host at `address`."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        connection = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(connection, server_hostname=self.host)


def resolves(host: str) -> bool:
    try:
        return bool(socket.getaddrinfo(host, None))
    except (socket.gaierror, UnicodeError):
        return False


def _get(url: str, timeout: float, address: str | None) -> tuple[int, str]:
    if address is None:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read(1 << 20).decode("utf-8", "replace")
    parts = urllib.parse.urlsplit(url)
    connection = _AddressedHTTPSConnection(parts.hostname, parts.port, address, timeout)
    try:
        connection.request("GET", parts.path or "/")
        response = connection.getresponse()
        return response.status, response.read(1 << 20).decode("utf-8", "replace")
    finally:
        connection.close()


def attempt(url: str, expect: str, timeout: float, address: str | None = None) -> str | None:
    """None when `url` answers 200 with `expect` in the body, else what went wrong. With
    `address`, connect there instead of to the URL's host (an https URL)."""
    try:
        status, body = _get(url, timeout, address)
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        return f"{getattr(error, 'reason', error)}"
    if status != 200:
        return f"HTTP {status}"
    if expect not in body:
        return f"HTTP {status} but the body does not contain {expect!r}"
    return None


def check(url: str, expect: str = HELLO, attempts: int = 10, interval: float = 6,
          timeout: float = 5, progress=lambda line: None, address: str | None = None
          ) -> str | None:
    """None once an attempt passes; the last failure when all `attempts` failed. `address`:
    where to connect while the https URL's host does not resolve."""
    host = urllib.parse.urlsplit(url).hostname or ""
    for number in range(1, attempts + 1):
        via = None
        if address and url.startswith("https://") and not resolves(host):
            via = address
        failure = attempt(url, expect, timeout, via)
        where = f"{url} (at {via}: {host} does not resolve yet)" if via else url
        if failure is None:
            progress(f"{where}: 200 with {expect!r} (attempt {number}/{attempts})")
            return None
        progress(f"{where}: {failure} (attempt {number}/{attempts})")
        if number < attempts:
            time.sleep(interval)
    return failure


def smoke_target(service: ServiceConfig, stack_outputs: dict
                 ) -> tuple[str | None, str | None]:
    """(URL, address) to check for an app stack's outputs: with https the site's domain (its
    certificate covers nothing else) at the ALB's address, else the ALB's URL."""
    path = route_path(service)
    if service.https:
        return f"https://{service.domain_name}{path}", stack_outputs.get(outputs.ALB_DNS_NAME)
    url = stack_outputs.get(outputs.ALB_URL)
    return (f"{url.rstrip('/')}{path}" if url and path != "/" else url), None


def route_path(service: ServiceConfig) -> str:
    """A path the load balancer sends to `service`: its first path pattern up to a wildcard
    (/api/* -> /api/), else /."""
    patterns = service.path_patterns or ("/",)
    return re.split(r"[*?]", patterns[0])[0] or "/"


def main(argv: list[str] | None = None) -> int:
    """Deprecated for one release: `python -m ops smoke` (docs/commands.md)."""
    from ops.cli import alias

    return alias(argv, command="smoke")


if __name__ == "__main__":
    sys.exit(main())
