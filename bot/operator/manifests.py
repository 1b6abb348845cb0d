"""The GitHub and Slack app manifests that ship in `deploy/`, filled in for a public URL."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFESTS = Path(__file__).resolve().parents[2] / "deploy"


def manifest_text(name: str, url: str) -> str:
    """deploy/<name>-app-manifest.yml with its {PUBLIC_URL} placeholders filled in."""
    template = (MANIFESTS / f"{name}-app-manifest.yml").read_text(encoding="utf-8")
    return template.replace("{PUBLIC_URL}", url.rstrip("/"))


def slack_bot_scopes() -> list[str]:
    """The bot-token scopes the Slack manifest asks for: what `repocrew doctor` expects."""
    manifest = yaml.safe_load(manifest_text("slack", "https://example.invalid"))
    return list(manifest["oauth_config"]["scopes"]["bot"])
