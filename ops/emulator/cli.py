"""The command line, `python -m ops.emulator start|stop|serve|env|put-image` (usage in
ops/emulator/__init__.py). Only `serve` imports the server (and moto)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from ops.emulator import (DEFAULT_REGION, HOST, ROOT, EmulatorError, aws_environment,
                          default_port)


def put_test_image(ecr, repository: str, tag: str) -> str:
    """Push a stand-in image (a manifest, no layers' content) tagged `tag` to `repository` with
    the boto3 ECR client `ecr`; returns its digest. The emulator runs no containers, so this is
    all a release needs there."""
    import hashlib

    layer = "sha256:" + hashlib.sha256(f"{repository}:{tag}".encode()).hexdigest()
    manifest = {"schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "size": 2, "digest": layer},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            "size": 2, "digest": layer}]}
    image = ecr.put_image(repositoryName=repository, imageTag=tag,
                          imageManifest=json.dumps(manifest))["image"]
    return image["imageId"]["imageDigest"]


def _default_file(port: int, suffix: str) -> Path:
    return Path(tempfile.gettempdir()) / f"ops-emulator-{port}{suffix}"


def _read_pid(pidfile: Path) -> int | None:
    """The pid in `pidfile` if that process is alive and is an emulator, else None."""
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"emulator" not in cmdline.read_bytes():
        return None  # the pid was reused by another program
    return pid


def _serve(port: int, pidfile: Path | None, quiet: bool) -> int:
    from ops.emulator.server import Emulator

    if not quiet:
        logging.basicConfig(format="%(asctime)s %(message)s", stream=sys.stderr)
    emulator = Emulator(port, log_requests=not quiet)
    try:
        emulator.start()
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    if pidfile:
        pidfile.write_text(f"{os.getpid()}\n")
    enforced = f", IAM enforced, denials in {emulator.denials_file}" if emulator.enforce_iam else ""
    print(f"AWS emulator ready on {emulator.endpoint_url} (pid {os.getpid()}{enforced})",
          flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        emulator.stop()
        if pidfile and _read_pid(pidfile) == os.getpid():
            pidfile.unlink()
    return 0


def _start(port: int, pidfile: Path, logfile: Path, timeout: float) -> int:
    pid = _read_pid(pidfile)
    if pid is not None:
        print(f"AWS emulator already running on http://{HOST}:{port} (pid {pid})")
        return 0
    pidfile.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                                    os.environ.get("PYTHONPATH")])))
    with open(logfile, "ab") as log_stream:
        child = subprocess.Popen(
            [sys.executable, "-m", "ops.emulator", "serve", "--port", str(port),
             "--pidfile", str(pidfile)],
            stdin=subprocess.DEVNULL, stdout=log_stream, stderr=log_stream, env=env,
            start_new_session=True)  # not stopped by the Ctrl-C of the shell that started it
    deadline = time.monotonic() + timeout
    while _read_pid(pidfile) != child.pid:  # `serve` writes it once it is listening
        if child.poll() is not None:
            lines = logfile.read_text(errors="replace").strip().splitlines()
            print(lines[-1] if lines else f"error: the emulator exited with status "
                  f"{child.returncode} (see {logfile})", file=sys.stderr)
            return 1
        if time.monotonic() > deadline:
            child.terminate()
            print(f"error: the emulator did not start within {timeout:.0f} s (see {logfile})",
                  file=sys.stderr)
            return 1
        time.sleep(0.1)
    print(f"AWS emulator ready on http://{HOST}:{port} (pid {child.pid}, log {logfile})")
    return 0


def _stop(pidfile: Path, timeout: float) -> int:
    pid = _read_pid(pidfile)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        print(f"AWS emulator not running (no live pid in {pidfile})")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _read_pid(pidfile) == pid and time.monotonic() < deadline:
        time.sleep(0.1)
    if _read_pid(pidfile) == pid:
        os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)
    print(f"AWS emulator stopped (pid {pid})")
    return 0


def _put_image(port: int, region: str, repository: str, tag: str) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    env = aws_environment(port, region)
    ecr = boto3.client("ecr", region_name=region, endpoint_url=env["AWS_ENDPOINT_URL"],
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    try:
        print(put_test_image(ecr, repository, tag))
    except ClientError as error:
        print(f"error: {repository}:{tag}: {error.response['Error'].get('Message')}",
              file=sys.stderr)
        return 2
    except BotoCoreError as error:
        print(f"error: no emulator on {env['AWS_ENDPOINT_URL']} ({error}); start it with "
              "`make up`", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.emulator",
                                     description="Local AWS emulator (moto) on 127.0.0.1.")
    commands = parser.add_subparsers(dest="command", required=True)
    port_help = "default: $EMULATOR_PORT, else 4566"
    serve = commands.add_parser("serve", help="run in the foreground until SIGTERM/SIGINT")
    start = commands.add_parser("start", help="run in the background, return once it answers")
    stop = commands.add_parser("stop", help="stop what `start` started")
    env = commands.add_parser("env", help="print the AWS_* variables for clients")
    put_image = commands.add_parser(
        "put-image", help="push a stand-in image to an ECR repository in the running emulator "
                          "and print its digest (for releases: python -m ops release)")
    put_image.add_argument("--repository", required=True, help="e.g. hello-world/hello-world")
    put_image.add_argument("--tag", required=True, help="e.g. a git commit")
    for command in (serve, start, stop, env, put_image):
        command.add_argument("--port", type=int, default=default_port(), help=port_help)
    for command in (serve, start, stop):
        command.add_argument("--pidfile", type=Path,
                             help="default for start/stop: <tmp>/ops-emulator-<port>.pid")
    serve.add_argument("--quiet", action="store_true", help="do not log each AWS call")
    start.add_argument("--logfile", type=Path, help="default: <tmp>/ops-emulator-<port>.log")
    for command in (start, stop):
        command.add_argument("--timeout", type=float, default=30.0, help="seconds (default 30)")
    for command in (env, put_image):
        command.add_argument("--region", default=DEFAULT_REGION)
    args = parser.parse_args(argv)

    if args.command == "serve":
        return _serve(args.port, args.pidfile, args.quiet)
    if args.command == "env":
        for key, value in aws_environment(args.port, args.region).items():
            print(f"{key}={value}")
        return 0
    if args.command == "put-image":
        return _put_image(args.port, args.region, args.repository, args.tag)
    pidfile = args.pidfile or _default_file(args.port, ".pid")
    if args.command == "start":
        return _start(args.port, pidfile, args.logfile or _default_file(args.port, ".log"),
                      args.timeout)
    return _stop(pidfile, args.timeout)
