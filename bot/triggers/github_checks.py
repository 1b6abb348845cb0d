"""`check_run.completed`: CI results (e.g. GitHub Actions) on a crew pull request are evidence
for the tester and the voters, beside the crew's own sandbox run."""

from __future__ import annotations

from typing import Any

from bot.runs.progress import active_run
from bot.services import Services
from bot.store.runs import save_output
from bot.triggers.github_deliveries import router

OWN_CHECKS = frozenset({"repocrew / tests"})


@router.register("check_run", action="completed")
def check_completed(payload: dict[str, Any], services: Services) -> None:
    check = payload.get("check_run") or {}
    if check.get("name") in OWN_CHECKS:
        return
    repo = (payload.get("repository") or {}).get("full_name")
    for pull in check.get("pull_requests") or []:
        run = active_run(services.engine, repo, pr=pull.get("number"))
        if run is None:
            continue
        save_output(
            services.engine,
            run_id=run.id or 0,
            step=f"ci-{check['id']}",
            role="ci",
            content={
                "name": check.get("name", ""),
                "conclusion": check.get("conclusion"),
                "head_sha": check.get("head_sha", ""),
                "url": check.get("html_url", ""),
            },
        )
