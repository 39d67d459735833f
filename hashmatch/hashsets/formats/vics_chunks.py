"""Cutting a VICS file's media into pieces of whole media: a flat set's ``value``
array; a case file's small cases whole, several a piece, and a large case's ``Media``
array (where it starts and ends: ``vics_cases``).

A piece ends at a ``}`` followed by ``,`` and ``{``. Such a place can also fall inside a
string or a nested array; then the piece, wrapped in ``[...]``, is not valid JSON (a
string left open, brackets that do not balance), msgspec says so, and the place
before it is tried. A piece that parses therefore ends exactly at a medium's end, and
the next one starts at a medium's start.

Exporters write every medium's keys in one order, so a place followed by the keys the
first medium starts with (its first, and the next where the first is an OData
annotation: ``vics_places.first_keys``) is a medium's start: it cannot be inside a string
(the key's quote would be escaped there), and a nested object would have to start with
the same keys. Once the first ``KEYED_CHECKS`` such places have parsed here, later ones
are taken without parsing the piece here (the worker that reads it parses it anyway;
should it not parse, the rest of the file goes to the streaming reader). Where one of
the first does not parse (nested objects that start as media do), every such place is
tried by parsing, last first. Without any, places are tried, last first, by parsing.
Where the workers read the pieces from the file (``skim``), a set's media are then not
read here at all: only ``2 * CUT_WINDOW`` bytes around where each piece is to end
(``Pieces._skimmed``); a medium longer than that, and the file's end, are read through.

Small cases are cut whole, several a piece, before a case that starts with the keys
cases start with (when they are not the media's). The first such cut is made where the
cases before it parse (those keys may start nested objects too; where they do, cases
are no longer cut whole); later ones are taken as places followed by a medium's keys
are, without parsing here (parsing each 2 MB piece twice, here and in a worker, made
this process the one the import waited for). A case that reaches beyond a piece's size
has its media cut as above, the keys around them read here.

Only what the bulk reader is sure of is cut: a UTF-8 file (or UTF-16 transcoded)
whose root object names the data model before ``value`` (scalar keys only) and holds
no second ``value`` after it (other keys there, an OData next link or count, are read
as the streaming reader reads them: ``vics_tail``). Anything else raises ``NotBulk``
before the piece concerned is given out, as does a piece that finds no place to cut
within ``MAX_MEDIUM_BYTES``.
"""

from __future__ import annotations

import codecs
import io
import itertools
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from hashmatch.hashsets.formats import vics_cases, vics_tail
from hashmatch.hashsets.formats.vics_piece import Holds, NotBulk, Piece, batched, parses
from hashmatch.hashsets.formats.vics_places import (
    CUT,
    HEAD,
    SPACE,
    SPACE_RUN,
    cuts_back,
    first_keys,
    last_parsing,
    reach,
    separator_before,
)
from hashmatch.hashsets.formats.vics_stream import (
    ROOT_KEYS,
    Shape,
    note_context,
    shape_of,
)

#: Bytes of media in a piece.
CHUNK_BYTES = 2 << 20
#: Bytes at a piece's end searched first for places to cut.
CUT_WINDOW = 64 * 1024
#: Places that do not parse tried in a piece before the rest is left to the streaming
#: reader (a place found not to parse is not tried again when more is read).
CUT_TRIES = 32
#: The first cuts before a medium's key parsed here: if all do, later ones are taken
#: without (a worker parses each piece anyway).
KEYED_CHECKS = 3
#: How far into a piece those first cuts are looked for (what is parsed here to check).
CHECK_BYTES = 64 * 1024
#: A medium this large (no place to cut this far) is left to the streaming reader.
MAX_MEDIUM_BYTES = 64 << 20
#: How much of the file's head may hold the root keys before ``value``.
HEAD_BYTES = 64 * 1024

#: Text of the stream, and where it starts in the stream.
_Text = tuple[bytes | memoryview, int]


class Pieces:
    """The pieces of one file, in order; ``provenance`` gets the data model and cases.

    What is read ahead is kept in ``pending`` from ``at`` on (a cursor: a case or a
    piece taken moves it, and ``pending`` is copied only when more is read)."""

    def __init__(self, stream: BinaryIO, provenance: dict[str, str], skim: bool = False) -> None:
        self._stream = stream
        self._provenance = provenance
        #: Whether a set's media may be cut without reading them (``_skimmed``): the
        #: stream is the file the workers read the pieces from.
        self._skim = skim
        self._skim_from = 0  # (not from a piece that could not be cut so, until it is taken)
        #: The keys media start with (as written: ``first_keys``).
        self._medium_keys: tuple[bytes, ...] | None = None
        self._keyed: re.Pattern[bytes] | None = None  # a place followed by a medium's start
        #: Cuts before a medium's key still to be checked here before the rest are
        #: trusted, and whether they may be (no such cut failed to parse).
        self._keyed_checks = KEYED_CHECKS
        self._keyed_trusted = True
        #: The keys cases start with (if not the media's), and a place followed by them.
        self._case_keys: tuple[tuple[bytes, ...], re.Pattern[bytes]] | None = None
        self._whole = True  # cases may be cut whole (no cut before that key failed)
        self._whole_checked = False  # a cut before that key parsed here
        self._notes: list[dict[str, Any]] = []  # cases ended since the last piece
        self._ends_tried = 0  # case ends before this in ``pending`` were looked at
        self._media_keys = vics_cases.MediaKeys()  # where "Media" keys are in ``pending``
        self._tried_until = 0  # places before this in ``pending`` were found not to parse
        self._failures = 0  # places that did not parse in the piece being cut
        self._pending = b""
        self._origin = 0  # where ``pending`` starts in the stream
        self._at = 0
        self._ended = False

    def __iter__(self) -> Iterator[Piece]:
        try:
            yield from self._pieces()
        except (UnicodeDecodeError, io.UnsupportedOperation) as exc:
            # Text that is not UTF-16 after all, a head too long to be read again: the
            # streaming reader reads it (and says what is wrong with it).
            raise NotBulk(str(exc)) from exc

    def _pieces(self) -> Iterator[Piece]:
        start = self._stream.tell()
        head = self._stream.read(HEAD_BYTES)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise NotBulk("UTF-16")
        bom = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
        self._stream.seek(start + bom)
        shape = shape_of(self._stream)
        if shape is Shape.UNDECIDED:
            raise NotBulk("the data model is named after the media, or the head is odd")
        found = HEAD.match(head, bom)
        if found is None:
            raise NotBulk("the root object does not start with scalar keys and value")
        self._note_head(found[1])
        self._stream.seek(start + len(head))
        self._pending, self._origin = head, start
        self._take_to(found.end())
        if shape is Shape.MEDIA:
            yield from self._media()
            last = self._last()
            if last[0]:
                yield Piece(last[0], start=last[1])
        else:
            yield from batched(self._cases(), CHUNK_BYTES)

    def _read(self) -> bool:
        """Read more into ``pending`` (dropping what is before ``at``); False at the end
        of the file."""
        more = self._stream.read(CHUNK_BYTES)
        self._ended = not more
        if more:
            shift = self._at
            # (Joined from a view: a slice would copy what is kept once more.)
            self._pending = b"".join((memoryview(self._pending)[shift:], more))
            self._origin += shift
            self._at = 0
            self._ends_tried = max(0, self._ends_tried - shift)
            self._media_keys.shift(shift)
            self._tried_until = max(0, self._tried_until - shift)
        return bool(more)

    def _left(self) -> int:
        """Bytes read ahead and not yet taken."""
        return len(self._pending) - self._at

    def _skip_space(self) -> None:
        found = SPACE_RUN.match(self._pending, self._at)
        self._take_to(found.end() if found else self._at)

    def _take_to(self, at: int) -> None:
        """Go on from ``at``: nothing before it is looked at again."""
        self._at = self._ends_tried = self._tried_until = at
        self._failures = 0

    def _media(self) -> Iterator[Piece]:
        """Pieces of the media ``pending`` starts with, as long as a place to cut is found
        (all of them, when nothing else follows them but the end of the file)."""
        while True:
            if self._skims():
                skimmed = self._skimmed()
                if skimmed is not None:
                    yield skimmed
                    continue
            if not self._ended and self._left() < CHUNK_BYTES:
                self._read()
                continue
            if self._ended:
                return
            cut = self._cut()
            if cut is None:
                if self._left() > MAX_MEDIUM_BYTES:
                    raise NotBulk("no place to cut")
                self._read()
                continue
            text, at = self._take(cut)
            yield Piece(text, start=at)

    def _skims(self) -> bool:
        """Whether the next piece of a set's media is to be cut without reading it: once
        the places before a medium's first key are trusted (``_cut``), only those near
        where the piece is to end need be looked at; and reading the rest cost this
        process, the one an import waits for on two cores, a tenth of its time (a copy
        from the page cache, and one more to join what was read)."""
        return (
            self._skim
            and self._keyed is not None
            and self._keyed_trusted
            and self._keyed_checks == 0
            and not self._ended
            and self._origin + self._at >= self._skim_from
        )

    def _skimmed(self) -> Piece | None:
        """The next piece, cut at the last place before a medium's first key in the
        ``2 * CUT_WINDOW`` bytes around ``CHUNK_BYTES`` on, without reading the media
        before them; ``pending`` goes on at the next medium. None where there are no such
        places there, or the file ends within them: reading goes on from the piece's
        start as without skimming."""
        start = self._origin + self._at
        low = start + max(0, CHUNK_BYTES - CUT_WINDOW)
        self._stream.seek(low)
        window = self._stream.read(2 * CUT_WINDOW)
        assert self._keyed is not None  # (``_skims``)
        places = [m.start() for m in self._keyed.finditer(window)]
        if len(window) < 2 * CUT_WINDOW or not places:
            self._stream.seek(start)
            self._pending, self._origin = b"", start
            self._take_to(0)
            self._skim_from = start + 1
            return None
        self._pending, self._origin = window, low
        self._media_keys = vics_cases.MediaKeys()  # (the places of a case's Media keys)
        self._take_to(window.index(b"{", places[-1] + 1))
        return Piece(b"", start=start, skipped=low + places[-1] + 1 - start)

    def _take(self, cut: int) -> _Text:
        """The media before ``cut`` (a medium's ``}``); ``pending`` goes on at the next."""
        piece = self._text(cut + 1)
        self._take_to(self._pending.index(b"{", cut + 1))
        return piece

    def _text(self, end: int) -> _Text:
        """``pending`` from ``at`` to ``end``, a view (no copy: the workers read a piece
        from the file, this process only its length; ``pending`` is replaced, never
        changed, so the view stays what it was)."""
        return memoryview(self._pending)[self._at : end], self._origin + self._at

    def _last(self) -> _Text:
        """The media (or cases) from ``at`` to the end of ``value``, which must be all
        that is left but the root's end; empty if there are none."""
        try:
            media, keys = vics_tail.last_media(self._pending[self._at :])
        except ValueError as exc:
            raise NotBulk(str(exc)) from exc
        self._note_root(keys)
        return self._text(self._at + len(media))

    def _cases(self) -> Iterator[Piece]:
        """The cases: small ones whole, in pieces of several (``_whole_cases``); a large
        one's media in pieces, its keys noted as the streaming reader notes them
        (``vics_cases`` finds where its media start and end)."""
        while True:
            while self._left() < HEAD_BYTES and not self._ended:
                self._read()
            self._skip_space()
            if self._pending.startswith(b"]", self._at):  # the end of value: the root's end
                while not self._ended and self._left() < HEAD_BYTES:
                    self._read()
                if not self._ended:
                    raise NotBulk("keys after value")
                try:
                    self._note_root(vics_tail.keys_after(self._pending[self._at + 1 :]))
                except ValueError as exc:
                    raise NotBulk(str(exc)) from exc
                if self._notes:
                    yield self._piece((b"", self._origin + self._at))
                return
            whole = self._whole_cases()
            if whole is not None:
                text, last = whole
                yield self._piece(text, Holds.CASES)
                if last:
                    return
                continue
            case = vics_cases.head(self._pending, self._at)
            if case is None:
                raise NotBulk("an item that is not a case of keys around one Media array")
            fields, media_start = case
            self._take_to(media_start)
            for media in self._case_media(fields):
                yield self._piece(media)
            self._skip_space()
            if self._pending.startswith(b",", self._at):
                self._take_to(self._at + 1)
            elif not self._pending.startswith(b"]", self._at):
                raise NotBulk("no comma after a case")

    def _case_media(self, fields: dict[str, Any]) -> Iterator[_Text]:
        """The current case's media; ``pending`` is left at the ``,`` or ``]`` after it."""
        looked_at_the_end = False
        while True:
            self._learn_medium_key()
            end = self._case_end()
            if end is not None:
                self._notes.append({**fields, **end.keys})
                media = self._text(
                    self._at + len(self._pending[self._at : end.start].rstrip(SPACE))
                )
                self._take_to(end.end - 1)
                if media[0]:
                    yield media
                return
            if not self._ended and self._left() < CHUNK_BYTES:
                # A piece's worth read before a cut is looked for, as for a set's media:
                # the last case's keys after its Media array are then read to the file's
                # end before its last medium is cut (a CaseMetadata of 32 objects there
                # failed as many cuts, and the whole file went to the streaming reader).
                self._read()
                continue
            cut = self._cut()
            if cut is not None:  # a piece of this case's media, its end not yet read
                yield self._take(cut)
            elif self._left() > MAX_MEDIUM_BYTES:
                raise NotBulk("no place to cut")
            elif not self._read():
                if looked_at_the_end:
                    raise NotBulk("the file ends inside a case")
                looked_at_the_end = True  # the whole rest is read: look for the end in it

    def _case_end(self) -> vics_cases.CaseEnd | None:
        """The end of the current case's ``Media`` array and of the case, if read: the
        first place that ends a case as far as the text after it tells
        (``vics_cases.ends``) and has media before it that parse."""
        pending, at = self._pending, self._at
        keys = self._media_keys.since(pending, self._ends_tried)
        for end in vics_cases.ends(pending, self._ends_tried, self._ended, self._keyed, keys):
            if end.start < self._ends_tried:
                continue  # (tried: the stretches looked at can overlap)
            self._ends_tried = end.start + 1
            if parses(pending[at : end.start].rstrip(SPACE)):
                return end
            self._failures += 1
            if self._failures >= CUT_TRIES:
                raise NotBulk("no case end parses")
        return None

    def _piece(self, text: _Text, holds: Holds = Holds.MEDIA) -> Piece:
        notes, self._notes = tuple(self._notes), []
        return Piece(text[0], holds, notes, text[1])

    def _whole_cases(self) -> tuple[_Text, bool] | None:
        """Whole cases from ``at`` on, about ``CHUNK_BYTES`` of them, and whether they
        are the last; None where no case starts that far on (a large case, read in
        pieces of its media), or cases do not start with a key of their own.

        They end before a case that starts with the key the one at ``at`` starts with,
        not the media's: the first time, where the cases before parse (a nested object
        starting with that key leaves brackets open), and where none of the last
        ``CUT_TRIES`` such places parses, the file's cases are read medium by medium
        from there on; after that, at the last such place (a worker's parse checks it)."""
        if not self._whole:
            return None
        if self._case_keys is None:
            keys = first_keys(self._pending, self._at)
            if self._medium_keys is None or keys is None or keys == self._medium_keys:
                return None  # (learnt from a case after the first medium)
            self._case_keys = keys, separator_before(*keys)
        keys, cut = self._case_keys
        ahead = CHUNK_BYTES + reach(keys)
        while self._left() < ahead and not self._ended:
            self._read()
        pending, at = self._pending, self._at
        if self._ended and self._left() <= ahead:
            return self._last(), True
        places = cuts_back(pending, keys, cut, at + 1, at + CHUNK_BYTES)
        if self._whole_checked:  # the key did not start nested objects in the first piece
            place = next(places, None)
            return (self._take(place), False) if place is not None else None
        for place in itertools.islice(places, CUT_TRIES):
            if parses(pending[at : place + 1]):
                self._whole_checked = True
                return self._take(place), False
            self._whole = False  # (the key starts nested objects too)
        return None

    def _learn_medium_key(self) -> None:
        """Learn the keys a medium starts with from the first one ``pending`` starts with."""
        if self._keyed is None and (keys := first_keys(self._pending, self._at)):
            self._medium_keys = keys
            self._keyed = separator_before(*keys)

    def _note_root(self, keys: list[tuple[str, Any]]) -> None:
        """Note the data model where the root's keys (before or after ``value``) name
        it, as the streaming reader does (the last one named counts)."""
        for key, value in keys:
            if key in ROOT_KEYS and isinstance(value, str):
                note_context(self._provenance, value)

    def _note_head(self, keys: bytes) -> None:
        try:
            self._note_root(vics_tail.keys_before(keys))
        except ValueError as exc:
            raise NotBulk("root keys") from exc
        if "context" not in self._provenance:
            raise NotBulk("no data model named before value")

    def _cut(self) -> int | None:
        """Where, near the end of ``pending``, the last whole medium from ``at`` on ends
        (its ``}``)."""
        self._learn_medium_key()
        pending, at = self._pending, self._at
        low = max(at, len(pending) - CUT_WINDOW)
        if self._keyed is not None:
            keyed = []
            if self._keyed_checks > 0 and self._keyed_trusted:
                # The first cuts to check: early in the piece, so that the piece parsed
                # here is short (the first pieces are smaller than the rest).
                keyed = [m.start() for m in self._keyed.finditer(pending, at, at + CHECK_BYTES)]
            if not keyed:
                keyed = [m.start() for m in self._keyed.finditer(pending, low)]
            if not keyed and low > at:  # a medium longer than the window: look further back
                keyed = [m.start() for m in self._keyed.finditer(pending, at)]
            if keyed and self._keyed_checks == 0:  # trusted: the worker's parse checks it
                return keyed[-1]
            place, failed = last_parsing(pending, at, keyed, parses, CUT_TRIES)
            if failed:
                # The media's first key starts nested objects too (a MediaFiles or
                # AlternativeHashes object written with MD5 first): each cut is checked.
                self._keyed_trusted = False
            if place is not None:
                if self._keyed_checks > 0 and self._keyed_trusted:
                    self._keyed_checks -= 1  # (one more first cut that parsed)
                return place
        places = [m.start() for m in CUT.finditer(pending, max(at, self._tried_until))]
        # A place whose separator was cut off by the end of ``pending`` is found next time.
        self._tried_until = max(places[-1] + 1 if places else 0, len(pending) - 4096)
        for place in reversed(places):
            if parses(pending[at : place + 1]):
                return place
            self._failures += 1
            if self._failures >= CUT_TRIES:
                raise NotBulk("no place to cut parses")
        return None  # none here (all inside one medium?): read on
