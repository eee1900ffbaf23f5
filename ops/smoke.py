"""Smoke check an environment: its load balancer answers 200 with the expected text.

    python -m ops.smoke --env uat [--url URL] [--expect "Hello World"] [--attempts 10]
                        [--interval 6] [--timeout 5] [--target aws]

The URL is app-<env>'s `alb_url` output (the stack must be initialized, as after ops.apply),
unless --url is given. GET it up to --attempts times, --interval seconds apart, each waiting at
most --timeout seconds: a new target can take a while to pass its health checks. Exit 0 on the
first 200 whose body contains --expect; 1 when every attempt failed (one line: the last
failure); 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request

from constructs_lib.config import ConfigError, environments_dir, load_environments, select_environments
from ops.deploy import Deployment, DeployError, add_environment_options, \
    terraform_environment

HELLO = "Hello World"  # what the crccheck/hello-world image serves


def attempt(url: str, expect: str, timeout: float) -> str | None:
    """None when `url` answers 200 with `expect` in the body, else what went wrong."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = response.read(1 << 20).decode("utf-8", "replace")
            if expect not in body:
                return f"HTTP {response.status} but the body does not contain {expect!r}"
            return None
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"{getattr(error, 'reason', error)}"


def check(url: str, expect: str = HELLO, attempts: int = 10, interval: float = 6,
          timeout: float = 5, progress=lambda line: None) -> str | None:
    """None once an attempt passes; the last failure when all `attempts` failed."""
    for number in range(1, attempts + 1):
        failure = attempt(url, expect, timeout)
        if failure is None:
            progress(f"{url}: 200 with {expect!r} (attempt {number}/{attempts})")
            return None
        progress(f"{url}: {failure} (attempt {number}/{attempts})")
        if number < attempts:
            time.sleep(interval)
    return failure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.smoke", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_environment_options(parser)
    parser.add_argument("--url", help="check this URL instead of app-<env>'s alb_url output")
    parser.add_argument("--expect", default=HELLO, help=f"text the body must contain "
                        f"(default {HELLO!r})")
    parser.add_argument("--attempts", type=int, default=10)
    parser.add_argument("--interval", type=float, default=6, help="seconds between attempts")
    parser.add_argument("--timeout", type=float, default=5, help="seconds per request")
    args = parser.parse_args(argv)
    try:
        if not 1 <= args.attempts <= 100 or not 0 < args.timeout <= 60 or args.interval < 0:
            raise ConfigError(f"--attempts {args.attempts} --timeout {args.timeout} --interval "
                              f"{args.interval}: allowed 1-100 attempts, a timeout of 0-60 s "
                              "and an interval of 0 s or more")
        url = args.url
        if not url:
            (environment,) = select_environments(load_environments(environments_dir()),
                                                 args.env)
            app = environment.stack_names["app"]
            deployment = Deployment(environment,
                                    terraform_environment(args.target, environment.region))
            url = deployment.outputs(app).get("alb_url")
            if not url:
                raise ConfigError(f"{app} has no alb_url output; apply it first")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--url {url}: expected an http:// or https:// URL")
    except (ConfigError, DeployError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    failure = check(url, args.expect, args.attempts, args.interval, args.timeout,
                    progress=lambda line: print(line, flush=True))
    if failure:
        print(f"error: smoke check failed: {url}: {failure} after {args.attempts} attempts",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
