"""Credentials are stripped and checked when read, and no error shows them in any form.

Client tests on httpx's MockTransport; the command line as a real subprocess against the emulator.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from improvado_loads import APIConnectionError, ConfigurationError, ImprovadoClient, RetryPolicy
from improvado_loads.emulator import EmulatorServer
from improvado_loads.provider.settings import client_from_config

from .conftest import EMULATOR_TOKEN

FAST = RetryPolicy(max_retries=1, backoff_base=0.001, backoff_max=0.001)
TOKEN = "tok-5e3c7a1f9b2d4e6a8c0b"
USER, PASSWORD = "ana", "pw-7d1e9c3b5a"


def every_form(secret: str) -> list[str]:
    """As is, repr-escaped, and (a password) inside the base64 of Basic credentials."""
    forms = [secret, repr(secret)[1:-1], repr(secret.encode())[2:-1]]
    return forms + ([base64.b64encode(f"{USER}:{secret}".encode()).decode()] if secret == PASSWORD else [])


def seen_headers(client: ImprovadoClient, handler: Any = None) -> list[httpx.Headers]:
    seen: list[httpx.Headers] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"token": TOKEN})
        return httpx.Response(200, json={"id": 1, "title": "t"})

    client._core._http._transport = httpx.MockTransport(handler or answer)
    client.data_tables.get(1)
    return seen


@pytest.mark.parametrize("suffix", ["\n", "\r\n", "\r", "  \n"])
def test_a_token_with_a_trailing_newline_is_stripped(suffix: str) -> None:
    with ImprovadoClient(base_url="http://api.test", token=TOKEN + suffix) as client:
        assert [h["authorization"] for h in seen_headers(client)] == [f"Bearer {TOKEN}"]
    with ImprovadoClient(base_url="http://api.test", username=USER + suffix, password=PASSWORD + suffix,
                         workspace_id=1) as client:
        basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        assert [h["authorization"] for h in seen_headers(client)] == [f"Basic {basic}", f"Bearer {TOKEN}"]


@pytest.mark.parametrize(("what", "kwargs"), [
    ("token", {"token": f"{TOKEN}\nX-Injected: 1"}),
    ("token", {"token": f"{TOKEN}\x00"}),
    ("password", {"username": USER, "password": f"{PASSWORD}\r\nmore", "workspace_id": 1}),
])
def test_a_credential_with_a_control_character_is_refused_without_showing_it(
    what: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError, match=f"the {what} holds a control character") as refused:
        ImprovadoClient(base_url="http://api.test", **kwargs)
    shown = f"{refused.value!s} {refused.value!r}"
    assert TOKEN not in shown and PASSWORD not in shown


def test_provider_settings_strip_what_they_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMPROVADO_API_TOKEN", raising=False)
    config = {"improvado:token": TOKEN + "\n", "improvado:apiUrl": " http://api.test\n"}
    client = client_from_config(config.get)
    assert client.base_url == "http://api.test"
    assert [h["authorization"] for h in seen_headers(client)] == [f"Bearer {TOKEN}"]
    monkeypatch.setenv("IMPROVADO_API_TOKEN", TOKEN + "\r\n")
    assert [h["authorization"] for h in seen_headers(client_from_config({}.get))] == [f"Bearer {TOKEN}"]


def test_an_error_quoting_a_header_is_scrubbed_in_every_form() -> None:
    """Whatever httpx or h11 puts in an error (raw, repr-escaped, base64 of Basic) comes out masked."""
    for secret, creds in ((TOKEN, {"token": TOKEN}),
                          (PASSWORD, {"username": USER, "password": PASSWORD, "workspace_id": 1})):

        def leaky(request: httpx.Request, secret: str = secret) -> httpx.Response:
            quoted = " ".join([*every_form(secret), repr(request.headers["authorization"])])
            raise httpx.LocalProtocolError(f"Illegal header value {quoted}", request=request)

        with ImprovadoClient(base_url="http://api.test", retry=FAST, **creds) as client:  # type: ignore[arg-type]
            with pytest.raises(APIConnectionError) as failed:
                seen_headers(client, leaky)
        shown = f"{failed.value!s} {failed.value!r} {failed.value.__cause__!r} {failed.value.__context__!r}"
        assert "Illegal header value ***" in shown
        assert not [form for form in every_form(secret) if form in shown]


@pytest.mark.parametrize("url", ["http://admin:s3cr3t-pw@127.0.0.1:9", "https://admin:s3cr3t-pw@api.test/x",
                                 "admin:s3cr3t-pw@127.0.0.1:9", "http://s3cr3t-pw@127.0.0.1:9"])
def test_a_password_in_the_api_url_is_refused_and_never_shown(url: str) -> None:
    with pytest.raises(ConfigurationError, match="API URL") as refused:
        ImprovadoClient(base_url=url, token=TOKEN)
    assert "s3cr3t-pw" not in f"{refused.value!s} {refused.value!r}" and "***@" in str(refused.value)


def cli(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("IMPROVADO_")}
    return subprocess.run([sys.executable, "-m", "improvado_loads.cli", *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_cli_with_a_pasted_newline_or_a_password_in_the_url(emulator: EmulatorServer) -> None:
    done = cli(["loads", "list", "--output", "json"], IMPROVADO_API_URL=emulator.url,
               IMPROVADO_API_TOKEN=EMULATOR_TOKEN + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("[")

    broken = cli(["loads", "list"], IMPROVADO_API_URL=emulator.url, IMPROVADO_API_TOKEN=EMULATOR_TOKEN + "\nX: y")
    assert broken.returncode != 0 and EMULATOR_TOKEN not in broken.stdout + broken.stderr
    assert "Traceback" not in broken.stderr and "control character" in broken.stderr

    in_url = emulator.url.replace("http://", "http://admin:s3cr3t-pw@")
    refused = cli(["loads", "list"], IMPROVADO_API_URL=in_url, IMPROVADO_API_TOKEN=EMULATOR_TOKEN)
    assert refused.returncode != 0 and "s3cr3t-pw" not in refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr and "must not hold a username or password" in refused.stderr
