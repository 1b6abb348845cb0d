"""Pure builders: git refs, commits, changed files, branches and contents as GitHub's JSON."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from emulators.github.gitrepo import CommitInfo, FileChange
from emulators.github.render import node_id, repo_url, user
from emulators.github.state import Repository, User


def git_ref(api: str, r: Repository, ref: str, sha: str) -> dict[str, Any]:
    return {
        "ref": ref,
        "node_id": node_id("Ref", r.id) + base64.b64encode(ref.encode()).decode(),
        "url": f"{repo_url(api, r)}/git/{ref}",
        "object": {"sha": sha, "type": "commit", "url": f"{repo_url(api, r)}/git/commits/{sha}"},
    }


def git_commit(api: str, r: Repository, c: CommitInfo) -> dict[str, Any]:
    """The `commit` member of a commit (author/committer signatures, tree, message)."""
    return {
        "author": {"name": c.author.name, "email": c.author.email, "date": c.author.date},
        "committer": {
            "name": c.committer.name,
            "email": c.committer.email,
            "date": c.committer.date,
        },
        "message": c.message,
        "tree": {"sha": c.tree, "url": f"{repo_url(api, r)}/git/trees/{c.tree}"},
        "url": f"{repo_url(api, r)}/git/commits/{c.sha}",
        "comment_count": 0,
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def commit(
    api: str,
    r: Repository,
    c: CommitInfo,
    *,
    author: User | None,
    committer: User | None,
    files: list[FileChange] | None = None,
) -> dict[str, Any]:
    url = repo_url(api, r)
    body: dict[str, Any] = {
        "sha": c.sha,
        "node_id": node_id("Commit", r.id) + c.sha[:8],
        "commit": git_commit(api, r, c),
        "url": f"{url}/commits/{c.sha}",
        "html_url": f"{api}/{r.full_name}/commit/{c.sha}",
        "comments_url": f"{url}/commits/{c.sha}/comments",
        "author": user(api, author),
        "committer": user(api, committer),
        "parents": [
            {"sha": p, "url": f"{url}/commits/{p}", "html_url": f"{api}/{r.full_name}/commit/{p}"}
            for p in c.parents
        ],
    }
    if files is not None:
        additions = sum(f.additions for f in files)
        deletions = sum(f.deletions for f in files)
        body["stats"] = {
            "total": additions + deletions,
            "additions": additions,
            "deletions": deletions,
        }
        body["files"] = [file_change(api, r, c.sha, f) for f in files]
    return body


def file_change(api: str, r: Repository, ref: str, f: FileChange) -> dict[str, Any]:
    path = quote(f.filename)
    return {
        "sha": f.blob_sha,
        "filename": f.filename,
        "status": f.status,
        "additions": f.additions,
        "deletions": f.deletions,
        "changes": f.additions + f.deletions,
        "blob_url": f"{api}/{r.full_name}/blob/{ref}/{path}",
        "raw_url": f"{api}/{r.full_name}/raw/{ref}/{path}",
        "contents_url": f"{repo_url(api, r)}/contents/{path}?ref={ref}",
        "patch": f.patch,
    }


def branch(api: str, r: Repository, name: str, c: dict[str, Any]) -> dict[str, Any]:
    url = f"{repo_url(api, r)}/branches/{quote(name)}"
    return {
        "name": name,
        "commit": c,
        "_links": {"self": url, "html": f"{api}/{r.full_name}/tree/{quote(name)}"},
        "protected": False,
        "protection": {
            "enabled": False,
            "required_status_checks": {"enforcement_level": "off", "contexts": [], "checks": []},
        },
        "protection_url": f"{url}/protection",
    }


def content_file(
    api: str,
    r: Repository,
    path: str,
    sha: str,
    ref: str,
    *,
    kind: str = "file",
    size: int = 0,
    data: bytes | None = None,
) -> dict[str, Any]:
    url = f"{repo_url(api, r)}/contents/{quote(path)}?ref={quote(ref)}"
    git_url = f"{repo_url(api, r)}/git/{'trees' if kind == 'dir' else 'blobs'}/{sha}"
    html_url = f"{api}/{r.full_name}/{'tree' if kind == 'dir' else 'blob'}/{ref}/{quote(path)}"
    body: dict[str, Any] = {
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "sha": sha,
        "size": size,
        "url": url,
        "html_url": html_url,
        "git_url": git_url,
        "download_url": None if kind == "dir" else f"{api}/{r.full_name}/raw/{ref}/{quote(path)}",
        "type": kind,
        "_links": {"self": url, "git": git_url, "html": html_url},
    }
    if data is not None:
        encoded = base64.encodebytes(data).decode()
        body = {**body, "content": encoded, "encoding": "base64"}
    return body
