"""The top-level symbols of a source file, for the repository map.

Python is read with `ast`; JavaScript and TypeScript with tree-sitter's grammars (the one
module that imports tree-sitter). Each symbol is one short string: `parse_age()` for a
function, `class Parser {parse, close}` for a class and its methods, `MAX_AGE` for a constant,
`interface Shape`, `type Id`, `enum Color`, `namespace N` in TypeScript. A file that does not
parse has no symbols: `symbols_of` returns None for it, as for a file in no language we read.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import PurePosixPath

import tree_sitter
import tree_sitter_javascript
import tree_sitter_typescript

# How many methods of a class are named before "…".
MAX_MEMBERS = 12


def language_of(path: str) -> str | None:
    """The language whose symbols we read from `path` (by its suffix), or None."""
    return _LANGUAGES.get(PurePosixPath(path).suffix.lower())


def symbols_of(path: str, text: str) -> tuple[str, ...] | None:
    """The top-level symbols of the file, in source order; None if it does not parse (or is
    in no language we read)."""
    language = language_of(path)
    if language is None:
        return None
    return _READERS[language](text)


# -- Python ------------------------------------------------------------------------------


def _python(text: str) -> tuple[str, ...] | None:
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError):  # ValueError: a NUL byte in the source
        return None
    return tuple(symbol for node in module.body for symbol in _python_node(node))


def _public(name: str) -> bool:
    """Private names (`_helper`, `#field`, dunders) are left out: the map stays short."""
    return not name.startswith(("_", "#"))


def _python_node(node: ast.stmt) -> Iterator[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _public(node.name):
        yield f"{node.name}()"
    elif isinstance(node, ast.ClassDef) and _public(node.name):
        methods = [
            item.name
            for item in node.body
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and _public(item.name)
        ]
        yield _class(node.name, methods)
    elif isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and _is_constant(target.id):
                yield target.id


def _is_constant(name: str) -> bool:
    return name.isupper() and not name.startswith("_")


def _class(name: str, members: list[str]) -> str:
    """`class Parser {parse, close}`; `class Empty`."""
    if not members:
        return f"class {name}"
    shown = members[:MAX_MEMBERS] + (["…"] if len(members) > MAX_MEMBERS else [])
    return f"class {name} {{{', '.join(shown)}}}"


# -- JavaScript and TypeScript (tree-sitter) ---------------------------------------------


@cache
def _parser(language: str) -> tree_sitter.Parser:
    grammars = {
        "javascript": tree_sitter_javascript.language,
        "typescript": tree_sitter_typescript.language_typescript,
        "tsx": tree_sitter_typescript.language_tsx,
    }
    return tree_sitter.Parser(tree_sitter.Language(grammars[language]()))


def _tree_sitter(language: str) -> Callable[[str], tuple[str, ...] | None]:
    def read(text: str) -> tuple[str, ...] | None:
        tree = _parser(language).parse(text.encode("utf-8", errors="replace"))
        if tree.root_node.has_error:
            return None
        return tuple(symbol for node in tree.root_node.named_children for symbol in _js(node))

    return read


# Declarations named by their `name` field, with the word shown before the name.
_NAMED = {
    "function_declaration": "",
    "generator_function_declaration": "",
    "function_signature": "",
    "interface_declaration": "interface ",
    "type_alias_declaration": "type ",
    "enum_declaration": "enum ",
    "internal_module": "namespace ",
    "module": "module ",
}
_CLASSES = ("class_declaration", "abstract_class_declaration", "class")
# Wrappers whose declaration is inside: `export …`, `declare …`, `namespace N {}` as a statement.
_WRAPPERS = ("export_statement", "ambient_declaration", "expression_statement")


def _js(node: tree_sitter.Node) -> Iterator[str]:
    if node.type in _WRAPPERS:
        for child in node.named_children:
            yield from _js(child)
    elif node.type in _CLASSES:
        name = _name(node)
        if name:
            body = node.child_by_field_name("body")
            methods = [
                _name(item) for item in (body.named_children if body else []) if _is_method(item)
            ]
            yield _class(name, [m for m in methods if m and _public(m)])
    elif node.type in _NAMED:
        name = _name(node)
        if name:
            suffix = "()" if "function" in node.type else ""
            yield f"{_NAMED[node.type]}{name}{suffix}"
    elif node.type in ("lexical_declaration", "variable_declaration"):
        for declarator in node.named_children:
            name = _name(declarator)
            value = declarator.child_by_field_name("value")
            if name and value is not None and value.type in _FUNCTION_VALUES:
                yield f"{name}()"
            elif name:
                yield name


def _is_method(node: tree_sitter.Node) -> bool:
    return node.type in ("method_definition", "abstract_method_signature", "method_signature")


def _name(node: tree_sitter.Node) -> str:
    name = node.child_by_field_name("name")
    if name is None or name.type not in _NAME_TYPES or name.text is None:
        return ""
    return name.text.decode("utf-8", errors="replace")


_FUNCTION_VALUES = ("arrow_function", "function", "function_expression", "generator_function")
_NAME_TYPES = (
    "identifier",
    "type_identifier",
    "property_identifier",
    "private_property_identifier",
    "string",
    "nested_identifier",
)

_LANGUAGES = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
}
_READERS: dict[str, Callable[[str], tuple[str, ...] | None]] = {
    "python": _python,
    "javascript": _tree_sitter("javascript"),
    "typescript": _tree_sitter("typescript"),
    "tsx": _tree_sitter("tsx"),
}
