"""What a review of a person's pull request covers: ignored paths out, then the riskiest files
within the size cap; and the `[review]` keys a repository may only tighten."""

from __future__ import annotations

import pytest

from bot.roster.loader import ConfigError, apply_repo_overrides, load_crew
from bot.runs.diff import FileDiff
from bot.runs.review_scope import rank, scope


def _file(path: str, lines: int) -> FileDiff:
    return FileDiff(path, path, "modified", lines, 0, False, ())


def test_past_the_cap_the_riskiest_files_are_kept_and_the_rest_named():
    files = [
        _file("README.md", 400),
        _file("app/views.py", 50),
        _file("app/auth/session.py", 20),
        _file("tests/test_views.py", 30),
        _file("package-lock.json", 5000),
    ]
    covered = scope(files, ignore=(), max_files=2, max_lines=100)
    assert [f.path for f in covered.files] == [
        "app/views.py",
        "app/auth/session.py",
        "package-lock.json",  # only listed to the reviewer: never counted, never cut
    ]
    assert covered.skipped == ("tests/test_views.py (+30 -0)", "README.md (+400 -0)")
    assert "4 files, 500 changed lines" in covered.capped_by


def test_within_the_cap_everything_but_the_ignored_paths_is_reviewed():
    files = [_file("app/views.py", 5), _file("docs/guide.md", 5)]
    covered = scope(files, ignore=("docs/",), max_files=50, max_lines=3000)
    assert [f.path for f in covered.files] == ["app/views.py"]
    assert covered.ignored == ("docs/guide.md",) and covered.skipped == ()


def test_ranks():
    paths = ["app/auth.py", "app/x.py", "tests/test_x.py", "notes.cfg", "docs/a.md", "yarn.lock"]
    assert [rank(_file(p, 1)) for p in paths] == [0, 1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    "text, key",
    [
        ("[review]\nday_usd = 500.0\n", "review.day_usd"),
        ("[review]\nmax_files = 5000\n", "review.max_files"),
        ("[review]\nskip_drafts = false\n", "review.skip_drafts"),
        ("[review]\nunasked = true\n", "review.unasked"),
    ],
)
def test_a_repository_may_not_widen_automatic_reviews(text, key):
    with pytest.raises(ConfigError) as refused:
        apply_repo_overrides(load_crew(None), text)
    assert key in str(refused.value)


def test_a_repository_adds_to_the_ignore_lists_and_may_turn_reviews_off():
    crew = load_crew(None)
    review = crew.review.model_copy(update={"unasked": True, "ignore_authors": ("renovate",)})
    operator = crew.model_copy(update={"review": review})
    merged = apply_repo_overrides(
        operator, '[review]\nunasked = false\nignore_authors = ["octocat"]\nday_usd = 1.0\n'
    )
    assert merged.review.ignore_authors == ("renovate", "octocat")
    assert merged.review.unasked is False and merged.review.day_usd == 1.0
