"""Bytes on disk as text for the model: binary files refused, sizes and line ranges bounded."""

from __future__ import annotations

from typing import BinaryIO

from bot.workspace.paths import WorkspaceError

SNIFF_BYTES = 8192
_LINE_PIECE = 65536


def size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    return f"{count / 1000:.0f} KB" if count < 1_000_000 else f"{count / 1_000_000:.1f} MB"


def lines(text: str) -> str:
    """`3 lines`, `1 line`: how long a text is, for a confirmation."""
    count = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    return f"{count} line{'' if count == 1 else 's'}"


def refuse_binary(head: bytes, relative: str) -> None:
    if b"\0" in head[:SNIFF_BYTES]:
        raise WorkspaceError(f"`{relative}` looks like a binary file; the crew reads text only")


def decode(data: bytes, relative: str) -> str:
    refuse_binary(data, relative)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(f"`{relative}` is not UTF-8 text; the crew reads text only") from None


def read_whole(stream: BinaryIO, relative: str, *, file_size: int, limit: int) -> str:
    data = stream.read(limit + 1)
    if max(file_size, len(data)) > limit:
        raise WorkspaceError(
            f"`{relative}` is {size(max(file_size, len(data)))}, over the {size(limit)} read "
            "limit; read it in parts with start_line and end_line, or search it"
        )
    return decode(data, relative)


def read_lines(stream: BinaryIO, relative: str, first: int, last: int | None, limit: int) -> str:
    """Lines first..last (1-based, inclusive), read piecewise so a huge line cannot flood memory."""
    refuse_binary(stream.read(SNIFF_BYTES), relative)
    stream.seek(0)
    out = bytearray()
    number = 1  # the line the next piece belongs to
    piece = b""
    while last is None or number <= last:
        piece = stream.readline(_LINE_PIECE)
        if not piece:
            break
        if number >= first:
            out += piece
            if len(out) > limit:
                raise WorkspaceError(
                    f"lines {first}-{last or 'end'} of `{relative}` are over the {size(limit)} "
                    "read limit; ask for fewer lines"
                )
        if piece.endswith(b"\n"):
            number += 1
    total = number - 1 + (1 if piece and not piece.endswith(b"\n") else 0)
    if first > max(total, 1):
        raise WorkspaceError(f"`{relative}` has {total} lines; start_line {first} is past the end")
    return decode(bytes(out), relative)


def numbered(text: str, first: int = 1) -> str:
    """`cat -n`: each line behind its number (right-aligned to six places, then a tab)."""
    if not text:
        return ""
    body = text[:-1] if text.endswith("\n") else text
    return "\n".join(f"{n:>6}\t{line}" for n, line in enumerate(body.split("\n"), first)) + "\n"


def head_and_tail(text: str, limit: int) -> str:
    """`text` if it is at most `limit` characters, else its start and end around a note of the
    characters cut (the start says what ran, the end how it ended)."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 5
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[… {cut} characters cut …]\n{text[-tail:]}"
