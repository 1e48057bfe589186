"""Showing the installed torch's own source code, optionally without its docstring."""
from __future__ import annotations

import ast
import inspect
import textwrap
from typing import Any


def source_of(obj: Any, docstring: bool = False) -> str:
    """The source of the function/class ``obj`` as installed; with ``docstring=False`` the docstring is cut out.

    Raises TypeError (naming ``obj``) when Python cannot find its source, e.g. for a built-in function.
    """
    try:
        source = textwrap.dedent(inspect.getsource(obj))
    except (TypeError, OSError) as error:
        raise TypeError(f"cannot show the source of {obj!r}: {error}. Pass a Python function, method or class.") from None
    if docstring:
        return source
    tree = ast.parse(source)
    node = tree.body[0]
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str):
        lines = source.splitlines()
        doc = body[0]
        indent = lines[doc.lineno - 1][: len(lines[doc.lineno - 1]) - len(lines[doc.lineno - 1].lstrip())]
        lines[doc.lineno - 1: doc.end_lineno] = [f'{indent}"""...docstring omitted..."""']
        return "\n".join(lines) + "\n"
    return source
