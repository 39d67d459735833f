"""What cutting a VICS file gives (``vics_chunks``): pieces of whole media or whole
cases, comma-separated, each with where it is in the file and the cases read to
their end before it; small pieces joined into a worker's task; whether a stretch of
values parses (how a place to cut is checked); and ``NotBulk``, which hands the file
to the streaming reader from the piece concerned on.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from hashmatch.hashsets.formats.vics_halves import has_lone_half, readable

#: JSON text as an array of values, each kept as its text as written.
TEXTS = msgspec.json.Decoder(list[msgspec.Raw])


def parses(piece: bytes) -> bool:
    """Whether ``piece`` is values, comma-separated, that msgspec parses (once any half
    of a surrogate pair alone is read as ``vics_halves`` reads it)."""
    document = b"[" + piece + b"]"
    if _decodes(document):
        return True
    return has_lone_half(piece) and _decodes(readable(document))


def _decodes(document: bytes) -> bool:
    try:
        TEXTS.decode(document)
    except (msgspec.MsgspecError, RecursionError):
        return False
    return True


class NotBulk(Exception):
    """The file, from the piece being read on, is for the streaming reader."""


class Holds(enum.Enum):
    """What a piece holds, comma-separated."""

    MEDIA = "media"
    CASES = "cases"  # whole cases: what is read of them is their Media arrays' media


@dataclass(frozen=True)
class Piece:
    """A piece of a file's media, and the cases read to their end by the cutting since
    the piece before (their keys: noted before the piece's own cases, if it holds
    whole cases, so that cases are noted in the order of the file)."""

    text: bytes | memoryview  # (a view of what the cutting read; empty: not read)
    holds: Holds = Holds.MEDIA
    notes: tuple[dict[str, Any], ...] = ()
    #: Where ``text`` is in the stream (None: joined from several places).
    start: int | None = None
    #: How long the piece is where the cutting did not read it (its ``text`` is empty:
    #: the workers read it from the file at ``start``).
    skipped: int | None = None

    @property
    def size(self) -> int:
        """The piece's length in bytes."""
        return len(self.text) if self.skipped is None else self.skipped


def batched(pieces: Iterator[Piece], size: int) -> Iterator[Piece]:
    """The pieces, the media of small ones (of small cases read medium by medium)
    joined up to ``size`` bytes: each piece costs a worker's task."""
    batch: list[Piece] = []
    total = 0
    for piece in pieces:
        assert piece.skipped is None, "a skimmed piece cannot be joined"  # (its text is unread)
        if batch and (piece.holds is Holds.CASES or total + len(piece.text) > size):
            yield _joined(batch)
            batch, total = [], 0
        if piece.holds is Holds.CASES:
            yield piece
            continue
        batch.append(piece)
        total += len(piece.text)
    if batch:
        yield _joined(batch)


def _joined(batch: list[Piece]) -> Piece:
    if len(batch) == 1:
        return batch[0]
    text = b",".join(piece.text for piece in batch if piece.text)
    return Piece(text, Holds.MEDIA, tuple(itertools.chain.from_iterable(p.notes for p in batch)))
