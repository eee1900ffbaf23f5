"""What a load balancer of the emulator would serve, for the workflow replay's smoke checks: the
emulator keeps the ALB, its listeners and the ECS service as records but runs no container.

It is an HTTP proxy on 127.0.0.1 (jobs get HTTP_PROXY pointing at it, NO_PROXY for the emulator
itself). A request for a load balancer's DNS name is answered by the real app/server.py, started
with the version of the image that the ECS service behind the load balancer's listener runs (the
target group forwarded to with the most weight): app/Dockerfile bakes the VERSION build argument,
which ops.image sets to the tag, into APP_VERSION; an image given by digest is looked up in ECR
for its tag. An image from elsewhere (the public hello-world) does not say its version, nor does
a container whose environment sets APP_VERSION otherwise. So a smoke check passes only when the
release really changed what the service runs. Anything else (an unknown host, HTTPS
CONNECT, no service behind the listener) gets a 502 that says why.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

APP = Path(__file__).resolve().parent.parent / "app" / "server.py"


class Unserved(Exception):
    """Why there is no answer for a host."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeLoadBalancers:
    def __init__(self, client: Callable[[str], object]):
        self.client = client  # service name -> boto3 client of the emulator (the AWS side)
        self.apps: dict[str, tuple[subprocess.Popen, int]] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()

    def version_behind(self, host: str, port: int = 80) -> str:
        elbv2, ecs = self.client("elbv2"), self.client("ecs")
        balancers = [lb for lb in elbv2.describe_load_balancers()["LoadBalancers"]
                     if lb["DNSName"].lower() == host.lower()]
        if not balancers:
            raise Unserved(f"no load balancer has the DNS name {host}")
        groups: dict[str, int] = {}
        for listener in elbv2.describe_listeners(
                LoadBalancerArn=balancers[0]["LoadBalancerArn"])["Listeners"]:
            if listener.get("Port") != port:  # blue/green's test listener is another port
                continue
            for action in listener.get("DefaultActions", []):
                if action.get("TargetGroupArn"):
                    groups[action["TargetGroupArn"]] = max(groups.get(action["TargetGroupArn"],
                                                                      0), 1)
                for group in (action.get("ForwardConfig") or {}).get("TargetGroups", []):
                    groups[group["TargetGroupArn"]] = max(groups.get(group["TargetGroupArn"], 0),
                                                          group.get("Weight", 1))
        if not groups:
            raise Unserved(f"{host}: no listener forwards to a target group")
        serving = max(groups, key=groups.get)
        for cluster in ecs.list_clusters()["clusterArns"]:
            names = ecs.list_services(cluster=cluster)["serviceArns"]
            for service in ecs.describe_services(cluster=cluster, services=names)["services"] \
                    if names else []:
                # Blue/green (CodeDeploy): each task set has its own target group.
                for runs in service.get("taskSets", []) + [service]:
                    if any(lb.get("targetGroupArn") == serving
                           for lb in runs.get("loadBalancers", [])):
                        definition = ecs.describe_task_definition(
                            taskDefinition=runs["taskDefinition"])["taskDefinition"]
                        return self.version_of(definition["containerDefinitions"][0])
        raise Unserved(f"{host}: no ECS service is registered with target group {serving}")

    def version_of(self, container: dict) -> str:
        for variable in container.get("environment", []):
            if variable["name"] == "APP_VERSION":
                return variable["value"]
        image = container["image"]
        found = re.fullmatch(r"\d{12}\.dkr\.ecr\.[^/]+/([^:@]+)(?::([^@]+)|@(sha256:.+))", image)
        if not found:
            return ""  # not built from app/: no version shown
        repository, tag, digest = found.groups()
        if tag:
            return tag
        details = self.client("ecr").describe_images(
            repositoryName=repository, imageIds=[{"imageDigest": digest}])["imageDetails"]
        tags = [tag for tag in details[0].get("imageTags", []) if tag != "latest"]
        return tags[0] if tags else "dev"

    def app_for(self, version: str) -> int:
        """The port of a running app/server.py reporting `version`."""
        with self._lock:
            if version not in self.apps:
                port = _free_port()
                process = subprocess.Popen(
                    [sys.executable, str(APP)], env={"APP_VERSION": version,
                                                     "PORT": str(port)},
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for _ in range(100):
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                        break
                    except (urllib.error.URLError, OSError):
                        time.sleep(0.05)
                self.apps[version] = (process, port)
            return self.apps[version][1]

    def __enter__(self) -> "FakeLoadBalancers":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _refuse(self, message: str):
                data = f"fake load balancer: {message}\n".encode()
                self.send_response(502)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_CONNECT(self):
                self._refuse("HTTPS is not served by the stand-in")

            def do_GET(self):
                url = urlsplit(self.path)
                fake.requests.append(self.path)
                try:
                    port = fake.app_for(fake.version_behind(url.hostname or "",
                                                            url.port or 80))
                except Unserved as error:
                    return self._refuse(str(error))
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}{url.path or '/'}", timeout=10) as answer:
                    data = answer.read()
                    self.send_response(answer.status)
                    self.send_header("Content-Type", answer.headers.get("Content-Type", ""))
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        for process, _ in self.apps.values():
            process.terminate()
            process.wait(timeout=10)
