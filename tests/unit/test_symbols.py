"""Top-level symbols of source files: Python by `ast`, JavaScript and TypeScript by tree-sitter."""

from __future__ import annotations

from bot.workspace.symbols import MAX_MEMBERS, language_of, symbols_of

PYTHON = '''\
"""A module."""
import os

MAX_AGE = 150
_PRIVATE = 1
lower = 2
LIMIT: int = 3


def parse_age(text):
    return int(text)


async def fetch():
    pass


def _helper():
    pass


class Parser(Base):
    def __init__(self):
        pass

    def parse(self):
        pass

    async def close(self):
        pass


class _Hidden:
    pass


class Empty:
    x = 1
'''


def test_python_names_its_public_functions_classes_with_methods_and_constants():
    assert symbols_of("calc/ages.py", PYTHON) == (
        "MAX_AGE",
        "LIMIT",
        "parse_age()",
        "fetch()",
        "class Parser {parse, close}",
        "class Empty",
    )


def test_a_class_with_many_methods_names_the_first_ones():
    methods = "".join(f"    def m{n}(self):\n        pass\n" for n in range(MAX_MEMBERS + 3))
    (shown,) = symbols_of("big.py", f"class Big:\n{methods}")
    assert shown.startswith("class Big {m0, m1,") and shown.endswith(f"m{MAX_MEMBERS - 1}, …}}")


JAVASCRIPT = """\
import { x } from "./x.js";
export function parse(text) { return Number(text); }
function* ids() { yield 1; }
export default class Store { get(key) {} set(key, value) {} #secret() {} static create() {} }
const handler = () => 1, LIMIT = 10;
export const render = function (v) { return String(v); };
let counter;
module.exports = { parse };
"""


def test_javascript_names_functions_classes_with_methods_and_declarations():
    assert symbols_of("src/store.js", JAVASCRIPT) == (
        "parse()",
        "ids()",
        "class Store {get, set, create}",
        "handler()",
        "LIMIT",
        "render()",
        "counter",
    )


def test_jsx_is_read_by_the_javascript_grammar():
    assert symbols_of("App.jsx", "export const App = () => <div>hi</div>;\n") == ("App()",)


TYPESCRIPT = """\
export interface Shape { area(): number }
type Id = string;
export enum Color { Red, Green }
export abstract class Base { abstract area(): number; describe(): string { return ""; } }
export function make<T>(value: T): T { return value; }
namespace Geometry { export const PI = 3.14; }
declare function external(): void;
declare module "legacy" {}
const origin: Shape = { area: () => 0 };
"""


def test_typescript_names_interfaces_types_enums_classes_functions_and_namespaces():
    assert symbols_of("src/shapes.ts", TYPESCRIPT) == (
        "interface Shape",
        "type Id",
        "enum Color",
        "class Base {area, describe}",
        "make()",
        "namespace Geometry",
        "external()",
        'module "legacy"',
        "origin",
    )


def test_tsx_is_read_by_the_tsx_grammar():
    source = "export function App(props: { name: string }) { return <b>{props.name}</b>; }\n"
    assert symbols_of("ui/App.tsx", source) == ("App()",)
    assert symbols_of("ui/App.ts", source) is None  # JSX is not TypeScript


def test_broken_files_have_no_symbols():
    assert symbols_of("broken.py", "def parse(:\n    pass\n") is None
    assert symbols_of("nul.py", "x = 1\0\n") is None
    assert symbols_of("broken.js", "function parse( {\n") is None
    assert symbols_of("broken.ts", "interface {\n") is None


def test_files_in_other_languages_are_not_read():
    assert language_of("README.md") is None and symbols_of("README.md", "# def f()") is None
    assert language_of("Main.PY") == "python" and language_of("x.mjs") == "javascript"
    assert symbols_of("empty.py", "") == ()
