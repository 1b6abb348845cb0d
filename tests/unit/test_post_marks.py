"""The outbox key a Slack post carries in its metadata: built, read back, and only ours counts."""

from __future__ import annotations

import pytest

from bot.ports.slack import Found, PostMark
from bot.slack.post_marks import EVENT_TYPE, find_mark, post_metadata, read_mark

BOT, HUMAN = "B0001", "U0001"


def _message(ts: str, metadata: object, **author: str) -> dict:
    return {"type": "message", "ts": ts, "text": "x", "metadata": metadata} | (
        author or {"bot_id": BOT, "user": "U0002"}
    )


def test_metadata_is_slacks_event_type_and_payload_and_reads_back():
    mark = PostMark("run:12:step:plan-1", 3)
    metadata = post_metadata(mark)
    assert metadata == {
        "event_type": "repocrew_post",
        "event_payload": {"key": "run:12:step:plan-1", "revision": 3},
    }
    assert read_mark({"metadata": metadata}) == mark


@pytest.mark.parametrize("mark", [PostMark("", 1), PostMark("k", 0)])
def test_a_mark_needs_a_key_and_a_revision(mark):
    with pytest.raises(ValueError, match="key and a revision"):
        post_metadata(mark)


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        "repocrew_post",
        [],
        {"event_type": "task_created", "event_payload": {"key": "k", "revision": 1}},
        {"event_type": EVENT_TYPE},  # what a listing without include_all_metadata may give
        {"event_type": EVENT_TYPE, "event_payload": "k"},
        {"event_type": EVENT_TYPE, "event_payload": {"revision": 1}},
        {"event_type": EVENT_TYPE, "event_payload": {"key": "", "revision": 1}},
        {"event_type": EVENT_TYPE, "event_payload": {"key": 7, "revision": 1}},
        {"event_type": EVENT_TYPE, "event_payload": {"key": "k", "revision": "1"}},
        {"event_type": EVENT_TYPE, "event_payload": {"key": "k", "revision": True}},
        {"event_type": EVENT_TYPE, "event_payload": {"key": "k", "revision": 0}},
        {"event_type": EVENT_TYPE.upper(), "event_payload": {"key": "k", "revision": 1}},
    ],
)
def test_anything_but_a_whole_mark_reads_as_none(metadata):
    assert read_mark({"metadata": metadata}) is None


def test_the_earliest_post_of_ours_with_the_key_is_found():
    messages = [
        _message("1700000003.000100", post_metadata(PostMark("k", 2))),
        _message("1700000001.000100", post_metadata(PostMark("other", 1))),
        _message("1700000002.000100", post_metadata(PostMark("k", 1))),
        _message("1700000004.000100", None),
    ]
    assert find_mark(messages, "k", bot_id=BOT, user_id=None) == Found("1700000002.000100", 1)
    assert find_mark(messages, "missing", bot_id=BOT, user_id=None) is None


def test_a_mark_on_someone_elses_message_does_not_count():
    planted = post_metadata(PostMark("k", 1))
    messages = [
        _message("1.000001", planted, user=HUMAN),
        _message("1.000002", planted, bot_id="B9999", user="U0009"),  # another app's bot
    ]
    assert find_mark(messages, "k", bot_id=BOT, user_id="U0002") is None
    # A token without a bot id (a user token) counts its own user's posts.
    mine = [_message("1.000003", planted, user="U0002")]
    assert find_mark(mine, "k", bot_id=None, user_id="U0002") == Found("1.000003", 1)
    with pytest.raises(ValueError, match="whose messages"):
        find_mark(mine, "k", bot_id=None, user_id=None)
