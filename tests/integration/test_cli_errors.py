"""Every failure of the `repocrew` command, tried as a person would from a shell: one line on
stderr naming what to fix, no traceback, no secret, and a non-zero exit code."""

from __future__ import annotations

import subprocess
from importlib.metadata import version
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.roster.loader import roster_text
from bot.store.engine import make_engine
from bot.store.models import Run
from emulators.anthropic import AnthropicEmulator, create_app
from emulators.server import running
from tests.support.cli import repocrew

PASSWORD = "Pa55word-never-shown"
TYPO_CREW = roster_text("default").replace("max_fix_rounds", "max_fix_round")
KEY = "sk-ant-test-cli-errors-0001"


@pytest.mark.parametrize("command", [["metrics"], ["serve"], ["worker"], ["db", "upgrade"]])
def test_a_bad_number_names_its_variable_and_the_fix(tmp_path, command):
    ran = repocrew(tmp_path, *command, REPOCREW_JOB_LEASE_SECONDS="abc")

    line = ran.one_line
    assert ran.code == 2
    assert line.startswith(f"repocrew {command[0]}: REPOCREW_JOB_LEASE_SECONDS: 'abc' ")
    assert "a number greater than 0" in line and "default (60)" in line
    assert "job_lease_seconds" not in line  # the variable, never pydantic's field


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://crew:{PASSWORD}@db@db.example/crew",  # an unencoded @ in the password
        f"postgresql://crew:{PASSWORD}/x@db.example:5432/crew",  # an unencoded /
        f"mysql://crew:{PASSWORD}@db.example/crew",  # not a store we speak
    ],
)
def test_a_malformed_database_url_never_shows_its_password(tmp_path, url):
    served = repocrew(tmp_path, "serve", REPOCREW_DATABASE_URL=url)
    doctor = repocrew(tmp_path, "doctor", REPOCREW_DATABASE_URL=url)

    assert served.code == 2 and "REPOCREW_DATABASE_URL" in served.one_line
    assert doctor.code == 1 and "FAIL  REPOCREW_DATABASE_URL" in doctor.stdout
    assert "Traceback" not in doctor.stderr
    for output in (served.stdout, served.stderr, doctor.stdout, doctor.stderr):
        assert PASSWORD not in output


def test_a_store_that_cannot_be_reached_is_one_line_without_the_password(tmp_path):
    # postgres:// (what hosts hand out) is accepted: the failure is the connection's.
    url = f"postgres://crew:{PASSWORD}@127.0.0.1:1/crew?connect_timeout=2"
    ran = repocrew(tmp_path, "metrics", REPOCREW_DATABASE_URL=url)

    assert ran.code == 1
    assert ran.one_line.startswith("repocrew metrics: the store (REPOCREW_DATABASE_URL) failed: ")
    assert "127.0.0.1" in ran.one_line and PASSWORD not in ran.stderr + ran.stdout


@pytest.mark.postgres
def test_a_postgres_url_as_hosts_hand_it_out_is_used(tmp_path, postgres_url):
    url = postgres_url.replace("postgresql+psycopg://", "postgres://", 1)
    ran = repocrew(tmp_path, "db", "upgrade", REPOCREW_DATABASE_URL=url)

    assert ran.code == 0, ran.stderr
    assert ran.stdout.startswith("store at revision ")


def test_a_missing_key_file_is_a_doctor_row_and_start_refuses_with_its_line(tmp_path):
    missing = {"REPOCREW_GITHUB_APP_ID": "1", "REPOCREW_GITHUB_PRIVATE_KEY_PATH": "gone.pem"}
    doctor = repocrew(tmp_path, "doctor", **missing)
    started = repocrew(tmp_path, "start", **missing)

    detail = "cannot read gone.pem: No such file or directory"
    assert doctor.code == 1 and "Traceback" not in doctor.stderr
    (row,) = [line for line in doctor.stdout.splitlines() if "cannot read" in line]
    assert row.strip() == detail
    assert started.code == 2
    assert started.one_line.startswith(
        f"repocrew start: REPOCREW_GITHUB_PRIVATE_KEY_PATH: {detail}"
    )


@pytest.mark.parametrize("command", ["serve", "start", "worker", "web"])
def test_a_crew_file_typo_stops_a_process_with_doctors_line(tmp_path, command):
    (tmp_path / "crew.toml").write_text(TYPO_CREW, encoding="utf-8")
    doctor = repocrew(tmp_path, "doctor")
    (row,) = [line for line in doctor.stdout.splitlines() if "crew file" in line]
    detail = row.split("crew file", 1)[1].strip()
    assert detail.endswith("max_fix_round: unknown key; did you mean 'max_fix_rounds'?")

    ran = repocrew(tmp_path, command, timeout=30)  # serving instead would time out

    assert ran.code == 2
    assert ran.one_line.startswith(f"repocrew {command}: crew file: {detail} → fix crew.toml")


def test_run_on_a_path_that_is_no_repository_starts_no_run(tmp_path):
    ran = repocrew(tmp_path, "run", "no/such/repo", "--task", "t", ANTHROPIC_API_KEY=KEY)

    assert ran.code == 2
    assert ran.one_line == (
        "repocrew run: no/such/repo: no such directory; give a git repository's path or URL"
    )
    assert _runs(tmp_path) == []


def test_replay_of_a_run_that_does_not_exist(tmp_path):
    ran = repocrew(tmp_path, "replay", "999")

    assert ran.code == 1 and ran.one_line == "repocrew replay: no run 999"


def _repository(tmp_path: Path) -> Path:
    repo = tmp_path / "project"
    repo.mkdir()
    (repo / "README.md").write_text("a project\n")
    for args in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "start"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
            cwd=repo,
            check=True,
        )
    return repo


def _runs(tmp_path: Path) -> list[tuple[str, str]]:
    database = tmp_path / "repocrew.db"
    if not database.exists():
        return []
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(select(Run.state, Run.reason))]
    finally:
        engine.dispose()


def _run_against(tmp_path: Path, emulator: AnthropicEmulator):
    with running(create_app(emulator)) as url:
        return repocrew(
            tmp_path,
            "run",
            str(_repository(tmp_path)),
            "--task",
            "Add a changelog",
            timeout=90,
            ANTHROPIC_API_KEY=KEY,
            REPOCREW_ANTHROPIC_BASE_URL=url,
            REPOCREW_MODEL_DEADLINE_S="3",
            REPOCREW_LOG_LEVEL="ERROR",
        )


def test_a_run_whose_step_raises_ends_failed_with_the_reason_and_exits_non_zero(tmp_path):
    emulator = AnthropicEmulator()
    emulator.overload(times=1000)  # the planner's every call: 529 until the deadline

    ran = _run_against(tmp_path, emulator)

    assert ran.code == 1
    assert ran.one_line.startswith("repocrew run: the model call failed: ")
    ((state, reason),) = _runs(tmp_path)  # never left in `planning`
    assert state == "failed" and reason.startswith("failed: Model")


def test_a_run_the_crew_ends_failed_exits_non_zero_with_its_reason(tmp_path):
    emulator = AnthropicEmulator()
    emulator.fail("invalid_request_error", times=1000, message="prompt is too long (emulated)")

    ran = _run_against(tmp_path, emulator)

    assert ran.code == 1
    assert ran.error_lines[-1].startswith("repocrew run: run 1 ended failed: ")
    assert "prompt is too long" in ran.error_lines[-1] and "Traceback" not in ran.stderr
    ((state, _reason),) = _runs(tmp_path)
    assert state == "failed"


def test_version_comes_from_the_package_metadata(tmp_path):
    ran = repocrew(tmp_path, "--version")

    assert (ran.code, ran.stdout, ran.stderr) == (0, f"repocrew {version('repocrew')}\n", "")
