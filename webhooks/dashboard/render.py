"""Pages from templates: autoescaped, and every value passes the secret scanner on its way
into the HTML (Jinja's `finalize`), so a template cannot render a secret by forgetting to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from bot.metrics.render import duration
from bot.security.secrets import SecretScanner, scanner_for_settings

HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    # No scripts at all; styles are inline in the base template.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


@pass_context
def _redacted(context: Context, value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    return context["scanner"].redact(str(value))


def _when(value: datetime | None) -> str:
    return "—" if value is None else f"{value:%Y-%m-%d %H:%M:%S} UTC"


def _usd(value: float | None) -> str:
    return "—" if value is None else f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


ENV = Environment(
    loader=PackageLoader("webhooks.dashboard", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    finalize=_redacted,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(when=_when, usd=_usd, duration=duration, thousands="{:,}".format)


def scanner(request: Request) -> SecretScanner:
    """The app's scanner: every secret in the settings, the dashboard token included."""
    state = request.app.state
    found = getattr(state, "dashboard_scanner", None)
    if found is None:
        settings = state.settings
        found = scanner_for_settings(settings)
        if settings.dashboard_token is not None:
            found.add_known(settings.dashboard_token.get_secret_value())
        state.dashboard_scanner = found
    return found


def page(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    values.setdefault("current", "")
    html = ENV.get_template(template).render(scanner=scanner(request), **values)
    return HTMLResponse(html, status_code=status, headers=HEADERS)
