"""What the command line's own process skips while it starts, and in a short-lived command.

**The garbage collector.** Starting a command allocates about a hundred thousand
objects that live as long as the process (modules, classes, Typer's commands,
pydantic's validators), and Python's young-generation collections walk each of
them once or twice to free nothing: about 10 ms of ``loads list``, more than any
one import. :func:`pause` stops collecting at the first line of
:func:`improvado_loads.cli.main`. :func:`resume` starts again where a command's
work begins (:func:`work`, around every command body), first putting every object
made so far into the oldest generation (``gc.freeze()`` then ``gc.unfreeze()``: "put
them back into the oldest generation", where Python would have moved them) without
walking them. From then on collections run as in any Python program, so a
long-running command (``emulator serve``, ``deploy``, ``loads run --wait``) collects
its cycles, and start-up's own cyclic garbage goes at the next full collection.

A command marked :func:`short_lived` (a bounded number of requests, then its output:
``loads list``, ``loads get``...) runs to its end with the collector paused: the
cyclic garbage it can leave is a few objects per request, bounded by what it prints,
and the process ends with it (the heap is frozen at exit, see ``main``).

**pydantic's plugin scan.** The first validator pydantic builds in a process reads
the entry points of every installed distribution, looking for pydantic plugins (about
3 ms). A short-lived command runs with ``PYDANTIC_DISABLE_PLUGINS=__all__``: a plugin
installed beside this tool (logfire's, say) does not see the validation of the API's
answers by the command line. Its own programs, the Pulumi provider and the emulator
are unaffected, and so is a user who sets ``PYDANTIC_DISABLE_PLUGINS`` themselves (their
value is kept). The variable is removed again when the command ends, and a
short-lived command starts no other process that could inherit it.

Both apply only to the process that :func:`improvado_loads.cli.main` runs: an
in-process caller of the Typer app (tests) keeps its collector and plugins as they are.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["PLUGINS_ENV", "pause", "resume", "short_lived", "work"]

F = TypeVar("F", bound=Callable[..., Any])

#: pydantic's switch for its plugins (``__all__``, ``1`` or ``true``: none is loaded).
PLUGINS_ENV = "PYDANTIC_DISABLE_PLUGINS"
#: The attribute that marks a short-lived command function.
_MARK = "__improvado_short_lived__"

#: Whether :func:`pause` stopped the collector (so :func:`resume` starts it again).
_paused = False


def pause() -> None:
    """Stop collecting until :func:`resume`, unless the collector is already off (the caller's choice)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Collect again if :func:`pause` stopped it, every object made so far moved to the oldest generation."""
    global _paused
    if not _paused:
        return
    _paused = False
    if gc.get_freeze_count() == 0:  # a caller's own frozen objects stay frozen: then no promotion
        gc.freeze()
        gc.unfreeze()
    gc.enable()


def short_lived(func: F) -> F:
    """Mark a command whose work is bounded (a few requests, then its output): see the module's doc."""
    setattr(func, _MARK, True)
    return func


@contextmanager
def work(func: Callable[..., Any]) -> Iterator[None]:
    """Around a command's body: collect again, unless it is :func:`short_lived` in main's process."""
    if not (_paused and getattr(func, _MARK, False)):
        resume()
        yield
        return
    if PLUGINS_ENV in os.environ:  # the user's own setting stands
        yield
        return
    os.environ[PLUGINS_ENV] = "__all__"
    try:
        yield
    finally:
        os.environ.pop(PLUGINS_ENV, None)
