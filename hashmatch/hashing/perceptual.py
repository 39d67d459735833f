"""The perceptual algorithms: Meta's PDQ and imagehash's pHash, dHash, aHash and wHash.

Each one hashes ``PreparedImage.square`` (512x512 RGB) that ``decode.prepare_image``
made, so a file is decoded and resampled once whatever the number of algorithms. Hex
forms interoperate with the tools that hold the reference sets: PDQ hex is the bit
vector of ``pdqhash.compute`` joined most-significant-bit first (as Meta's
python-threatexchange writes it); the imagehash values are ``str(ImageHash)`` of the
8x8 (64-bit) hashes.

Default thresholds (largest Hamming distance reported as a near hit) are documented with
their evidence in docs/thresholds.md.
"""

from __future__ import annotations

from typing import ClassVar

import imagehash
import numpy as np
import pdqhash

from hashmatch.hashing.algorithms import HashValue, PerceptualAlgorithm, register
from hashmatch.hashing.decode import PreparedImage

#: Meta's PDQ quality threshold: hashes below it carry too little image detail to match.
PDQ_MIN_QUALITY = 50


def bits_to_hex(bits: np.ndarray) -> str:
    """Pack a 0/1 vector into hex, first element as the most significant bit."""
    return np.packbits(np.asarray(bits, dtype=np.uint8).ravel()).tobytes().hex()


@register
class Pdq(PerceptualAlgorithm):
    name: ClassVar[str] = "pdq"
    bits: ClassVar[int] = 256
    default_threshold: ClassVar[int] = 31
    min_quality: ClassVar[int] = PDQ_MIN_QUALITY

    def compute(self, image: PreparedImage) -> HashValue:
        vector, quality = pdqhash.compute(np.asarray(image.square))
        return HashValue(self.name, bits_to_hex(vector), int(quality))


class _ImageHash64(PerceptualAlgorithm):
    """The imagehash algorithms at their default 8x8 size: 64 bits, 16 hex digits."""

    bits: ClassVar[int] = 64

    def compute(self, image: PreparedImage) -> HashValue:
        return HashValue(self.name, bits_to_hex(self._bits(image)))

    def _bits(self, image: PreparedImage) -> np.ndarray:
        raise NotImplementedError


@register
class PHash(_ImageHash64):
    name: ClassVar[str] = "phash"
    default_threshold: ClassVar[int] = 8

    def _bits(self, image: PreparedImage) -> np.ndarray:
        return np.asarray(imagehash.phash(image.square).hash)


@register
class DHash(_ImageHash64):
    name: ClassVar[str] = "dhash"
    default_threshold: ClassVar[int] = 6

    def _bits(self, image: PreparedImage) -> np.ndarray:
        return np.asarray(imagehash.dhash(image.square).hash)


@register
class AHash(_ImageHash64):
    name: ClassVar[str] = "ahash"
    default_threshold: ClassVar[int] = 4

    def _bits(self, image: PreparedImage) -> np.ndarray:
        return np.asarray(imagehash.average_hash(image.square).hash)


@register
class WHash(_ImageHash64):
    """Haar wavelet hash at a fixed 64-px working scale.

    imagehash's default scale grows with the input's size, so the same picture at two
    resolutions would be hashed at two scales; fixing it keeps the value independent of
    resolution (docs/hashing.md).
    """

    name: ClassVar[str] = "whash"
    default_threshold: ClassVar[int] = 4

    def _bits(self, image: PreparedImage) -> np.ndarray:
        return np.asarray(imagehash.whash(image.square, image_scale=64).hash)
