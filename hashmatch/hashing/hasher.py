"""Hash one file: one read of its bytes feeds every digest, one decode every perceptual hash.

``hash_stream`` never raises for a problem with the file itself: an unreadable file, an
image that will not decode or an algorithm that fails becomes a ``Problem`` (stage and
message) in the result, and whatever could still be computed is kept. Cryptographic
digests are only reported when every byte was read.
"""

from __future__ import annotations

import dataclasses
import enum
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import Image

from hashmatch.hashing.algorithms import (
    CryptographicAlgorithm,
    HashValue,
    PerceptualAlgorithm,
    resolve_algorithms,
)
from hashmatch.hashing.decode import (
    DEFAULT_MAX_PIXELS,
    SQUARE_SIZE,
    DecodeError,
    PreparedImage,
    has_image_extension,
    prepare_image,
    sniff_image_format,
)
from hashmatch.hashing.perceptual import variant_base
from hashmatch.hashing.variants import Transform, Variant, border_box, extended

CHUNK_SIZE = 1 << 20
#: Images larger than this (in bytes) are not kept in memory for decoding.
DEFAULT_MAX_IMAGE_BYTES = 512 << 20
DEFAULT_ALGORITHMS = ("md5", "sha1", "sha256", "pdq", "phash")


class Stage(enum.Enum):
    """Where in the pipeline a file could not be (fully) examined."""

    WALK = "walk"
    READ = "read"
    DECODE = "decode"
    HASH = "hash"
    THUMBNAIL = "thumbnail"


@dataclass(frozen=True)
class Problem:
    stage: Stage
    message: str


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    frames: int = 1


@dataclass(frozen=True)
class HashingOptions:
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES
    #: Also hash the picture's other orientations and its borderless crop, for matching.
    variants: bool = True


@dataclass(frozen=True)
class FileHashes:
    """Everything hashing learned about one file."""

    bytes_read: int
    hashes: tuple[HashValue, ...] = ()
    image: ImageInfo | None = None
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = field(default=())
    #: Hashes of variants of the picture (orientations, borders removed): matching only.
    variants: tuple[Variant, ...] = field(default=())

    @property
    def read_ok(self) -> bool:
        return not any(p.stage is Stage.READ for p in self.problems)

    def get(self, algorithm: str) -> HashValue | None:
        for value in self.hashes:
            if value.algorithm == algorithm:
                return value
        return None


def hash_stream(
    stream: BinaryIO, options: HashingOptions = HashingOptions(), *, name: str = ""
) -> FileHashes:
    """Read ``stream`` to its end once and compute every requested hash."""
    algorithms = resolve_algorithms(options.algorithms)
    crypto = [a for a in algorithms if isinstance(a, CryptographicAlgorithm)]
    perceptual = [a for a in algorithms if isinstance(a, PerceptualAlgorithm)]
    digests = [a.new() for a in crypto]
    kept: io.BytesIO | None = None
    image_format: str | None = None
    total = 0
    try:
        while chunk := stream.read(CHUNK_SIZE):
            if total == 0 and perceptual:
                image_format = sniff_image_format(chunk[:64])
                if image_format is not None:
                    kept = io.BytesIO()
            for digest in digests:
                digest.update(chunk)
            if kept is not None:
                if total + len(chunk) > options.max_image_bytes:
                    kept = None
                else:
                    kept.write(chunk)
            total += len(chunk)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        message = f"read failed after {total} bytes: {reason}"
        return FileHashes(total, problems=(Problem(Stage.READ, message),))

    hashes = [HashValue(a.name, d.hexdigest()) for a, d in zip(crypto, digests, strict=True)]
    problems: list[Problem] = []
    if not perceptual:
        return FileHashes(total, tuple(hashes))
    if image_format is None:
        if has_image_extension(name):
            what = "the file is empty" if total == 0 else "its content is not a known image format"
            problems.append(Problem(Stage.DECODE, f"named like an image but {what}"))
        return FileHashes(total, tuple(hashes), problems=tuple(problems))
    if kept is None:
        limit = options.max_image_bytes
        message = f"{image_format} image of {total} bytes is over the {limit}-byte decode limit"
        return FileHashes(total, tuple(hashes), problems=(Problem(Stage.DECODE, message),))
    perceptual_hashes, info, notes, more, variants = _perceptual(
        kept.getvalue(), perceptual, options
    )
    return FileHashes(
        total, tuple(hashes + perceptual_hashes), info, tuple(problems + more), notes, variants
    )


def _perceptual(
    data: bytes, algorithms: Sequence[PerceptualAlgorithm], options: HashingOptions
) -> tuple[list[HashValue], ImageInfo | None, tuple[str, ...], list[Problem], tuple[Variant, ...]]:
    try:
        prepared = prepare_image(data, max_pixels=options.max_pixels)
    except DecodeError as exc:
        return [], None, (), [Problem(Stage.DECODE, str(exc))], ()
    info = ImageInfo(prepared.format, prepared.width, prepared.height, prepared.frames)
    values: list[HashValue] = []
    variants: list[Variant] = []
    problems: list[Problem] = []
    borderless = _without_borders(prepared) if options.variants else None
    crops = extended(variant_base(prepared)) if options.variants else []
    for algorithm in algorithms:
        try:
            values.append(algorithm.compute(prepared))
            if options.variants:
                variants += [Variant(algorithm.name, t, h) for t, h in algorithm.dihedral(prepared)]
            if borderless is not None:
                cropped = algorithm.compute(borderless).hex
                variants.append(Variant(algorithm.name, Transform.BORDERS_REMOVED, cropped))
            for picture in crops:
                value = algorithm.quick(picture)
                if value is not None:
                    variants.append(Variant(algorithm.name, Transform.CROPPED, value))
        except (ValueError, TypeError, ArithmeticError, MemoryError) as exc:
            problems.append(Problem(Stage.HASH, f"{algorithm.name} failed: {exc}"))
    return values, info, prepared.notes, problems, tuple(variants)


def _without_borders(prepared: PreparedImage) -> PreparedImage | None:
    """The picture with uniform borders cut away, or None when it has none."""
    box = border_box(prepared.rgb)
    if box is None:
        return None
    cropped = prepared.rgb.crop(box)
    square = cropped.resize((SQUARE_SIZE, SQUARE_SIZE), Image.Resampling.LANCZOS)
    scale_w = prepared.width / prepared.rgb.width
    scale_h = prepared.height / prepared.rgb.height
    return dataclasses.replace(
        prepared,
        rgb=cropped,
        square=square,
        width=round(cropped.width * scale_w),
        height=round(cropped.height * scale_h),
    )
