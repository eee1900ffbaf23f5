"""app/: the sample service answers as the guide's image does, on the port it is given."""

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from ops.core import ROOT


@pytest.fixture(scope="module")
def server():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(ROOT / "app" / "server.py")],
                               env={**os.environ, "PORT": str(port), "APP_VERSION": "abc123"},
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == f"hello-world abc123 listening on {port}\n"
    yield f"http://127.0.0.1:{port}"
    process.terminate()  # SIGTERM, as ECS stops a task
    assert process.wait(timeout=10) == 0


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_root_says_hello_world_with_its_version(server):
    status, content_type, body = get(server + "/")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert "<pre>Hello World</pre>" in body and "version abc123" in body


def test_health_and_version_paths(server):
    assert get(server + "/health") == (200, "text/plain; charset=utf-8", "ok\n")
    assert get(server + "/version") == (200, "text/plain; charset=utf-8", "abc123\n")
    assert get(server + "/nope")[0] == 404


def test_the_dockerfile_runs_the_server_unprivileged_on_8000():
    lines = (ROOT / "app" / "Dockerfile").read_text().splitlines()
    instructions = [line.split()[0] for line in lines if line and not line.startswith("#")
                    and not line.startswith(" ")]
    assert instructions[0] == "FROM" and instructions[-1] == "CMD"
    assert "USER 65534:65534" in lines and "EXPOSE 8000" in lines
    assert 'CMD ["python", "/app/server.py"]' in lines
    assert "COPY server.py /app/server.py" in lines
