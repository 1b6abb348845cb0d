"""The GitHub App manifest flow and GET /app/installations, against GitHub's OpenAPI.

The corpus subset of GitHub's OpenAPI has the component schemas (`integration`, `installation`)
but not these two operations; `OPERATIONS` adds them as GitHub's description defines them
(apps/create-from-manifest: 201 is `integration` plus the required client_id, client_secret,
webhook_secret and pem; apps/list-installations: 200 is an array of `installation`), so the
responses are validated against GitHub's own component schemas.
"""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import yaml
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from starlette.testclient import TestClient

from emulators.github import GitHubEmulator, create_app
from repocrew.cli import manifest_text
from tests.emulators.test_github_fidelity import REST, missing_or_mistyped, recorded

CALLBACK = "http://127.0.0.1:5999/callback"
JSON = "application/json"
OPERATIONS = {
    "/app-manifests/{code}/conversions": {
        "post": {
            "operationId": "apps/create-from-manifest",
            "parameters": [
                {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "201": {
                    "description": "Response",
                    "content": {
                        JSON: {
                            "schema": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/integration"},
                                    {
                                        "type": "object",
                                        "properties": {
                                            "client_id": {"type": "string"},
                                            "client_secret": {"type": "string"},
                                            "webhook_secret": {"type": "string", "nullable": True},
                                            "pem": {"type": "string"},
                                        },
                                        "required": [
                                            "client_id",
                                            "client_secret",
                                            "webhook_secret",
                                            "pem",
                                        ],
                                        "additionalProperties": True,
                                    },
                                ]
                            }
                        }
                    },
                },
                "404": {"$ref": "#/components/responses/not_found"},
                "422": {"$ref": "#/components/responses/validation_failed_simple"},
            },
        }
    },
    "/app/installations": {
        "get": {
            "operationId": "apps/list-installations",
            "parameters": [
                {"$ref": "#/components/parameters/per-page"},
                {"$ref": "#/components/parameters/page"},
            ],
            "responses": {
                "200": {
                    "description": "The permissions the installation has are included under the"
                    " `permissions` key.",
                    "headers": {"Link": {"$ref": "#/components/headers/link"}},
                    "content": {
                        JSON: {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/installation"},
                            }
                        }
                    },
                }
            },
        }
    },
}


@cache
def spec() -> dict[str, Any]:
    description = json.loads((REST / "openapi-subset.json").read_text())
    description["paths"].update(OPERATIONS)
    return description


@cache
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(spec())


def validate(method: str, path: str, response) -> None:
    request = requests.Request(method, f"https://api.github.com{path}")
    checked = requests.Response()
    checked.status_code = response.status_code
    checked._content = response.content
    checked.headers.update(dict(response.headers))
    openapi().validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(checked))


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def hub(tmp_path: Path, corpus: Path):
    clock = Clock()
    emulator = GitHubEmulator(tmp_path, clock=clock)
    emulator.add_user("octocat", token="ghp_octocat")
    emulator.add_user("octo-org", type="Organization")
    emulator.create_repo("octo-org/hello", files={"README.md": "hi\n"})
    with TestClient(create_app(emulator), follow_redirects=False) as client:
        yield client, emulator, clock


def manifest(**changes: Any) -> dict[str, Any]:
    """repocrew's own manifest (deploy/github-app-manifest.yml), redirected to a callback."""
    document = yaml.safe_load(manifest_text("github", "https://crew.example.com"))
    return {**document, "redirect_url": CALLBACK, **changes}


def create(client: TestClient, document: Any, path: str = "/settings/apps/new", state="s1"):
    raw = document if isinstance(document, str) else json.dumps(document)
    return client.post(f"{path}?state={state}", data={"manifest": raw})


def code_of(response) -> str:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def app_jwt(app_id: int, pem: str) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(app_id)}, pem, "RS256")


def test_the_manifest_becomes_an_app_whose_key_authenticates(hub):
    client, emulator, _clock = hub
    code = code_of(create(client, manifest()))
    converted = client.post(f"/app-manifests/{code}/conversions")
    assert converted.status_code == 201, converted.text
    validate("POST", f"/app-manifests/{code}/conversions", converted)
    app = converted.json()
    example = spec()["components"]["examples"]["integration"]["value"]
    assert missing_or_mistyped(example, app) == []
    assert app["slug"] == "repocrew" and app["owner"]["login"] == "octocat"
    assert app["permissions"] == manifest()["default_permissions"]
    assert app["events"] == manifest()["default_events"]
    assert app["pem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert app["webhook_secret"] and app["client_secret"] and app["installations_count"] == 0
    me = client.get("/app", headers={"Authorization": f"Bearer {app_jwt(app['id'], app['pem'])}"})
    assert me.status_code == 200 and me.json()["id"] == app["id"]
    assert emulator.apps[app["id"]].name == "repocrew"


def test_a_code_is_single_use_and_unknown_codes_are_not_found(hub):
    client, _emulator, _clock = hub
    code = code_of(create(client, manifest()))
    assert client.post(f"/app-manifests/{code}/conversions").status_code == 201
    again = client.post(f"/app-manifests/{code}/conversions")
    assert again.status_code == 404
    validate("POST", f"/app-manifests/{code}/conversions", again)
    assert client.post("/app-manifests/0123456789abcdef0123/conversions").status_code == 404


def test_a_code_expires_after_an_hour(hub):
    client, _emulator, clock = hub
    code = code_of(create(client, manifest()))
    clock.now += 3601
    assert client.post(f"/app-manifests/{code}/conversions").status_code == 404


def test_an_organization_owns_the_app_made_on_its_settings_page(hub):
    client, _emulator, _clock = hub
    code = code_of(create(client, manifest(), "/organizations/octo-org/settings/apps/new"))
    app = client.post(f"/app-manifests/{code}/conversions").json()
    assert app["owner"]["login"] == "octo-org"
    assert create(client, manifest(), "/organizations/nobody/settings/apps/new").status_code == 404


def test_without_a_redirect_url_github_shows_the_apps_settings_page(hub):
    client, _emulator, _clock = hub
    document = manifest()
    del document["redirect_url"]
    location = create(client, document).headers["location"]
    assert urlsplit(location).path == "/settings/apps/repocrew"


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        ("{not json", "not JSON"),
        ([], "not a JSON object"),
        (manifest(url="crew.example.com"), "Homepage URL"),
        (manifest(name=""), "Name"),
        (manifest(hook_attributes={"active": True}), "Webhook URL"),
        (manifest(default_events=["installation"]), "unsupported: installation"),
        (
            manifest(default_permissions={"issues": "write"}),
            "requires the pull_requests permission",
        ),
        (manifest(default_permissions={"issues": "owner"}), "read, write or admin"),
    ],
)
def test_an_invalid_manifest_is_refused_with_the_reason(hub, document, reason):
    client, emulator, _clock = hub
    response = create(client, document)
    assert response.status_code == 422 and reason in response.json()["message"]
    assert emulator.apps == {}


def test_a_taken_name_is_refused(hub):
    client, _emulator, _clock = hub
    code_of(create(client, manifest()))
    response = create(client, manifest())
    assert response.status_code == 422 and "already in use" in response.json()["message"]


def test_app_installations_lists_the_apps_installations(hub):
    client, emulator, _clock = hub
    app = client.post(f"/app-manifests/{code_of(create(client, manifest()))}/conversions").json()
    headers = {"Authorization": f"Bearer {app_jwt(app['id'], app['pem'])}"}
    assert client.get("/app/installations", headers=headers).json() == []
    emulator.add_user("alice")
    emulator.install(emulator.apps[app["id"]], "octo-org")
    emulator.install(emulator.apps[app["id"]], "alice")
    emulator.install(emulator.add_app(slug="other"), "octo-org")  # not this App's
    listed = client.get("/app/installations?per_page=1", headers=headers)
    assert listed.status_code == 200 and 'rel="next"' in listed.headers["link"]
    validate("GET", "/app/installations?per_page=1", listed)
    record = recorded("GET", "/app/installations", 200)
    assert missing_or_mistyped(record.body, listed.json()) == []
    everything = client.get("/app/installations", headers=headers).json()
    assert {i["account"]["login"] for i in everything} == {"octo-org", "alice"}
    assert {i["app_id"] for i in everything} == {app["id"]}


def test_app_installations_needs_the_apps_jwt(hub):
    client, _emulator, _clock = hub
    refused = client.get("/app/installations", headers={"Authorization": "token ghp_octocat"})
    assert refused.status_code == 401
