"""Markdown the crew posts may link and show images only from allowed hosts.

A fooled model can put private code, base64-encoded, into an image URL: GitHub's image proxy
fetches it as soon as someone views the post. So every link and image in what the crew posts
is found by a real CommonMark parser with GitHub's extensions (markdown-it-py, linkify-it-py):
inline and reference-style links and images, `<autolinks>`, bare `https://` / `www.` URLs and
e-mail addresses, and the URL attributes of raw HTML (`<img src>`, `<a href>`, `srcset`, …).
One whose URL is not relative and not to an allowed host (`bot.security.hosts`) is rendered
inert as code text, where GitHub links nothing. The result is parsed again until nothing is
left; text that still does not come out clean is posted whole inside a code block. Hidden
characters (tag, bidi, zero-width) go first, as from every title and text the crew republishes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from bot.security.hidden import strip_hidden
from bot.security.hosts import allowed_url

# Attributes whose value is (or lists) URLs a browser fetches or follows.
_URL_ATTRIBUTES = {
    "src", "href", "srcset", "longdesc", "cite", "action", "formaction", "poster",
    "background", "data", "xlink:href", "lowsrc", "dynsrc", "ping", "manifest", "codebase",
}  # fmt: skip
_PASSES = 4
_BACKTICKS = re.compile(r"`+")
Span = tuple[int, int]
# What GitHub autolinks in text that linkify-it may not (it checks the top-level domain):
# `www.` names and e-mail addresses; neither is ever an allowed link (no scheme, or mailto).
_AUTOLINKED = re.compile(
    r"(?<![\w.@/-])www\.[\w-]+(?:\.[\w-]+)*[^\s<]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE
)


def clean_text(text: str) -> str:
    """A title or plain text as a reader sees it: no hidden characters (tag, bidi, zero-width)."""
    return strip_hidden(text, markup=False)


def sanitize_markdown(text: str, hosts: frozenset[str]) -> str:
    """`text` with hidden characters stripped and every link or image to a host not in `hosts`
    (spelt by `bot.security.hosts.host_set`) turned into code text."""
    text = clean_text(text)
    for _ in range(_PASSES):
        spans = _unsafe_spans(text, hosts)
        if spans is None:
            break
        if not spans:
            return text
        text = _inert(text, spans)
    return _fenced(text)


def unsafe_urls(text: str, hosts: frozenset[str]) -> list[str]:
    """The URLs in `text` a reader's browser would follow or fetch that are not allowed."""
    return [finding.url for finding in _findings(text, hosts)]


# -- finding -------------------------------------------------------------------------------


def _parser() -> MarkdownIt:
    md = MarkdownIt("gfm-like", {"linkify": True})
    md.validateLink = lambda url: True  # judged here, every scheme included
    # The linkify rule starts at the `:` after its scheme: its source is its link's text.
    for name in ("link", "image", "autolink", "html_inline"):
        rule = md.inline.ruler.__rules__[md.inline.ruler.__find__(name)]
        rule.fn = _recording(rule.fn)
    return md


def _recording(fn: Callable[[StateInline, bool], bool]) -> Callable[[StateInline, bool], bool]:
    """The rule, noting on each token it makes where in the inline source it started and ended."""

    def rule(state: StateInline, silent: bool) -> bool:
        start, count = state.pos, len(state.tokens)
        matched = fn(state, silent)
        if matched and not silent:
            for token in state.tokens[count:]:
                token.meta = {**(token.meta or {}), "span": (start, state.pos)}
        return matched

    return rule


_MD = _parser()


@dataclass(frozen=True)
class _Finding:
    url: str
    kind: str  # "inline", "html_block" or "definition"
    raw: str  # the source text to make inert (the label of a definition)
    lines: tuple[int, int] | None  # the block's source lines


def _findings(text: str, hosts: frozenset[str]) -> Iterator[_Finding]:
    """Every link, image or HTML URL in `text` that is not allowed, with its source."""
    env: dict = {}
    for block in _MD.parse(text, env):
        lines = tuple(block.map) if block.map else None
        if block.type == "html_block":
            for url in _html_urls(block.content, hosts):
                yield _Finding(url, "html_block", block.content, lines)  # type: ignore[arg-type]
        children = block.children or []
        for at, token in enumerate(children):
            span = (token.meta or {}).get("span")
            if span is not None and token.markup != "linkify":
                raw = block.content[span[0] : span[1]]
            else:  # linked by linkify: the link's text is its source
                following = children[at + 1] if at + 1 < len(children) else None
                raw = following.content if following is not None else ""
            for url in _urls(token, raw, hosts):
                yield _Finding(url, "inline", raw, lines)  # type: ignore[arg-type]
            if token.type == "text":
                for found in _AUTOLINKED.finditer(token.content):
                    raw = found.group().rstrip("?!.,:*_~'\"")
                    yield _Finding(raw, "inline", raw, lines)  # type: ignore[arg-type]
    for label, reference in env.get("references", {}).items():
        # Unused, a definition shows nothing; but GitHub renders `[^1]: …` as a footnote, which
        # markdown-it reads as a definition, so every unsafe one becomes a visible paragraph.
        if not allowed_url(reference["href"], hosts):
            yield _Finding(reference["href"], "definition", label, None)


def _urls(token: Token, raw: str, hosts: frozenset[str]) -> list[str]:
    if token.type == "html_inline":
        return _html_urls(token.content, hosts)
    url = token.attrs.get("href") or token.attrs.get("src")
    if token.type not in ("link_open", "image") or not isinstance(url, str):
        return []
    if token.markup == "linkify" and not _github_links(raw, url):
        return []
    return [] if allowed_url(url, hosts) else [url]


def _github_links(shown: str, url: str) -> bool:
    """GitHub autolinks `scheme://…`, `www.…` and e-mail addresses, not bare domains (`//…`
    is judged too, whatever a renderer makes of it)."""
    return "//" in shown or shown.lower().startswith("www.") or url.startswith("mailto:")


def _html_urls(html: str, hosts: frozenset[str]) -> list[str]:
    found: list[tuple[str, str]] = []
    reader = _Attributes(found)
    reader.feed(html)
    reader.close()
    urls = []
    for name, value in found:
        if name == "srcset":  # `url 1x, url 2x`
            urls += [part.split()[0] for part in value.split(",") if part.strip()]
        else:
            urls.append(value)
    return [url for url in urls if not allowed_url(url, hosts)]


class _Attributes(HTMLParser):
    """Collects the URL attributes of every tag (entities decoded, as a browser would)."""

    def __init__(self, found: list[tuple[str, str]]) -> None:
        super().__init__(convert_charrefs=True)
        self.found = found

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [(k, v) for k, v in attrs if k in _URL_ATTRIBUTES and v is not None]

    handle_startendtag = handle_starttag


# -- making inert --------------------------------------------------------------------------


def _unsafe_spans(text: str, hosts: frozenset[str]) -> list[Span] | None:
    """Where in `text` the unsafe links are; None when one cannot be placed (fence it all)."""
    lines = [0, *(m.end() for m in re.finditer("\n", text)), len(text) + 1]
    spans: list[Span] = []
    cursors: dict[tuple[int, int], int] = {}  # a block's findings come in order
    for finding in _findings(text, hosts):
        span = _place(text, lines, finding, cursors)
        if span is None:
            return None
        spans.append(span)
    return _outermost(spans)


def _place(
    text: str, lines: list[int], finding: _Finding, cursors: dict[tuple[int, int], int]
) -> Span | None:
    if finding.kind == "definition":
        label = r"\s+".join(re.escape(word) for word in finding.raw.split())
        found = re.search(rf"(?im)^(?:[ ]{{0,3}}>)*[ ]{{0,3}}(?=\[\s*{label}\s*\]:)", text)
        return None if found is None else (found.end(), found.end())
    if finding.lines is None or not finding.raw:
        return None
    start, end = lines[finding.lines[0]], lines[finding.lines[1]] - 1
    if finding.kind == "html_block":
        same = text[start:end].rstrip("\n") == finding.raw.rstrip("\n")
        return (start, end) if same else None
    at = text.find(finding.raw, cursors.get(finding.lines, start), end)
    while at > 0 and text[at - 1] == "`":  # made inert by an earlier pass (or typed as code)
        at = text.find(finding.raw, at + 1, end)
    if at < 0:
        return None
    cursors[finding.lines] = at + len(finding.raw)
    return (at, at + len(finding.raw))


def _outermost(spans: list[Span]) -> list[Span]:
    kept: list[Span] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if kept and start < kept[-1][1]:
            continue  # inside (or overlapping) one already made inert
        kept.append((start, end))
    return kept


def _inert(text: str, spans: list[Span]) -> str:
    for start, end in reversed(spans):
        if start == end:  # a definition: escaped, it is a paragraph read again
            text = text[:start] + "\\" + text[start:]
        else:
            text = text[:start] + _code(text[start:end]) + text[end:]
    return text


def _code(raw: str) -> str:
    """`raw` as a code span: GitHub shows it as typed and links nothing inside."""
    if "\n" in raw and raw.rstrip("\n").count("\n") == raw.count("\n"):
        raw = raw.rstrip("\n")
    fence = "`" * (max((len(m) for m in _BACKTICKS.findall(raw)), default=0) + 1)
    pad = " " if raw.startswith("`") or raw.endswith("`") or not raw.strip() else ""
    return f"{fence}{pad}{raw}{pad}{fence}"


def _fenced(text: str) -> str:
    fence = "`" * max(3, max((len(m) for m in _BACKTICKS.findall(text)), default=0) + 1)
    return f"{fence}text\n{text}\n{fence}\n"
