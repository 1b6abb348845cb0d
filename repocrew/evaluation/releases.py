"""A task's two releases, fetched from their registry (pip download / npm pack) into a cache,
checked against the manifest's sha256, and unpacked. Nothing of them is kept in the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from repocrew.evaluation.manifest import Task

FETCH_SECONDS = 300
PYPI_SIMPLE = "https://pypi.org/simple"
NPM_REGISTRY = "https://registry.npmjs.org"


class ReleaseError(RuntimeError):
    """A release could not be fetched, did not match its sha256, or could not be unpacked."""


def fetch(task: Task, version: str, sha256: str, cache: Path) -> Path:
    """The release's archive (sdist or npm tarball) in `cache`, downloaded once and verified."""
    folder = cache / task.ecosystem / f"{task.package}-{version}"
    found = _archive_in(folder)
    if found is None or _sha256(found) != sha256:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        _download(task, version, folder)
        found = _archive_in(folder)
    if found is None:
        raise ReleaseError(f"{task.name}: no archive of {task.package} {version} was downloaded")
    digest = _sha256(found)
    if digest != sha256:
        raise ReleaseError(
            f"{task.name}: {found.name} has sha256 {digest}, the manifest says {sha256}: refusing"
        )
    return found


def released_at(task: Task, version: str, sha256: str, cache: Path) -> str | None:
    """When the registry published the release (ISO 8601), asked once and kept beside its
    archive: the repository's first commit carries it, as a checkout of that release would.
    None when the registry does not say (the commit is then dated now)."""
    kept = cache / task.ecosystem / f"{task.package}-{version}" / "released-at"
    if kept.is_file():
        return kept.read_text().strip() or None
    try:
        found = (
            _npm_time(task.package, version)
            if task.ecosystem == "npm"
            else _pypi_time(task.package, sha256)
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if found:
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(found)
    return found


def _pypi_time(package: str, sha256: str) -> str | None:
    """The upload time of the file with that sha256, from the index's JSON (PEP 691, 700)."""
    index = os.environ.get("PIP_INDEX_URL", PYPI_SIMPLE).rstrip("/")
    accept = {"Accept": "application/vnd.pypi.simple.v1+json"}
    files = _json(f"{index}/{package}/", accept)["files"]
    return next((f.get("upload-time") for f in files if f["hashes"].get("sha256") == sha256), None)


def _npm_time(package: str, version: str) -> str | None:
    registry = os.environ.get("npm_config_registry", NPM_REGISTRY).rstrip("/")
    return _json(f"{registry}/{package}", {})["time"].get(version)


def _json(url: str, headers: dict[str, str]) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=60) as got:
        return json.load(got)


def unpack(archive: Path, into: Path) -> Path:
    """Unpack an archive into `into` (which must be empty or absent); returns its top folder."""
    into.mkdir(parents=True, exist_ok=True)
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(into)  # zipfile refuses absolute and `..` names itself
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(into, filter="data")  # no links out, no devices, no owners
    tops = list(into.iterdir())
    if len(tops) != 1 or not tops[0].is_dir():
        raise ReleaseError(f"{archive.name}: expected one top folder, found {len(tops)} entries")
    return tops[0]


def _download(task: Task, version: str, folder: Path) -> None:
    if task.ecosystem == "npm":
        command = ["npm", "pack", f"{task.package}@{version}", "--silent"]
    else:
        command = [sys.executable, "-m", "pip", "download", "--no-cache-dir", "--no-deps"]
        command += ["--no-binary", task.package, f"{task.package}=={version}", "-d", str(folder)]
    with tempfile.TemporaryDirectory() as npm_cache:
        env = {"npm_config_cache": npm_cache} if task.ecosystem == "npm" else {}
        done = subprocess.run(
            command,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=FETCH_SECONDS,
            env={**_host_env(), **env},
            check=False,
        )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ReleaseError(f"{task.name}: {' '.join(command[:3])} failed: {' / '.join(tail)}")


def _host_env() -> dict[str, str]:
    """The host's package-client settings apply: this is the evaluator's own download."""
    return dict(os.environ)


def _archive_in(folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    archives = sorted(
        path for path in folder.iterdir() if path.name.endswith((".tar.gz", ".tgz", ".zip"))
    )
    return archives[0] if len(archives) == 1 else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
