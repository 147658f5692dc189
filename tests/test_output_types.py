"""Resource classes hand Pulumi their output types as objects, evaluated once (not per resource)."""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import _types

from improvado_loads.connections import DestinationConnection
from improvado_loads.resources import Load, LoadRun


@pytest.mark.parametrize("cls", [Load, LoadRun, DestinationConnection])
def test_output_annotations_are_objects_and_give_the_declared_types(cls: type) -> None:
    assert cls.__annotations__ and not [k for k, v in cls.__annotations__.items() if isinstance(v, str)]
    types = _types.resource_types(cls)
    assert set(types) == set(cls.__annotations__)


def test_load_outputs_keep_their_types() -> None:
    """Whole numbers come back as int, the data table as a dict: what the string annotations said."""
    types = _types.resource_types(Load)
    assert types["load_id"] is int and types["data_table_id"] is int and types["workspace_id"] is int
    assert types["data_table"] == dict[str, Any] and types["status"] is str and types["paused"] is bool
