"""A run's page on the dashboard lists its questions: who asked whom, the answer and who gave
it, or that it still waits (everything through the secret scanner, as every value is)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from bot.runs.progress import create_run
from bot.store.engine import make_engine
from bot.store.migrate import upgrade
from bot.store.questions import answer_question, record_question
from tests.conftest import make_settings
from tests.support.dashboard_store import DASHBOARD_TOKEN
from webhooks.app import create_app


def test_a_run_page_shows_its_questions_and_answers(tmp_path):
    url = f"sqlite:///{tmp_path / 'dash.db'}"
    engine = make_engine(url)
    upgrade(engine)
    run_id = create_run(engine, repo="o/r", task="t")
    common = {"run_id": run_id, "step": "plan-1", "resume_state": "planning", "asker": "planner"}
    role = record_question(engine, key="a", addressee="researcher", text="Any callers?", **common)
    answer_question(
        engine,
        question_id=role.id,
        answer="None at all.",
        answered_by="researcher",
        answered_via="model",
    )
    record_question(engine, key="b", addressee="humans", text="Accept 150?", **common)
    settings = make_settings(url, dashboard_token=DASHBOARD_TOKEN)
    with TestClient(create_app(settings, engine=engine)) as client:
        client.post("/dashboard/login", data={"token": DASHBOARD_TOKEN})
        html = client.get(f"/dashboard/runs/{run_id}").text
    table = html.split('<table id="questions">', 1)[1].split("</table>", 1)[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 2
    assert "planner → researcher" in rows[0] and "Any callers?" in rows[0]
    assert "None at all." in rows[0] and "researcher via model" in rows[0]
    assert "planner → humans" in rows[1] and "<b>waiting for an answer</b>" in rows[1]
    engine.dispose()
