"""The deploy program runner's two tests of "the engine shut the program down" (real loopback sockets)."""

from __future__ import annotations

import socket

import grpc  # type: ignore[import-untyped]

from improvado_loads.deploy.program_runner import caused_by_refused_call, monitor_gone


class Refused(grpc.RpcError):  # type: ignore[misc]
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


def raised_while_handling(cause: BaseException) -> Exception:
    """An exception raised inside ``except`` of ``cause`` (as the SDK's handle_grpc_error raises)."""
    try:
        try:
            raise cause
        except BaseException:
            raise Exception("context canceled")  # noqa: B904  (the implicit context is the point)
    except Exception as exc:
        return exc


def test_a_refused_call_is_found_among_the_causes() -> None:
    assert caused_by_refused_call(raised_while_handling(Refused(grpc.StatusCode.CANCELLED)))
    assert not caused_by_refused_call(Exception("no cause at all"))
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = raised_while_handling(Refused(grpc.StatusCode.UNAVAILABLE))
    assert caused_by_refused_call(wrapped)
    assert not caused_by_refused_call(raised_while_handling(Refused(grpc.StatusCode.INVALID_ARGUMENT)))
    assert not caused_by_refused_call(raised_while_handling(ValueError("the program's own")))


def test_the_monitor_is_gone_only_when_it_refuses_connections() -> None:
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        address = f"127.0.0.1:{listening.getsockname()[1]}"
        assert not monitor_gone(address, grace_s=0)
    assert monitor_gone(address, grace_s=0)  # closed: refused
    assert not monitor_gone("", grace_s=0) and not monitor_gone("unix:/tmp/x", grace_s=0)
