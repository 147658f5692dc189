"""Raw inputs the routes read before any model does: ids in queries, JSON bodies.

Both bounds come from the contract: an id is an integer from 1 to
``contract.MAX_ID``, and a JSON body nests at most ``contract.MAX_JSON_DEPTH``
levels. Anything else is a 400 naming the field, never a server error.
"""

from __future__ import annotations

import json
from typing import Any

from improvado_loads import contract
from improvado_loads.emulator.http_errors import NON_FIELD, bad_request

__all__ = ["ID_MESSAGE", "parse_id", "parse_json"]

ID_MESSAGE = f"Ensure this value is an integer from 1 to {contract.MAX_ID}."


def parse_id(field: str, raw: str) -> int:
    """A query parameter as an id, or a 400 naming ``field``."""
    text = raw.strip()
    if not text.isdigit() or len(text) > len(str(contract.MAX_ID)) or not 1 <= int(text) <= contract.MAX_ID:
        raise bad_request({field: [ID_MESSAGE]})
    return int(text)


def _depth(value: Any) -> int:
    """How deep containers nest in a decoded JSON value (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def parse_json(raw: bytes) -> Any:
    """A request body decoded; None when empty; 400 when malformed or nested too deeply."""
    if not raw.strip():
        return None
    too_deep = bad_request(
        {NON_FIELD: [f"JSON nests deeper than {contract.MAX_JSON_DEPTH} levels."]}, detail="Malformed JSON body."
    )
    try:
        value = json.loads(raw)
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise bad_request({NON_FIELD: [f"JSON parse error: {exc}"]}, detail="Malformed JSON body.") from None
    if _depth(value) > contract.MAX_JSON_DEPTH:
        raise too_deep
    return value
