"""A stream read ahead in a thread gives the stream's bytes, whatever the reads' sizes,
raises what reading the stream raised, and stops its thread when closed."""

from __future__ import annotations

import io
import threading
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hashmatch.hashsets.formats import read_ahead
from hashmatch.hashsets.formats.read_ahead import ReadAhead


@given(
    data=st.binary(max_size=200),
    chunk=st.integers(1, 50),
    sizes=st.lists(st.integers(-1, 60), max_size=20),
)
def test_the_bytes_are_the_stream_s(data: bytes, chunk: int, sizes: list[int]) -> None:
    with ReadAhead(io.BytesIO(data), chunk) as ahead:
        got = b"".join(ahead.read(size) for size in sizes) + ahead.read()
        assert ahead.read(5) == b""
    assert got == data


class _Failing(io.RawIOBase):
    """A stream whose third read fails, as a damaged zip member's does."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        if self.reads == 3:
            raise zlib.error("invalid distance too far back")
        return b"x" * size


def test_what_reading_raises_is_raised_where_it_would_have_been() -> None:
    with ReadAhead(_Failing(), 4) as ahead:  # type: ignore[arg-type]
        assert ahead.read(8) == b"x" * 8
        with pytest.raises(zlib.error, match="too far back"):
            ahead.read(1)


def test_closing_stops_the_thread_of_a_reader_that_stopped_early(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(read_ahead, "DEPTH", 1)
    before = threading.active_count()
    ahead = ReadAhead(io.BytesIO(b"y" * 1000), 10)  # (the thread waits on a full queue)
    assert ahead.read(3) == b"yyy"
    ahead.close()
    assert threading.active_count() == before and ahead.closed
