"""Python and settings text read without running it: syntax trees of setup.py and noxfile.py,
the literals in them, and the lines of an ini or requirements value."""

from __future__ import annotations

import ast


def setting_lines(value: str) -> list[str]:
    """A multi-line setting's entries, without blank lines and trailing ` # comments`."""
    return [line.split(" #")[0].strip() for line in value.splitlines() if line.strip()]


def syntax_tree(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):  # ValueError: a NUL byte in the text
        return None


def callee(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def dict_items(node: ast.expr | None) -> list[tuple[str, ast.expr]]:
    if not isinstance(node, ast.Dict):
        return []
    return [
        (key.value, value)
        for key, value in zip(node.keys, node.values, strict=True)
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    ]


def literal_strings(node: ast.expr | None) -> list[str] | None:
    try:
        value = ast.literal_eval(node) if node is not None else None
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None
    if isinstance(value, str):
        return setting_lines(value)
    ok = isinstance(value, list | tuple) and all(isinstance(item, str) for item in value)
    return list(value) if ok else None
