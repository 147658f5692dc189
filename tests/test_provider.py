"""The providers' own logic, called directly: check, diff, pickling, where credentials come from."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from improvado_loads import contract
from improvado_loads.provider import LoadProvider, LoadRunProvider
from improvado_loads.provider.settings import client_from_config

UNKNOWN = Unknown()
OLD = {
    "data_table_id": 1, "destination_connection_id": 1, "destination_table": "ads", "run_policy": "daily",
    "load_historical_data": False, "deletion_policy": "delete", "adopt_load_id": None, "load_id": 7,
    "status": "success", "paused": False,
}


def failures(provider: Any, news: dict[str, Any]) -> dict[str, str]:
    return {f.property: f.reason for f in provider.check({}, news).failures}


def test_check_accepts_a_good_load_and_fills_defaults() -> None:
    result = LoadProvider().check({}, {"data_table_id": 1.0, "destination_connection_id": 2.0,
                                       "destination_table": "ads", "run_policy": "daily", "__provider": "x"})
    assert result.failures == []
    assert result.inputs == {
        "data_table_id": 1, "destination_connection_id": 2, "destination_table": "ads", "run_policy": "daily",
        "load_historical_data": False, "deletion_policy": contract.DEFAULT_DELETION_POLICY, "adopt_load_id": None,
        "allow_shared_table": False, "paused": False,
    }


def test_check_names_every_bad_property() -> None:
    found = failures(LoadProvider(), {
        "data_table_id": 0, "destination_connection_id": 1, "destination_table": "no spaces please",
        "run_policy": "monthly", "deletion_policy": "shred", "adopt_load_id": "x", "colour": "red",
    })
    assert set(found) == {"data_table_id", "destination_table", "run_policy", "deletion_policy",
                          "adopt_load_id", "colour"}
    assert "unknown property 'colour'" in found["colour"]
    assert "'shred' is not one of delete, pause, retain" in found["deletion_policy"]


def test_check_requires_the_identity_and_the_run_policy() -> None:
    assert set(failures(LoadProvider(), {})) == {
        "data_table_id", "destination_connection_id", "destination_table", "run_policy"}


def test_check_leaves_unknown_values_alone_during_preview() -> None:
    news = {"data_table_id": UNKNOWN, "destination_connection_id": UNKNOWN, "destination_table": "ads",
            "run_policy": "daily"}
    result = LoadProvider().check({}, news)
    assert result.failures == []
    assert result.inputs["data_table_id"] == UNKNOWN


def test_adopt_load_id_is_spent_once_the_load_is_in_the_stack() -> None:
    from improvado_loads.provider.load import _IN_STACK

    news = LoadProvider().check({}, {"data_table_id": 1, "destination_connection_id": 1,
                                     "destination_table": "ads_x", "run_policy": "daily", "adopt_load_id": 7.0}).inputs
    assert news not in _IN_STACK  # a first create adopts
    LoadProvider().diff("7", OLD, {**news, "__provider": "x"})
    assert news in _IN_STACK  # diffed: in the stack, so a create now is a replacement and creates
    assert {**news, "destination_table": "ads_y"} not in _IN_STACK


def test_provider_errors_are_one_line_and_others_keep_their_traceback() -> None:
    from improvado_loads.errors import NotFoundError
    from improvado_loads.provider import ProviderError
    from improvado_loads.provider.errors import one_line

    assert one_line(ProviderError("cannot adopt load 3:\nno such load")) == "cannot adopt load 3: no such load"
    assert one_line(NotFoundError("load 3 does not exist", status_code=404)) == "load 3 does not exist"
    assert one_line(KeyError("bug")) is None


@pytest.mark.parametrize(
    ("change", "changes", "replaces", "delete_first"),
    [
        ({}, False, [], False),
        ({"run_policy": "hourly"}, True, [], False),
        ({"paused": True}, True, [], False),
        ({"deletion_policy": "pause"}, True, [], False),
        ({"adopt_load_id": 7}, False, [], False),
        ({"destination_table": "ads2"}, True, ["destination_table"], False),
        ({"destination_connection_id": 2.0}, True, ["destination_connection_id"], False),
        ({"load_historical_data": True}, True, ["load_historical_data"], True),
        # Same (connection, table): the old load goes first, a second load into one table is refused.
        ({"data_table_id": UNKNOWN}, True, ["data_table_id"], True),
        ({"data_table_id": 2.0}, True, ["data_table_id"], True),
        ({"run_policy": UNKNOWN}, True, [], False),
    ],
)
def test_diff_is_local_and_exact(
    change: dict[str, Any], changes: bool, replaces: list[str], delete_first: bool
) -> None:
    news = {k: OLD[k] for k in ("data_table_id", "destination_connection_id", "destination_table", "run_policy",
                                "load_historical_data", "deletion_policy", "adopt_load_id", "paused")}
    result = LoadProvider().diff("7", OLD, {**news, **change, "__provider": "x"})
    assert (result.changes, result.replaces, bool(result.delete_before_replace)) == (changes, replaces, delete_first)


def test_load_run_check_and_diff() -> None:
    assert failures(LoadRunProvider(), {"load_id": 3.0, "date_from": "2026-01-01"}) == {
        "date_to": "date_to is missing: date_from and date_to go together"}
    assert set(failures(LoadRunProvider(), {"load_id": 0, "timeout_seconds": -1, "when": "now"})) == {
        "load_id", "timeout_seconds", "when"}
    old = {"load_id": 3, "date_from": None, "date_to": None, "triggers": ["a"], "wait": True, "timeout_seconds": 60}
    assert LoadRunProvider().diff("x", old, {**old, "triggers": ["b"]}).replaces == ["triggers"]
    same = LoadRunProvider().diff("x", old, dict(old))
    assert (same.changes, same.replaces) == (False, [])
    assert LoadRunProvider().diff("x", old, {**old, "wait": False}).replaces == []


def test_providers_pickle_by_reference_and_never_with_credentials() -> None:
    provider = LoadProvider()
    provider._client = "a client holding secret-token"  # what configure/first use leave behind
    provider._lookup = {"improvado:token": "secret-token"}.get
    pickled = serialize_provider(provider)
    raw = base64.b64decode(pickled)
    assert b"improvado_loads.provider.load" in raw and b"LoadProvider" in raw
    assert b"secret-token" not in raw and len(pickled) < 200
    assert len(serialize_provider(LoadRunProvider())) < 200
    from improvado_loads.provider.connection import ConnectionProvider

    assert len(serialize_provider(ConnectionProvider())) < 200
    assert LoadProvider.serialize_as_secret_always is False


def test_stack_config_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMPROVADO_API_URL", "http://from-env:1")
    monkeypatch.setenv("IMPROVADO_API_TOKEN", "env-token")
    config = {"improvado:apiUrl": "http://from-config:2"}
    client = client_from_config(config.get)
    assert client.base_url == "http://from-config:2"
    assert client._core._http.auth._token == "env-token"  # type: ignore[union-attr]
    monkeypatch.delenv("IMPROVADO_API_TOKEN")
    with pytest.raises(Exception, match="no Improvado credentials"):
        client_from_config({}.get)


CONN = {"destination_name": "postgresql", "title": "Warehouse", "create_load_for_new_tables": False,
        "connection_params": {"host": "db", "port": 5432, "database": "a", "user": "u"},
        "secret_params": {"password": "pw"}, "deletion_policy": "delete", "adopt_connection_id": None}


def test_connection_check_names_each_bad_param_and_never_the_password() -> None:
    from improvado_loads.provider.connection import ConnectionProvider

    news = {**CONN, "connection_params": {"host": "db", "port": "x", "colour": 1}, "secret_params": {},
            "deletion_policy": "pause", "__provider": "p"}
    found = {f.property: f.reason for f in ConnectionProvider().check({}, news).failures}
    assert {"connection_params.port", "connection_params.colour", "connection_params.password",
            "connection_params.database", "deletion_policy"} <= set(found)
    ok = ConnectionProvider().check({}, {**CONN, "connection_params": {**CONN["connection_params"], "port": 5432.0}})
    assert ok.failures == [] and ok.inputs["connection_params"]["port"] == 5432
    assert "pw" not in str(ConnectionProvider().check({}, {**CONN, "connection_params": {"port": "x"}}).failures)


@pytest.mark.parametrize(
    ("change", "changes", "replaces"),
    [
        ({}, False, []),
        ({"secret_params": {"password": "rotated"}}, True, []),  # a rotation is an update
        ({"connection_params": {**CONN["connection_params"], "host": "db2"}}, True, []),
        ({"title": "Warehouse 2"}, True, []),
        ({"adopt_connection_id": 4}, False, []),
        ({"destination_name": "sqlite"}, True, ["destination_name"]),
        ({"status": "error"}, True, []),  # not active: the next up tests it again
    ],
)
def test_connection_diff(change: dict[str, Any], changes: bool, replaces: list[str]) -> None:
    from improvado_loads.provider.connection import ConnectionProvider

    olds = {**CONN, "status": "active", "connection_id": 3}
    news = {**CONN, **{k: v for k, v in change.items() if k != "status"}}
    if "status" in change:
        olds["status"] = change["status"]
    result = ConnectionProvider().diff("3", olds, {**news, "__provider": "p"})
    assert (result.changes, result.replaces) == (changes, replaces)


def test_closest_titles_for_a_look_up_that_matched_nothing() -> None:
    from improvado_loads.lookups import closest

    tables = [(1, "Google Ads campaign performance"), (2, "Facebook Ads by account"), (3, "Campaign lifetime totals")]
    assert closest("google ads campaign perf", tables)[0] == (1, "Google Ads campaign performance")
    assert closest("Campaign totals", tables)[0] == (3, "Campaign lifetime totals")
    assert closest("zzz", tables) == []


def test_a_stacks_own_credentials_are_not_completed_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A cloned stack's username, password and workspaceId are used although a token is exported."""
    monkeypatch.setenv("IMPROVADO_API_TOKEN", "workspace-1-token")
    monkeypatch.setenv("IMPROVADO_WORKSPACE_ID", "1")
    config = {"improvado:username": "demo", "improvado:password": "pw", "improvado:workspaceId": "2"}
    auth = client_from_config(config.get)._core._http.auth
    assert auth._token is None and auth._workspace_id == 2  # type: ignore[union-attr]
    # Without credentials in the stack, the environment still gives them (the workspace from the stack).
    auth = client_from_config({"improvado:workspaceId": "2"}.get)._core._http.auth
    assert auth._token == "workspace-1-token"  # type: ignore[union-attr]
