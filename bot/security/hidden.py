"""Remove what a human reviewer would not see but a model would read (prompt-injection hiding).

What goes, everywhere:
- zero-width characters (U+200B, U+2060, U+FEFF, U+180E, U+2061-2064, CGJ, Hangul fillers …);
- bidi controls (U+202A-202E, U+2066-2069, U+200E/F, U+061C): the model reads logical order
  while the screen shows the reordered one;
- Unicode tag characters (U+E0000-E007F), which smuggle invisible ASCII; the three RGI
  subdivision flags (England, Scotland, Wales) are kept whole;
- other invisible format characters (category Cf: soft hyphen, U+206A-206F, U+FFF9-FFFB, …);
  the visible Cf number signs (U+0600-0605, U+06DD, U+070F, U+0890-0891, U+08E2, U+110BD,
  U+110CD) stay;
- variation selectors, except one U+FE0E/U+FE0F after a visible character (emoji presentation,
  keycaps) and one U+E0100-E01EF after a CJK ideograph (ideographic variants): runs of selectors
  smuggle bytes;
- ZWJ/ZWNJ, except one between two visible non-ASCII characters: emoji sequences (woman, ZWJ,
  laptop), Persian and Indic joining need them; splitting an ASCII word ("ig<ZWJ>nore") never does;
- ANSI escape sequences and other control characters (not \\t, \\n, \\r).

What goes with `markup=True` (rendered Markdown: issue and PR bodies, comments):
- HTML comments, unterminated ones to the end of the text, and `<!X…>` declarations (browsers
  hide both); also inside code fences, where GitHub would show them: stripping a visible comment
  costs little, mis-parsing a fence would keep an injection;
- elements hidden by markup (`hidden` attribute; `display:none`, `visibility:hidden`,
  `font-size:0`, `opacity:0` styles) with their content, nested tags counted, unclosed ones to
  the end; GitHub drops `style`, but no honest issue hides text, so the model need not read it;
- link reference definitions (`[//]: # (hidden note)`), the Markdown "comment" idiom; their
  URLs go too (footnotes `[^1]: …` are visible and stay); a title still open after 2000
  characters takes the rest of its paragraph with it.

What stays: `<details>` (one click shows it), image alt text, `<?…>` (PHP in issues), ordinary
whitespace. Passes repeat until nothing changes, so a removal cannot assemble new hidden content.
"""

from __future__ import annotations

import re
from collections import Counter

_ZERO_WIDTH = "\u034f\u115f\u1160\u17b4\u17b5\u180e\u200b\u2060-\u2064\u3164\ufeff\uffa0"
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_FORMAT = (
    "\u00ad\u206a-\u206f\ufff9-\ufffb\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a"
)
_SELECTORS = "\ufe00-\ufe0f\U000e0100-\U000e01ef"
_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_INVISIBLE = f"{_ZERO_WIDTH}{_BIDI}{_FORMAT}{_SELECTORS}{_CONTROL}\u200c\u200d\U000e0000-\U000e007f"
_HIDDEN_CHAR = re.compile(f"[\\s{_INVISIBLE}]")
_SUBDIVISION_FLAGS = {"gbeng", "gbsct", "gbwls"}

_CHARS = re.compile(
    # The lookahead lets the engine skip ordinary characters at class speed.
    f"(?=[\x1b\U0001f3f4{_INVISIBLE}])(?:"
    "(?P<flag>\U0001f3f4[\U000e0020-\U000e007e]{3,6}\U000e007f)"
    r"|(?P<ansi_escape>\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])?)"
    f"|(?P<zero_width>[{_ZERO_WIDTH}])"
    f"|(?P<bidi_control>[{_BIDI}])"
    "|(?P<tag_character>[\U000e0000-\U000e007f])"
    "|(?P<joiner>[\u200c\u200d])"
    f"|(?P<emoji_selector>(?<=[^\\s{_INVISIBLE}])[\ufe0e\ufe0f])"
    "|(?P<cjk_selector>(?<=[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003ffff])"
    "[\U000e0100-\U000e01ef])"
    f"|(?P<variation_selector>[{_SELECTORS}])"
    f"|(?P<invisible_format>[{_FORMAT}])"
    f"|(?P<control_character>[{_CONTROL}]))"
)
# Comments and tags match wherever they start (running to the end if never closed) and titles
# are bounded, so no scan re-reads the rest of the text from each `<`: hostile input stays linear.
_COMMENT = re.compile(r"<!--[\s\S]*?(?:-->|\Z)|<![A-Za-z][^>]*(?:>|\Z)")
# As a browser tokenises: the name runs to space, `/` or `>`; `/` separates attributes as space
# does (`<span/hidden>`); a quoted `>` does not end the tag.
_ATTRIBUTES = r"""(?:[^>"']|"[^"]*"?|'[^']*'?)*(?:>|\Z)"""
_TAG = re.compile(rf"<([A-Za-z][^\s/>]*)({_ATTRIBUTES})")
_ANY_TAG = re.compile(rf"<(/?)([A-Za-z][^\s/>]*){_ATTRIBUTES}")
_HIDDEN_ATTRIBUTE = re.compile(r"(?:^|[\s/])hidden(?:[\s=/>]|$)", re.IGNORECASE)
_STYLE = re.compile(r"""style\s*=\s*("[^"]*"?|'[^']*'?|[^\s>]*)""", re.IGNORECASE)
_HIDING_CSS = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden"
    r"|(?:font-size|opacity)\s*:\s*0(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:[;!\"']|$)",
    re.IGNORECASE,
)
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
_IN_PARAGRAPH = r"\n(?![ \t]*\n)"  # a line break that is not a blank line
# A title is scanned for at most 2000 characters; one still open after that is taken, with the
# rest of its paragraph, as hidden, so a long title cannot slip through and nothing is re-read.
_TITLE = "|".join(
    rf"{o}(?:[^{c}\n]|{_IN_PARAGRAPH}){{0,2000}}{c}"
    rf"|{o}(?=(?:[^{c}\n]|{_IN_PARAGRAPH}){{2001}})(?:.|{_IN_PARAGRAPH})*"
    for o, c in (('"', '"'), ("'", "'"), (r"\(", r"\)"))
)
_LINK_REFERENCE = re.compile(
    r"^[ ]{0,3}\[(?!\^)(?:[^\]\\\n]|\\.){1,999}\]:[ \t]*\n?[ \t]*(?:<[^>\n]*>|\S+)"
    rf"(?:[ \t]*\n?[ \t]*(?:{_TITLE}))?[ \t]*(?:\n|\Z)",
    re.MULTILINE,
)
# Reported in this order; the keys of the kept alternatives never show.
KINDS = (
    "html_comment",
    "hidden_html",
    "link_reference",
    "zero_width",
    "joiner",
    "bidi_control",
    "tag_character",
    "variation_selector",
    "invisible_format",
    "ansi_escape",
    "control_character",
)
_KEPT = {"emoji_selector", "cjk_selector"}


def strip_hidden(text: str, *, markup: bool = True) -> str:
    """The text as a reader sees it; `markup=False` for raw text (files, command output)."""
    return _strip(text, markup)[0]


def hidden_content_found(text: str, *, markup: bool = True) -> list[str]:
    """What `strip_hidden` would remove, as `"kind: count"` lines for the log."""
    counts = _strip(text, markup)[1]
    return [f"{kind}: {counts[kind]}" for kind in KINDS if counts[kind]]


def _strip(text: str, markup: bool) -> tuple[str, Counter[str]]:
    counts: Counter[str] = Counter()
    while True:  # until nothing changes: a removal can bring hidden pieces together
        before = text
        text = _CHARS.sub(lambda match: _char(match, counts), text)
        if markup:
            text = _COMMENT.sub(lambda match: _count(counts, "html_comment"), text)
            text = _strip_hidden_elements(text, counts)
            text = _LINK_REFERENCE.sub(lambda match: _count(counts, "link_reference"), text)
        if text == before:
            return text, counts


def _char(match: re.Match[str], counts: Counter[str]) -> str:
    kind = match.lastgroup or ""
    if kind in _KEPT or (kind == "joiner" and _joins(match.string, match.start())):
        return match.group()
    if kind == "flag":
        tags = "".join(chr(ord(c) - 0xE0000) for c in match.group()[1:-1])
        if tags in _SUBDIVISION_FLAGS:
            return match.group()
        counts["tag_character"] += len(match.group()) - 1
        return "\U0001f3f4"
    counts[kind] += 1
    return ""


def _joins(text: str, at: int) -> bool:
    """A joiner between two visible non-ASCII characters (one emoji selector may precede it)."""
    before = at - 2 if at >= 2 and text[at - 1] in "\ufe0e\ufe0f" else at - 1
    if before < 0 or at + 1 >= len(text):
        return False
    return all(
        not ch.isascii() and not _HIDDEN_CHAR.match(ch) for ch in (text[before], text[at + 1])
    )


def _count(counts: Counter[str], kind: str) -> str:
    counts[kind] += 1
    return ""


def _strip_hidden_elements(text: str, counts: Counter[str]) -> str:
    """Drop each markup-hidden element with its content, counting nested same-name tags."""
    at = 0
    while (opening := _TAG.search(text, at)) is not None:
        name, attributes = opening.group(1), opening.group(2).removesuffix(">")
        if not _hides(attributes):
            at = opening.end()
            continue
        counts["hidden_html"] += 1
        end = opening.end()
        if name.lower() not in _VOID and not attributes.rstrip().endswith("/"):
            end = _closing_end(text, name, end)
        text = text[: opening.start()] + text[end:]
        at = opening.start()
    return text


def _hides(attributes: str) -> bool:
    if _HIDDEN_ATTRIBUTE.search(attributes):
        return True
    return any(_HIDING_CSS.search(style.group(1)) for style in _STYLE.finditer(attributes))


def _closing_end(text: str, name: str, at: int) -> int:
    """Where the element opened just before `at` ends; the end of the text when it never does."""
    depth, name = 1, name.lower()
    for tag in _ANY_TAG.finditer(text, at):
        if tag.group(2).lower() != name:
            continue
        if tag.group(1):
            depth -= 1
        elif not tag.group().endswith("/>"):
            depth += 1
        if depth == 0:
            return tag.end()
    return len(text)
