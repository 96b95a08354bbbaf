"""Shared sections of the loss factories' docstrings: one mechanism, :func:`fill_doc`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

__all__ = ["fill_doc"]

F = TypeVar("F", bound=Callable[..., object])


def fill_doc(**sections: str) -> Callable[[F], F]:
    """Decorator: replace each ``%(name)s`` in the docstring by ``sections[name]``.

    A placeholder stands alone on its line; a section is written with the
    indentation it has in the docstring (its leading and trailing blank lines
    are dropped) and may hold placeholders of the other sections. Other ``%``
    signs are left alone.
    """
    def fill(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: fill(sections[m.group(1)].strip("\n")), text)

    def decorate(fn: F) -> F:
        if fn.__doc__:  # (None under python -OO)
            fn.__doc__ = fill(fn.__doc__)
        return fn

    return decorate


_PLACEHOLDER = re.compile(r"^[ \t]*%\((\w+)\)s[ \t]*$", flags=re.MULTILINE)
