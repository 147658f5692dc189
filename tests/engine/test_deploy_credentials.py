"""``deploy up -c improvado:token=...`` stores the credential as a secret, never in plain text."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from improvado_loads import ImprovadoClient
from improvado_loads.contract import holds_credential, is_credential_key
from improvado_loads.emulator import EmulatorServer

from .conftest import PROGRAM, engine_env

SCRIPT = Path(sys.executable).parent / "improvado-loads"
ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "ads_daily", "run_policy": "daily"}


def test_credential_keys() -> None:
    for key in ("improvado:token", "improvado:password", "db:dbPassword", "x:apiKey", "x:client-secret"):
        assert is_credential_key(key), key
    for key in ("improvado:apiUrl", "improvado:username", "improvado:workspaceId", "test:loads"):
        assert not is_credential_key(key), key
    # A JSON value with a credential inside is one too, whatever its key.
    assert holds_credential("app:warehouse", '{"host": "h", "params": [{"password": "p"}]}')
    assert not holds_credential("app:warehouse", '{"host": "h", "secret_password": true, "password": ""}')
    assert not holds_credential("test:loads", json.dumps({"ads": ADS}))
    assert not holds_credential("app:title", "my password is not json")
    # A URL with a password in it, alone or inside JSON, whatever the key.
    assert holds_credential("improvado:apiUrl", "http://admin:pw@127.0.0.1:8765")
    assert holds_credential("app:warehouse", '{"url": "postgresql://u:pw@db:5432/w"}')
    assert not holds_credential("improvado:apiUrl", "http://127.0.0.1:8765")
    assert not holds_credential("app:note", "mailto:someone@example.com")


def test_a_token_given_as_plain_config_is_stored_as_a_secret(
    tmp_path: Path, emulator: EmulatorServer, token: str, api: ImprovadoClient
) -> None:
    work_dir = tmp_path / "program"
    shutil.copytree(PROGRAM, work_dir)
    settings = (work_dir / "Pulumi.yaml").read_text().replace("../../../.venv", sys.prefix)
    (work_dir / "Pulumi.yaml").write_text(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMPROVADO_")} | engine_env(tmp_path)
    done = subprocess.run(
        [str(SCRIPT), "deploy", "up", "--stack", "dev", "--create", "--yes", "--cwd", str(work_dir),
         "-c", f"improvado:apiUrl={emulator.url}", "-c", f"improvado:token={token}",
         "-c", f"test:loads={json.dumps({'ads': ADS})}",
         "-c", f"app:warehouse={json.dumps({'host': '127.0.0.1', 'password': 'pw-' + token})}"],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(api.loads.list().to_list()) == 1  # the token worked
    stack_config = (work_dir / "Pulumi.dev.yaml").read_text()
    assert "secure:" in stack_config and token not in stack_config  # token and pw-token: both encrypted
    on_disk = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert on_disk and all(token not in p.read_text(errors="replace") for p in on_disk)
    assert token not in done.stdout + done.stderr
