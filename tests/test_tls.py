"""The client's TLS context: verifying from the start, its CA certificates read only for a TLS connection.

A tiny JSON server on loopback answers every GET with an empty page, over plain
HTTP or over TLS with a certificate for 127.0.0.1 made here by ``openssl``
(its own CA, trusted by no bundle). Over TLS the client refuses it with the
default CAs and accepts it once ``SSL_CERT_FILE`` names that certificate, as
httpx does; over plain HTTP no certificate is ever loaded.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest

from improvado_loads import APIConnectionError, ImprovadoClient, RetryPolicy
from improvado_loads.client.tls import DeferredCAContext

EMPTY_PAGE: dict[str, Any] = {"count": 0, "next": None, "previous": None, "results": []}


class _EmptyPages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(EMPTY_PAGE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made by the ``openssl`` command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


def _serve(tls: ssl.SSLContext | None) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EmptyPages)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def https_url(certificate: tuple[Path, Path]) -> Iterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    yield from _serve(context)


@pytest.fixture
def http_url() -> Iterator[str]:
    yield from _serve(None)


@pytest.fixture
def default_cas(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``SSL_CERT_FILE`` or ``SSL_CERT_DIR``: the client trusts the default CAs (certifi's bundle) only."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture
def loads_of_cas(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every loading of CA certificates into any TLS context (the arguments), from now on."""
    calls: list[dict[str, Any]] = []
    real = ssl.SSLContext.load_verify_locations

    def recording(self: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        calls.append(kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", recording)
    return calls


def _list(url: str) -> int:
    with ImprovadoClient(base_url=url, token="t0ken-tls", retry=RetryPolicy(max_retries=0)) as client:
        return len(client.loads.list().to_list())


@pytest.mark.usefixtures("default_cas")
def test_the_context_is_httpx_default_one_before_and_after_its_cas_load() -> None:
    ours, theirs = DeferredCAContext(), httpx.create_ssl_context()

    def settings(context: ssl.SSLContext) -> dict[str, Any]:
        return {
            "protocol": context.protocol,
            "verify_mode": context.verify_mode,
            "check_hostname": context.check_hostname,
            "options": context.options,
            "verify_flags": context.verify_flags,
            "minimum_version": context.minimum_version,
            "maximum_version": context.maximum_version,
            "ciphers": [cipher["name"] for cipher in context.get_ciphers()],
        }

    assert settings(ours) == settings(theirs)
    assert ours.verify_mode == ssl.CERT_REQUIRED and ours.check_hostname
    assert not ours.ca_loaded and ours.cert_store_stats()["x509_ca"] == 0
    ours.load_cas()
    assert ours.ca_loaded
    assert ours.cert_store_stats() == theirs.cert_store_stats()
    assert ours.cert_store_stats()["x509_ca"] > 100  # certifi's bundle
    assert settings(ours) == settings(theirs)


def test_a_plain_http_client_never_loads_certificates(http_url: str, loads_of_cas: list[dict[str, Any]]) -> None:
    assert _list(http_url) == 0
    assert loads_of_cas == []


@pytest.mark.usefixtures("default_cas")
def test_an_https_client_verifies_with_the_default_cas(https_url: str, loads_of_cas: list[dict[str, Any]]) -> None:
    with pytest.raises(APIConnectionError) as caught:
        _list(https_url)
    assert "CERTIFICATE_VERIFY_FAILED" in repr(caught.value.__cause__)
    assert caught.value.untrusted_certificate and not caught.value.refused
    assert "is not trusted (self-signed certificate" in str(caught.value) and "SSL_CERT_FILE" in str(caught.value)
    assert len(loads_of_cas) == 1
    assert loads_of_cas == [{"cafile": certifi.where()}]  # certifi's bundle, as httpx's verify=True


def test_an_https_client_trusts_what_ssl_cert_file_names(
    https_url: str, certificate: tuple[Path, Path], loads_of_cas: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    assert _list(https_url) == 0
    assert loads_of_cas == [{"cafile": str(certificate[0])}]


def test_the_cas_load_once_for_many_connections(https_url: str, certificate: tuple[Path, Path],
                                               loads_of_cas: list[dict[str, Any]],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with ImprovadoClient(base_url=https_url, token="t0ken-tls") as client:
        errors: list[BaseException] = []

        def list_loads() -> None:
            try:
                client.loads.list().to_list()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=list_loads) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert len(loads_of_cas) == 1


@pytest.mark.usefixtures("default_cas")
def test_an_untrusted_certificate_is_said_at_once_not_retried(https_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)  # a retry would wait first
    with ImprovadoClient(base_url=https_url, token="t0ken-tls") as client:  # the default budget: 9 attempts
        with pytest.raises(APIConnectionError, match="is not trusted") as caught:
            client.loads.list().to_list()
        with pytest.raises(APIConnectionError, match="is not trusted"):
            client.loads.create(data_table_id=1, destination_connection_id=1, destination_table="t")
    assert slept == [] and caught.value.untrusted_certificate
    assert "t0ken-tls" not in str(caught.value)


@pytest.mark.usefixtures("default_cas")
def test_the_command_line_says_an_untrusted_certificate_in_one_line(https_url: str) -> None:
    from typer.testing import CliRunner

    from improvado_loads.cli import app
    from tests.conftest import cli_env

    env = cli_env(https_url, "t0ken-tls")
    result = CliRunner().invoke(app, ["loads", "list"], env=env, prog_name="improvado-loads")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith(f"error: the TLS certificate of {https_url} is not trusted (self-signed"), lines[0]
    assert "SSL_CERT_FILE" in lines[0] and "retrying" not in lines[0] and "t0ken-tls" not in result.output
