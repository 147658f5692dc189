"""The provider process loads only what each step needs: a preview (check, diff) never loads the HTTP stack.

The engine starts one provider process per step and waits for its imports before
the first check; what a preview of an unchanged stack costs over the engine's
floor is mostly that. Checked in a fresh interpreter, as the provider host
unpickles our provider (by reference: the import of its module).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from improvado_loads.provider.profiling import PROFILE_ENV

#: ``__provider`` of a Load in a stack state written before providers pickled without state.
OLD_STATE = "gASVOAAAAAAAAACMHWltcHJvdmFkb19sb2Fkcy5wcm92aWRlci5sb2FklIwMTG9hZFByb3ZpZGVylJOUKYGUfZRiLg=="
#: What only a call to the API needs.
HTTP_STACK = ("httpx", "httpcore", "h11", "tenacity", "rich", "pygments")


def modules_after(code: str) -> set[str]:
    """Top-level packages a fresh interpreter has imported after running ``code``."""
    probe = textwrap.dedent(code) + '\nimport json, sys\nprint("MODULES=" + json.dumps(sorted(sys.modules)))\n'
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("MODULES="))
    return {name.split(".")[0] for name in json.loads(line.removeprefix("MODULES="))}


def test_check_and_diff_of_loads_and_runs_import_no_http_stack() -> None:
    loaded = modules_after(
        """
        import base64, pickle
        from pulumi.dynamic.dynamic import serialize_provider
        from improvado_loads.provider import LoadProvider, LoadRunProvider
        for cls in (LoadProvider, LoadRunProvider):
            provider = pickle.loads(base64.b64decode(serialize_provider(cls())))
            assert type(provider) is cls
        inputs = {"data_table_id": 1, "destination_connection_id": 1, "destination_table": "t", "run_policy": "daily"}
        checked = LoadProvider().check({}, inputs)
        assert not checked.failures, checked.failures
        assert LoadProvider().check({}, {**inputs, "run_policy": "yearly"}).failures[0].property == "run_policy"
        diff = LoadProvider().diff("1", {**checked.inputs, "paused": False}, {**checked.inputs, "run_policy": "hourly"})
        assert diff.changes and not diff.replaces
        run = LoadRunProvider().check({}, {"load_id": 1, "triggers": [], "wait": True, "timeout_seconds": 60})
        assert not run.failures, run.failures
        """
    )
    assert "pydantic" in loaded and "improvado_loads" in loaded
    assert not loaded & set(HTTP_STACK), sorted(loaded & set(HTTP_STACK))


def test_the_client_is_still_one_import_away() -> None:
    loaded = modules_after(
        """
        from improvado_loads.client import ENV_VARS, ImprovadoClient, PageIterator, RetryPolicy
        import improvado_loads.client as package
        assert "ImprovadoClient" in dir(package) and package.ImprovadoClient is ImprovadoClient
        try:
            package.NoSuchName
        except AttributeError as exc:
            assert "NoSuchName" in str(exc)
        else:
            raise AssertionError("no AttributeError")
        with ImprovadoClient(base_url="http://127.0.0.1:9", token="t") as client:
            assert client.base_url == "http://127.0.0.1:9"
        """
    )
    assert "httpx" in loaded


def test_the_provider_process_leaves_its_start_up_heap_out_of_collections() -> None:
    """What is loaded by configure, and then by the client, is frozen (``gc.freeze``): full collections skip it."""
    probe = textwrap.dedent(
        """
        import gc
        from improvado_loads.provider import LoadProvider
        assert gc.get_freeze_count() == 0
        provider = LoadProvider()
        provider.configure(type("Req", (), {"config": {"improvado:apiUrl": "http://127.0.0.1:9",
                                                       "improvado:token": "t"}})())
        configured = gc.get_freeze_count()
        assert provider.client.base_url == "http://127.0.0.1:9"
        print(f"FROZEN={configured},{gc.get_freeze_count()}")
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    configured, with_client = map(int, done.stdout.split("FROZEN=")[1].split(","))
    assert configured > 10_000 and with_client > configured  # the client's modules (httpx) joined them


def test_the_provider_process_profiles_itself_when_asked(tmp_path: Path) -> None:
    """IMPROVADO_PROVIDER_PROFILE=DIR: the configuring thread and later threads are profiled into DIR."""
    probe = textwrap.dedent(
        """
        import pstats, threading
        from improvado_loads.provider import LoadProvider
        from improvado_loads.provider.profiling import dump

        def configured_elsewhere():
            LoadProvider().configure(type("Req", (), {"config": {}})())
            LoadProvider().check({}, {"run_policy": "daily"})

        def later_thread_work():
            LoadProvider().diff("1", {"run_policy": "daily"}, {"run_policy": "hourly"})

        for target in (configured_elsewhere, later_thread_work):
            thread = threading.Thread(target=target)
            thread.start()
            thread.join()
        path = dump()
        names = {name for _file, _line, name in pstats.Stats(str(path)).stats}
        print("PROFILED=" + ",".join(sorted(n for n in names if n in ("check", "diff"))))
        """
    )
    env = {**os.environ, PROFILE_ENV: str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert "PROFILED=check,diff" in done.stdout
    assert len(list(tmp_path.glob("provider-*.prof"))) == 1
    off = "from improvado_loads.provider.profiling import start_if_asked, dump\nstart_if_asked()\nassert dump() is None"
    unset = subprocess.run([sys.executable, "-c", off], capture_output=True, text=True, timeout=120,
                           env={k: v for k, v in os.environ.items() if k != PROFILE_ENV})
    assert unset.returncode == 0, unset.stderr


def test_thousands_of_our_resources_in_one_program_pickle_without_recursion() -> None:
    """Pulumi's serialize_provider wraps pickle's dict writer once more per dynamic resource; ours pickle no dict."""
    probe = f"OLD_STATE = {OLD_STATE!r}\n" + textwrap.dedent(
        """
        import base64, pickle
        from pulumi.dynamic.dynamic import serialize_provider
        from improvado_loads.provider import LoadProvider, LoadRunProvider
        from improvado_loads.provider.connection import ConnectionProvider
        for _ in range(1000):
            for cls in (LoadProvider, LoadRunProvider, ConnectionProvider):
                blob = serialize_provider(cls())
        provider = pickle.loads(base64.b64decode(blob))
        assert type(provider) is ConnectionProvider and provider.__dict__ == {}
        # A stack state written before: the class and an empty dict of state.
        old = pickle.loads(base64.b64decode(OLD_STATE))
        assert type(old) is LoadProvider and old.__dict__ == {}
        print("OK")
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "OK"
