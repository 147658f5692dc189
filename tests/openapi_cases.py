"""What the schemathesis-driven checks share (tests/test_openapi.py and benchmarks/reliability.py)."""

from __future__ import annotations

from typing import Any

__all__ = ["on_loopback"]


def on_loopback(body: Any) -> None:
    """Point any generated connection ``host`` at loopback port 9 (nothing listens): nothing reaches the network."""
    if isinstance(body, dict):
        for key, value in list(body.items()):
            if key == "host":
                body[key], body["port"] = "127.0.0.1", 9
            else:
                on_loopback(value)
    elif isinstance(body, list):
        for item in body:
            on_loopback(item)
