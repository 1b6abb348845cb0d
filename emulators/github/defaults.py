"""What GitHub gives a new App and a new repository unless told otherwise: the App's
permissions and key pair, the repository's default labels."""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from emulators.github.state import Label

DEFAULT_PERMISSIONS = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
    "statuses": "write",
}
DEFAULT_EVENTS = ("issues", "issue_comment", "pull_request")
DEFAULT_LABELS = [
    ("bug", "d73a4a", "Something isn't working"),
    ("enhancement", "a2eeef", "New feature or request"),
]


def app_key_pair(
    public_key_pem: bytes | None, private_key_pem: bytes | None
) -> tuple[bytes, bytes | None]:
    """(public, private) PEM keys of an App: the public key as given, else the public half of
    `private_key_pem`, else both halves of a new RSA key pair (as GitHub makes one on request)."""
    if public_key_pem is not None:
        return public_key_pem, private_key_pem
    if private_key_pem is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private_key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    loaded = serialization.load_pem_private_key(private_key_pem, password=None)
    public_key_pem = loaded.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public_key_pem, private_key_pem


def default_labels(next_id: Callable[[], int]) -> dict[str, Label]:
    """The labels every new repository starts with, by name, numbered by `next_id`."""
    labels = {}
    for name, color, description in DEFAULT_LABELS:
        labels[name] = Label(
            id=next_id(), name=name, color=color, description=description, default=True
        )
    return labels
