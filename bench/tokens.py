"""Prompt caching on a scripted multi-turn run: how much of the coder's input is read from cache.

Runs the demo's whole team run on the Anthropic emulator (which accounts cache writes and reads
for `cache_control` breakpoints as the API does), with a coder that takes many turns, as a real
one does, and reads the figures back from the store's ledger. Every request carries the
repository map (`REPOCREW_REPO_MAP_CHARS`; 0 turns it off); `--modules N` adds N generated
Python modules to the sample repository, for a map as large as its budget allows.

    .venv/bin/python bench/tokens.py [--coder-turns N] [--modules N]

Last line: `tokens: cache_read_share=<cache reads / all input tokens of the coder's loop>
cost_per_run_usd=<the whole run's cost> map_tokens=<the map block's tokens>`.
Target: cache_read_share >= 0.8.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

from sqlalchemy import Connection, Engine, Row, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.llm.client import ModelClient  # noqa: E402
from bot.roster.loader import load_crew  # noqa: E402
from bot.runs.driver import drive  # noqa: E402
from bot.runs.lifecycle import start_local_run  # noqa: E402
from bot.runs.states import RunState  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store.engine import make_engine  # noqa: E402
from bot.store.migrate import upgrade  # noqa: E402
from bot.store.models import ModelCall  # noqa: E402
from bot.wiring import services_for  # noqa: E402
from emulators.anthropic import AnthropicEmulator, Turn, create_app  # noqa: E402
from emulators.anthropic.script import Script  # noqa: E402
from emulators.anthropic.usage import estimate_tokens  # noqa: E402
from emulators.server import running  # noqa: E402
from repocrew import demo_session  # noqa: E402
from repocrew.demo_project import make_sample_repository  # noqa: E402
from repocrew.demo_session import git  # noqa: E402

KEY = "sk-ant-bench-emulator-0000"


def long_coder_session(reads: int) -> list[Turn]:
    """The demo session with a coder that first reads around the repository `reads` times."""
    turns = []
    for turn in demo_session.whole_run():
        match = turn.match
        if match.first_user == "[step: code-1]":
            turn = Turn(content=turn.content, match={**_fields(match), "turn": match.turn + reads})
        turns.append(turn)
    files = ["calc/ages.py", "tests/test_ages.py", "calc/__init__.py", ".gitignore"]
    for number in range(reads):
        look = Turn.tool_use("read_file", {"path": files[number % len(files)]})
        match = {"system": "You are Coder on", "first_user": "[step: code-1]", "turn": number}
        turns.append(Turn(content=look.content, match=match))
    return turns


def _fields(match) -> dict:
    return {name: getattr(match, name) for name in match.__dataclass_fields__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coder-turns", type=int, default=12, help="extra coder turns")
    parser.add_argument("--modules", type=int, default=0, help="modules added to the repository")
    parser.add_argument("--verbose", action="store_true", help="print every call's tokens")
    options = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory() as directory:
        engine, run_id, state = run_team(Path(directory), options.coder_turns, options.modules)
        with engine.connect() as connection:
            if options.verbose:
                print_calls(connection, run_id)
            coder, cost = ledger_figures(connection, run_id)
            map_tokens = map_size(connection, run_id)
        engine.dispose()

    calls, uncached, written, read = coder
    share = read / max(1, uncached + written + read)
    print(  # noqa: T201 - a benchmark prints its figures
        f"run {run_id} ended {state}; coder: {calls} calls, input {uncached} uncached + "
        f"{written} cache writes + {read} cache reads"
    )
    print(  # noqa: T201
        f"tokens: cache_read_share={share:.3f} cost_per_run_usd={cost:.4f} map_tokens={map_tokens}"
    )


def grow_repository(root: Path, bare: Path, modules: int) -> None:
    """`modules` more Python modules on the sample repository's main branch, each with a
    constant, a class with methods and two functions: a repository whose map is large."""
    work = root / "grown"
    git("clone", "-q", str(bare), str(work), cwd=root)
    package = work / "calc" / "generated"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for number in range(modules):
        (package / f"module_{number:04}.py").write_text(
            f'"""Generated module {number}."""\n\nLIMIT_{number} = {number}\n\n\n'
            f"class Record{number}:\n    def load(self):\n        return {number}\n\n"
            f"    def save(self, value):\n        return value\n\n\n"
            f"def parse_{number}(text):\n    return int(text)\n\n\n"
            f"def render_{number}(value):\n    return str(value)\n"
        )
    git("add", "-A", cwd=work)
    git("-c", "user.name=Bench", "-c", "user.email=bench@example.com", "commit", "-q",
        "-m", f"{modules} more modules", cwd=work)  # fmt: skip
    git("push", "-q", "origin", "main", cwd=work)


def map_size(connection: Connection, run_id: int) -> int:
    """The tokens of the repository map block (system[1] of every request; 0 without one)."""
    request = connection.execute(
        select(ModelCall.request).where(ModelCall.run_id == run_id).limit(1)
    ).scalar_one()
    system = json.loads(request)["system"]
    return estimate_tokens(system[1]["text"]) if len(system) == 3 else 0


def run_team(root: Path, coder_turns: int, modules: int = 0) -> tuple[Engine, int, RunState]:
    """The demo's team run, driven to its end on the emulator: (the store, the run, its state)."""
    emulator = AnthropicEmulator(Script(long_coder_session(coder_turns), reuse=True))
    with running(create_app(emulator)) as url:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=f"sqlite:///{root / 'bench.db'}",
            work_dir=root / "work",
            anthropic_api_key=KEY,
            anthropic_base_url=url,
        )
        engine = make_engine(settings.database_url)
        upgrade(engine)
        bare = make_sample_repository(root)
        if modules:
            grow_repository(root, bare, modules)
        run_id = start_local_run(
            engine,
            crew=load_crew(None),
            repo=bare,
            task=demo_session.TASK_BODY,
            title=demo_session.TASK_TITLE,
        )
        model = ModelClient(api_key=KEY, base_url=url)
        state = drive(services_for(engine, settings, run_id, model=model), run_id)
    return engine, run_id, state


def print_calls(connection: Connection, run_id: int) -> None:
    """Every model call of the run with its tokens: uncached, cache writes, cache reads."""
    for row in connection.execute(
        select(
            ModelCall.step,
            ModelCall.seq,
            ModelCall.input_tokens,
            ModelCall.cache_creation_input_tokens,
            ModelCall.cache_read_input_tokens,
        ).where(ModelCall.run_id == run_id)
    ):
        print(*row)  # noqa: T201


def ledger_figures(connection: Connection, run_id: int) -> tuple[Row, float]:
    """From the ledger: the coder's (calls, uncached, cache writes, cache reads) input tokens,
    and the whole run's cost in dollars."""
    coder = connection.execute(
        select(
            func.count(),
            func.sum(ModelCall.input_tokens),
            func.sum(ModelCall.cache_creation_input_tokens),
            func.sum(ModelCall.cache_read_input_tokens),
        ).where(ModelCall.run_id == run_id, ModelCall.step == "code-1")
    ).one()
    cost = connection.execute(
        select(func.sum(ModelCall.cost_usd)).where(ModelCall.run_id == run_id)
    ).scalar_one()
    return coder, cost


if __name__ == "__main__":
    main()
