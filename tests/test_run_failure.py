"""``loads.wait``: a failed run is returned by default, raised as RunFailedError when asked."""

from __future__ import annotations

import pytest

from improvado_loads import ImprovadoClient, RunFailedError
from improvado_loads.emulator import EmulatorControl

ADS = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "google_ads_daily"}


def test_a_failed_run_is_returned_or_raised_with_the_destinations_error(
    client: ImprovadoClient, control: EmulatorControl
) -> None:
    load = client.loads.create(**ADS)
    control.set_connection(1, dsn="postgresql://nobody@127.0.0.1:9/gone")

    client.loads.run(load.id)
    returned = client.loads.wait(load.id, timeout=30, poll_interval=0.05)
    assert str(returned.status) == "failed" and "port 9 failed" in (returned.error_text or "")

    client.loads.run(load.id)
    with pytest.raises(RunFailedError) as raised:
        client.loads.wait(load.id, timeout=30, poll_interval=0.05, raise_on_failure=True)
    error = raised.value
    assert (error.load_id, error.method, error.path) == (load.id, "GET", f"/api/v3/loads/{load.id}")
    assert error.error_text and "port 9 failed" in error.error_text
    assert str(error) == f"the run of load {load.id} failed: {error.error_text}"


def test_raise_on_failure_returns_a_successful_run(client: ImprovadoClient) -> None:
    load = client.loads.create(**ADS)
    client.loads.run(load.id)
    done = client.loads.wait(load.id, timeout=30, poll_interval=0.05, raise_on_failure=True)
    assert str(done.status) == "success" and done.uploaded_rows_count and done.uploaded_rows_count > 0
