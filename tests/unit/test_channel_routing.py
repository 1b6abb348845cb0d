"""Topic channels: the crew file's `[channels]`, how it is checked, and where posts go."""

from __future__ import annotations

import pytest

from bot.operator.doctor import check_crew
from bot.roster.loader import ConfigError, apply_repo_overrides, parse_crew, roster_text
from bot.roster.routing import channel_for, run_channel, standup_channels, standup_roles
from tests.conftest import make_settings

DEFAULT = roster_text("default")
ROUTED = """
[channels.topics]
sprint = "#general"
code = "#development"
review = "#development"
docs = "#docs"

[channels.roles]
tester = "#qa"
"""


def _crew(extra: str = "", text: str = DEFAULT):
    return parse_crew(text + extra, source="crew.toml")


def _error(extra: str, text: str = DEFAULT) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_crew(text + extra, source="crew.toml")
    return str(caught.value)


def _line(text: str, needle: str) -> int:
    return text.splitlines().index(needle) + 1


def test_without_channels_everything_goes_to_the_crews_channel_as_before():
    crew = _crew()
    assert not crew.channels.routed
    assert channel_for(crew) == "#crew"
    assert channel_for(crew, role="tester", topic="docs") == "#crew"
    assert run_channel(crew) == run_channel(crew, owner="tester") == "#crew"
    assert standup_channels(crew) == ("#crew",)
    others = ("planner", "researcher", "coder", "reviewer", "tester")
    assert standup_roles(crew, "#crew") == others


def test_a_crew_without_a_channel_posts_nowhere():
    crew = _crew(text=DEFAULT.replace('channel = "#crew"\n', ""))
    assert channel_for(crew, topic="sprint") is None and run_channel(crew) is None
    assert standup_channels(crew) == ()


def test_a_roles_channel_wins_then_the_topics_then_the_crews():
    crew = _crew(ROUTED)
    assert channel_for(crew, role="tester", topic="review") == "#qa"
    assert channel_for(crew, role="coder", topic="review") == "#development"
    assert channel_for(crew, topic="sprint") == "#general"
    assert channel_for(crew, topic="devops") == "#crew"  # a topic nobody routed
    assert channel_for(crew, role="planner") == "#crew"


def test_a_runs_thread_lives_in_its_owners_channel():
    crew = _crew(ROUTED)
    assert run_channel(crew, owner="tester") == "#qa"
    # The coder has no channel of its own: its runs go where code is discussed.
    assert run_channel(crew) == run_channel(crew, owner="coder") == "#development"
    unrouted_code = _crew(ROUTED.replace('code = "#development"\n', ""))
    assert run_channel(unrouted_code) == "#crew"


def test_each_channel_with_roles_holds_its_own_standup_with_its_roles():
    crew = _crew(ROUTED)
    assert standup_channels(crew) == ("#crew", "#qa")
    assert standup_roles(crew, "#qa") == ("tester",)
    assert standup_roles(crew, "#crew") == ("planner", "researcher", "coder", "reviewer")
    # A channel no role lives in (given its own schedule in Slack) hears the whole crew.
    assert len(standup_roles(crew, "#elsewhere")) == 5
    # Every agent routed away: the crew's channel has nobody to report and holds none.
    away = _crew(
        ROUTED + 'planner = "#dev"\nresearcher = "#dev"\ncoder = "#dev"\nreviewer = "#dev"\n'
    )
    assert standup_channels(away) == ("#dev", "#qa")
    explicit = _crew(ROUTED, text=DEFAULT.replace('# channels = ["#crew"]', 'channels = ["#a"]'))
    assert standup_channels(explicit) == ("#a",)


def test_the_product_team_roster_routes_by_topic_and_role():
    crew = parse_crew(roster_text("product-team"), source="product-team.toml")
    assert run_channel(crew) == "#development"
    assert run_channel(crew, owner="devops") == "#devops"
    assert run_channel(crew, owner="marketing") == "#docs"
    assert channel_for(crew, topic="sprint") == "#general"
    assert channel_for(crew, topic="deployment") == "#devops"
    assert channel_for(crew, topic="review") == "#development"
    assert standup_channels(crew) == ("#development", "#devops", "#docs")
    assert standup_roles(crew, "#development") == ("developer", "architect")


def test_an_unknown_topic_is_refused_with_its_key_and_line():
    text = DEFAULT + '\n[channels.topics]\ncode = "#dev"\ndeploys = "#ops"\n'
    line = _line(text, 'deploys = "#ops"')
    assert _error("", text=text) == (
        f"crew.toml:{line}: channels.topics.deploys: unknown topic"
        " 'deploys' (topics: sprint, code, review, tests, devops, deployment, docs, questions)"
    )


def test_an_unknown_role_is_refused_with_its_key_and_the_roles():
    text = DEFAULT + '\n[channels.roles]\ncoder = "#dev"\narchitect = "#arch"\n'
    line = _line(text, 'architect = "#arch"')
    assert _error("", text=text) == (
        f"crew.toml:{line}: channels.roles.architect: unknown"
        " role 'architect' (roles: planner, researcher, coder, reviewer, tester, lead)"
    )


@pytest.mark.parametrize("channel", ["dev", "#Dev Team", "", "https://slack.com/x"])
def test_a_channel_must_look_like_one(channel):
    message = _error(f'\n[channels.topics]\ncode = "{channel}"\n')
    assert "channels.topics.code: must be a channel like" in message
    message = _error(f'\n[channels.roles]\ncoder = "{channel}"\n')
    assert "channels.roles.coder: must be a channel like" in message


def test_other_keys_in_channels_are_typos():
    assert "channels.topic: unknown key; did you mean 'topics'?" in _error(
        '\n[channels]\ntopic = { code = "#dev" }\n'
    )


def test_routing_needs_the_crews_channel_for_the_rest():
    message = _error(ROUTED, text=DEFAULT.replace('channel = "#crew"\n', ""))
    assert "channels: needs the crew's `channel` too" in message


def test_a_repository_may_not_move_the_crews_posts():
    with pytest.raises(ConfigError) as caught:
        apply_repo_overrides(_crew(), '[channels.topics]\ncode = "#elsewhere"\n')
    assert ".repocrew.toml:1: channels: set in crew.toml, not by a repository" in str(caught.value)


def test_doctor_names_the_key(tmp_path):
    crew_file = tmp_path / "crew.toml"
    crew_file.write_text(DEFAULT + '\n[channels.topics]\nchat = "#x"\n', encoding="utf-8")
    check = check_crew(make_settings("sqlite://", crew_file=crew_file))
    assert check.ok is False
    assert "channels.topics.chat: unknown topic 'chat'" in check.detail
