"""Output annotations of this package's resource classes, evaluated once instead of at every resource.

For every resource it registers, Pulumi's SDK reads the resource class's annotations
(``status: pulumi.Output[str]``) to convert the engine's values (a whole number
arrives as a float; an ``int`` output turns it back into an ``int``). Under
``from __future__ import annotations`` those annotations are strings, which the SDK
compiles and evaluates again for each resource: about 0.2 ms of the program's time
per ``Load``. :func:`evaluated_outputs` replaces them once with the objects they
name; the SDK then reads the same types, only without compiling them.
"""

from __future__ import annotations

import inspect
from typing import TypeVar

__all__ = ["evaluated_outputs"]

C = TypeVar("C", bound=type)


def evaluated_outputs(cls: C) -> C:
    """Class decorator: the class's own annotations, evaluated in its module (the same types, as objects)."""
    cls.__annotations__ = inspect.get_annotations(cls, eval_str=True)
    return cls
