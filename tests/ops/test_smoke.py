"""ops/smoke.py against a real HTTP server on 127.0.0.1 that answers from a script."""

import http.server
import threading

import pytest

from ops import smoke


@pytest.fixture
def server():
    """Serves the (status, body) pairs in `server.script` in turn (the last one repeats)."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            requests.append(self.path)
            status, body = httpd.script[min(len(requests), len(httpd.script)) - 1]
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.requests, httpd.url = requests, f"http://127.0.0.1:{httpd.server_port}/"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def run(server, *args):
    return smoke.main(["--url", server.url, "--interval", "0", "--timeout", "2", *args])


def test_passes_on_200_with_the_marker(server, capsys):
    server.script = [(200, "<pre>Hello World</pre>")]
    assert run(server) == 0
    assert len(server.requests) == 1
    assert "200 with 'Hello World' (attempt 1/10)" in capsys.readouterr().out


def test_retries_until_the_target_is_healthy(server):
    server.script = [(503, "starting"), (502, "no target"), (200, "Hello World")]
    assert run(server, "--attempts", "5") == 0
    assert len(server.requests) == 3


def test_fails_after_the_attempts_when_the_marker_is_missing(server, capsys):
    server.script = [(200, "It works!")]
    assert run(server, "--attempts", "3") == 1
    assert len(server.requests) == 3
    assert capsys.readouterr().err == (
        f"error: smoke check failed: {server.url}: HTTP 200 but the body does not contain "
        "'Hello World' after 3 attempts\n")


def test_fails_on_errors_and_custom_markers(server, capsys):
    server.script = [(500, "Hello World")]
    assert run(server, "--attempts", "2") == 1
    assert capsys.readouterr().err.endswith(": HTTP 500 after 2 attempts\n")
    server.script = [(200, "version abc123")]
    assert run(server, "--expect", "abc123") == 0


def test_a_request_that_hangs_times_out(server, capsys):
    import socket
    with socket.socket() as listening:  # accepts connections, never answers
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        url = f"http://127.0.0.1:{listening.getsockname()[1]}/"
        assert smoke.main(["--url", url, "--attempts", "1", "--timeout", "0.5"]) == 1
    assert "timed out" in capsys.readouterr().err


def test_bad_input_is_one_line_and_exit_2(capsys):
    assert smoke.main(["--url", "ftp://example", "--attempts", "1"]) == 2
    assert capsys.readouterr().err == ("error: --url ftp://example: expected an http:// or "
                                       "https:// URL\n")
    assert smoke.main(["--url", "http://127.0.0.1:1/", "--attempts", "0"]) == 2
    assert smoke.main(["--env", "nope"]) == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        "error: ENVIRONMENTS = 'nope': unknown environment")
