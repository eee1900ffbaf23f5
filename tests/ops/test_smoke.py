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


DOMAIN = "smoke.example.test"  # .test never resolves (RFC 2606)


def _certificates(folder, domain: str) -> tuple[str, str, str]:
    """A CA of the test's own and a certificate it signed for `domain`: (CA file, cert file,
    key file)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject, issuer, key, signer, extensions):
        builder = x509.CertificateBuilder().subject_name(subject).issuer_name(issuer) \
            .public_key(key.public_key()).serial_number(x509.random_serial_number()) \
            .not_valid_before(now - datetime.timedelta(minutes=5)) \
            .not_valid_after(now + datetime.timedelta(hours=1))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smoke test CA")])
    ca = certificate(ca_name, ca_name, ca_key, ca_key,
                     [(x509.BasicConstraints(ca=True, path_length=None), True),
                      (x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), True),
                      (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)])
    leaf = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)]), ca_name,
                       key, ca_key,
                       [(x509.SubjectAlternativeName([x509.DNSName(domain)]), False),
                        (x509.BasicConstraints(ca=False, path_length=None), True),
                        (x509.AuthorityKeyIdentifier.from_issuer_public_key(
                            ca_key.public_key()), False)])
    files = [folder / name for name in ("ca.pem", "cert.pem", "key.pem")]
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return tuple(map(str, files))


@pytest.fixture
def tls_server(server, tmp_path, monkeypatch):
    """`server` behind TLS with a certificate for DOMAIN only (as an ACM certificate covers the
    site's domain, never the ALB's name), signed by a CA this process trusts."""
    import ssl

    ca, cert, key = _certificates(tmp_path, DOMAIN)
    monkeypatch.setenv("SSL_CERT_FILE", ca)  # OpenSSL's default verify paths read it
    hosts = []
    handler = server.RequestHandlerClass
    original = handler.do_GET

    def do_get(self):
        hosts.append(self.headers["Host"])
        original(self)
    handler.do_GET = do_get
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.hosts, server.names = hosts, names
    return server


def test_https_checks_the_domain_at_the_alb_address_until_the_name_resolves(tls_server,
                                                                           capsys):
    tls_server.script = [(200, "Hello World")]
    port = tls_server.server_port
    url = f"https://{DOMAIN}:{port}/"
    assert smoke.main(["--url", url, "--address", "127.0.0.1", "--attempts", "1"]) == 0
    assert tls_server.names == [DOMAIN]  # SNI
    assert tls_server.hosts == [f"{DOMAIN}:{port}"]
    assert capsys.readouterr().out == (
        f"{url} (at 127.0.0.1: {DOMAIN} does not resolve yet): 200 with 'Hello World' "
        "(attempt 1/1)\n")


def test_https_never_passes_on_a_name_the_certificate_does_not_cover(tls_server, capsys):
    # What the check did before: the ALB's own name, which no ACM certificate covers.
    tls_server.script = [(200, "Hello World")]
    url = f"https://localhost:{tls_server.server_port}/"
    assert smoke.main(["--url", url, "--attempts", "1"]) == 1
    assert "certificate verify failed" in capsys.readouterr().err.lower()
    assert tls_server.requests == []


def test_an_https_environment_is_checked_at_its_domain(environments):
    from helpers import with_service

    outputs = {"alb_url": "https://hello-uat-1.ap-south-1.elb.amazonaws.com",
               "alb_dns_name": "hello-uat-1.ap-south-1.elb.amazonaws.com"}
    https = with_service(environments["uat"], https=True, domain_name="app.example.com",
                         certificate_arn="arn:aws:acm:ap-south-1:123456789012:certificate/"
                                         + "0" * 8 + "-0000-0000-0000-" + "0" * 12).service
    assert smoke.smoke_target(https, outputs) == (
        "https://app.example.com/", "hello-uat-1.ap-south-1.elb.amazonaws.com")
    assert smoke.smoke_target(environments["uat"].service, outputs) == (outputs["alb_url"], None)


def test_https_without_a_domain_name_is_one_config_error(tmp_path, capsys, monkeypatch):
    from config import environments_dir

    for source in environments_dir().glob("*.toml"):
        text = source.read_text()
        if source.name == "uat.toml":
            text = text.replace("[service]\n", "[service]\nhttps = true\ncertificate_arn = "
                                "\"arn:aws:acm:ap-south-1:123456789012:certificate/"
                                "00000000-0000-0000-0000-000000000000\"\n", 1)
        (tmp_path / source.name).write_text(text)
    monkeypatch.setenv("ENVIRONMENTS_DIR", str(tmp_path))
    assert smoke.main(["--env", "uat", "--attempts", "1"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "service.https = True: HTTPS needs domain_name (the name certificate_arn covers" \
        in line
