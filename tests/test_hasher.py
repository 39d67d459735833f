"""One read feeds every digest; problems with a file are data, never exceptions."""

from __future__ import annotations

import hashlib
import io

import pytest

from hashmatch.bench.scenes import scene
from hashmatch.hashing import HashingOptions, Stage, hash_stream
from hashmatch.hashing.hasher import CHUNK_SIZE

from .conftest import jpeg_bytes


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_served = 0
        self.seeks = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_served += len(chunk)
        return chunk

    def seek(self, *args: object) -> int:  # type: ignore[override]
        self.seeks += 1
        return super().seek(*args)  # type: ignore[arg-type]


class FailingStream(io.RawIOBase):
    """Gives one chunk, then fails like a bad sector."""

    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls == 1:
            return b"\xff\xd8\xff" + b"\x00" * (CHUNK_SIZE - 3)
        raise OSError(5, "Input/output error")


ALL = HashingOptions(("md5", "sha1", "sha256", "pdq", "phash", "dhash", "ahash", "whash"))


def test_every_byte_is_read_exactly_once_for_all_algorithms() -> None:
    data = jpeg_bytes(scene(1, 1200, 900)) + b"trailing bytes after the JPEG"
    stream = CountingStream(data)
    result = hash_stream(stream, ALL, name="photo.jpg")
    assert stream.bytes_served == len(data)
    assert stream.seeks == 0
    assert result.bytes_read == len(data)
    assert result.get("md5").hex == hashlib.md5(data).hexdigest()
    assert result.get("sha1").hex == hashlib.sha1(data).hexdigest()
    assert result.get("sha256").hex == hashlib.sha256(data).hexdigest()
    assert {v.algorithm for v in result.hashes} == set(ALL.algorithms)
    assert result.image is not None and result.image.format == "JPEG"
    assert result.problems == ()


def test_read_failure_reports_no_partial_digest() -> None:
    result = hash_stream(FailingStream(), ALL, name="x.jpg")
    assert result.hashes == ()
    assert not result.read_ok
    assert result.problems[0].stage is Stage.READ
    assert "Input/output error" in result.problems[0].message


def test_non_image_named_like_one_is_reported_but_still_hashed() -> None:
    result = hash_stream(io.BytesIO(b"just text"), ALL, name="holiday.jpg")
    assert result.get("md5").hex == hashlib.md5(b"just text").hexdigest()
    assert [p.stage for p in result.problems] == [Stage.DECODE]
    assert "not a known image format" in result.problems[0].message


def test_empty_file_named_like_an_image() -> None:
    result = hash_stream(io.BytesIO(b""), ALL, name="empty.png")
    assert result.get("md5").hex == "d41d8cd98f00b204e9800998ecf8427e"
    assert "empty" in result.problems[0].message


def test_ordinary_non_image_has_no_problem() -> None:
    result = hash_stream(io.BytesIO(b"plain document"), ALL, name="notes.txt")
    assert result.problems == ()
    assert result.image is None
    assert [v.algorithm for v in result.hashes] == ["md5", "sha1", "sha256"]


def test_renamed_image_is_found_by_content() -> None:
    result = hash_stream(io.BytesIO(jpeg_bytes(scene(2))), ALL, name="file2.dat")
    assert result.get("pdq") is not None
    assert result.image.format == "JPEG"


def test_corrupt_image_keeps_its_crypto_hashes() -> None:
    data = jpeg_bytes(scene(3))[:2000]
    result = hash_stream(io.BytesIO(data), ALL, name="broken.jpg")
    assert result.get("sha256").hex == hashlib.sha256(data).hexdigest()
    assert result.get("pdq") is None
    assert result.problems[0].stage is Stage.DECODE


def test_image_over_the_byte_limit_is_not_decoded() -> None:
    data = jpeg_bytes(scene(4))
    options = HashingOptions(ALL.algorithms, max_image_bytes=1000)
    result = hash_stream(io.BytesIO(data), options, name="big.jpg")
    assert result.get("md5") is not None and result.get("pdq") is None
    assert "decode limit" in result.problems[0].message


def test_crypto_only_never_decodes() -> None:
    options = HashingOptions(("md5",))
    result = hash_stream(io.BytesIO(jpeg_bytes(scene(5))[:500]), options, name="x.jpg")
    assert result.problems == () and result.image is None


@pytest.mark.parametrize("algorithms", [("pdq",), ("phash", "whash")])
def test_perceptual_only_selection(algorithms: tuple[str, ...]) -> None:
    result = hash_stream(io.BytesIO(jpeg_bytes(scene(6))), HashingOptions(algorithms), name="a")
    assert tuple(v.algorithm for v in result.hashes) == algorithms
