"""Safe decoding: formats by content, orientation, transparency, odd modes, bombs."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hashmatch.bench.scenes import scene
from hashmatch.hashing import get_algorithm
from hashmatch.hashing.decode import (
    SQUARE_SIZE,
    WORKING_SIZE,
    DecodeError,
    has_image_extension,
    prepare_image,
    sniff_image_format,
)

from .conftest import GOLDEN, jpeg_bytes


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("JPEG", "JPEG"), ("PNG", "PNG"), ("GIF", "GIF"), ("TIFF", "TIFF"), ("BMP", "BMP"),
     ("WEBP", "WEBP")],
)  # fmt: skip
def test_sniffs_formats_by_content(fmt: str, expected: str) -> None:
    data = _encoded(scene(1, 32, 24), fmt)
    assert sniff_image_format(data[:64]) == expected


@pytest.mark.parametrize(
    "head", [b"", b"hello world", b"BMW is a car brand, not a bitmap", b"\xff\xd8"]
)
def test_non_images_are_not_sniffed(head: bytes) -> None:
    assert sniff_image_format(head) is None


def test_image_extensions() -> None:
    assert has_image_extension("IMG_0001.JPG")
    assert has_image_extension("a.b.heic")
    assert not has_image_extension("notes.txt")
    assert not has_image_extension("jpg")


def test_exif_orientation_is_applied() -> None:
    pdq = get_algorithm("pdq")
    upright = pdq.compute(prepare_image((GOLDEN / "upright.jpg").read_bytes())).hex
    rotated_file = prepare_image((GOLDEN / "exif_rotate6.jpg").read_bytes())
    assert rotated_file.rgb.size == (240, 320)  # portrait again after the EXIF rotation
    assert pdq.distance(upright, pdq.compute(rotated_file).hex) <= 10
    # Without applying the tag the pixels are sideways: far from the upright picture.
    raw = Image.open(GOLDEN / "exif_rotate6.jpg").convert("RGB")
    sideways = pdq.compute(prepare_image(_encoded(raw, "PNG"))).hex
    assert pdq.distance(upright, sideways) > 60


def test_transparency_is_composited_on_white() -> None:
    prepared = prepare_image((GOLDEN / "alpha.png").read_bytes())
    assert prepared.rgb.mode == "RGB"
    assert prepared.rgb.getpixel((10, 100)) == (255, 255, 255)
    assert prepared.rgb.getpixel((150, 100)) != (255, 255, 255)


def test_palette_with_transparency() -> None:
    image = Image.new("P", (20, 20), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.paste(1, (10, 0, 20, 20))
    data = _encoded(image, "PNG", transparency=0)
    prepared = prepare_image(data)
    assert prepared.rgb.getpixel((2, 2)) == (255, 255, 255)
    assert prepared.rgb.getpixel((15, 2)) == (255, 0, 0)


def test_sixteen_bit_grey_is_scaled_not_clipped() -> None:
    prepared = prepare_image((GOLDEN / "grey16.png").read_bytes())
    expected = np.asarray(scene(5, 160, 120).convert("L"), dtype=np.float64)
    got = np.asarray(prepared.rgb.convert("L"), dtype=np.float64)
    assert np.abs(got - expected).mean() < 1.0


def test_cmyk_jpeg_decodes_like_its_rgb_source() -> None:
    phash = get_algorithm("phash")
    cmyk = phash.compute(prepare_image((GOLDEN / "cmyk.jpg").read_bytes())).hex
    rgb = phash.compute(prepare_image(jpeg_bytes(scene(8, 160, 120)))).hex
    assert phash.distance(cmyk, rgb) <= 6


def test_heic_decodes_like_its_source() -> None:
    pytest.importorskip(
        "pillow_heif", reason="HEIC needs the optional pillow-heif (hashmatch[heic])"
    )
    source = scene(11, 640, 480)
    data = _encoded(source, "HEIF", quality=90)
    assert sniff_image_format(data[:16]) == "HEIF"
    prepared = prepare_image(data)
    assert (prepared.format, prepared.width, prepared.height) == ("HEIF", 640, 480)
    pdq = get_algorithm("pdq")
    original = pdq.compute(prepare_image(_encoded(source, "PNG"))).hex
    assert pdq.distance(pdq.compute(prepared).hex, original) <= 8


def test_heic_without_pillow_heif_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from hashmatch.hashing import decode

    # An HEIF header Pillow cannot identify without the plugin.
    data = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    monkeypatch.setattr(decode, "HEIF_SUPPORTED", False)
    with pytest.raises(DecodeError, match=r"pillow-heif"):
        prepare_image(data)


def test_animated_gif_uses_the_first_frame_and_says_so() -> None:
    prepared = prepare_image((GOLDEN / "animated.gif").read_bytes())
    assert prepared.frames == 2
    assert any("first frame" in note for note in prepared.notes)


def test_large_jpeg_is_draft_decoded_but_reports_its_real_size() -> None:
    prepared = prepare_image(jpeg_bytes(scene(9, 750, 500).resize((3000, 2000))))
    assert (prepared.width, prepared.height) == (3000, 2000)
    assert max(prepared.rgb.size) <= WORKING_SIZE
    assert prepared.square.size == (SQUARE_SIZE, SQUARE_SIZE)


def test_draft_decode_stays_close_to_a_full_decode() -> None:
    data = jpeg_bytes(scene(10, 800, 600).resize((2400, 1800), Image.Resampling.BICUBIC))
    pdq = get_algorithm("pdq")
    drafted = pdq.compute(prepare_image(data)).hex
    full = Image.open(io.BytesIO(data)).convert("RGB")
    undrafted = pdq.compute(prepare_image(_encoded(full, "PNG"))).hex
    assert pdq.distance(drafted, undrafted) <= 8


def test_one_pixel_image_hashes() -> None:
    prepared = prepare_image(_encoded(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG"))
    assert prepared.square.size == (SQUARE_SIZE, SQUARE_SIZE)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.fixture(scope="session")
def png_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 40000x40000 greyscale PNG: 1.6 GB of pixels in about 1.6 MB."""
    side = 40_000
    compressor = zlib.compressobj(1)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(data)
    return path


def test_decompression_bomb_is_refused_before_decoding(png_bomb: Path) -> None:
    with pytest.raises(DecodeError, match="exceeds the decode limit"):
        prepare_image(png_bomb.read_bytes())


def test_pixel_limit_is_configurable() -> None:
    data = _encoded(scene(1, 200, 100), "PNG")
    with pytest.raises(DecodeError, match="200x100 pixels exceeds the decode limit of 19999"):
        prepare_image(data, max_pixels=19_999)
    assert prepare_image(data, max_pixels=20_000).width == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, not an image", "not a decodable image"),
        (jpeg_bytes(scene(1, 200, 150))[:3000], "damaged"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, "damaged|not a decodable"),
    ],
    ids=["empty", "text", "truncated-jpeg", "garbage-png"],
)
def test_broken_data_gives_a_decode_error(data: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        prepare_image(data)
