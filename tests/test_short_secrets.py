"""A secret under 4 characters is not masked inside ordinary words: the mask would garble the line and give it
away ("--***en" says the token is "tok"). Longer secrets are masked as before."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from improvado_loads import contract
from improvado_loads.cli.common import error_line
from improvado_loads.emulator import EmulatorServer

from .conftest import EMULATOR_TOKEN

SCRIPT = Path(sys.executable).parent / "improvado-loads"


def test_error_lines_mask_secrets_of_four_characters_or_more_only() -> None:
    assert error_line("the response said port 5432", ["res", "p"]) == "error: the response said port 5432"
    assert error_line("refused s3cr3t-pw at port 5432", ["s3cr3t-pw"]) == "error: refused *** at port 5432"


def test_a_short_token_on_the_emulators_command_line_is_refused_in_plain_words(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPROVADO_")}
    done = subprocess.run([str(SCRIPT), "emulator", "serve", "--data-dir", str(tmp_path), "--token", "tok"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "error: --token on the command line would show in `ps`" in done.stderr, done.stderr


def test_a_one_letter_password_does_not_garble_the_drivers_words(emulator: EmulatorServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = int(sock.getsockname()[1])
    params = {"host": "127.0.0.1", "port": closed, "database": "d", "user": "u", "password": "p"}
    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"}) as api:
        created = api.post(contract.destination_connections_path("postgresql"),
                           json={"title": "short", "connection_params": params})
    assert created.status_code == 201, created.text
    message = created.json()["status_message"]
    assert f"port {closed}" in message and "***" not in message, message
