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
from PIL import Image

from hashmatch.hashing.algorithms import HashValue, PerceptualAlgorithm, register
from hashmatch.hashing.decode import SQUARE_SIZE, PreparedImage
from hashmatch.hashing.variants import UNDO, Transform

#: Meta's PDQ quality threshold: hashes below it carry too little image detail to match.
PDQ_MIN_QUALITY = 50


def bits_to_hex(bits: np.ndarray) -> str:
    """Pack a 0/1 vector into hex, first element as the most significant bit."""
    return np.packbits(np.asarray(bits, dtype=np.uint8).ravel()).tobytes().hex()


#: Size at which PDQ hashes the other orientations of a picture (docs/perceptual.md).
PDQ_VARIANT_SIZE = 128
#: Quality of an imagehash value: the grey standard deviation of the picture at 64x64,
#: scaled so that 16 grey levels give 100; below IMAGEHASH_MIN_QUALITY (4 grey levels) the
#: picture is too flat for a verdict. Pictures smaller than MIN_SIDE pixels get 0.
IMAGEHASH_MIN_QUALITY = 25
MIN_SIDE = 32


@register
class Pdq(PerceptualAlgorithm):
    name: ClassVar[str] = "pdq"
    bits: ClassVar[int] = 256
    default_threshold: ClassVar[int] = 31
    candidate_threshold: ClassVar[int] = 96
    min_quality: ClassVar[int] = PDQ_MIN_QUALITY

    def compute(self, image: PreparedImage) -> HashValue:
        vector, quality = pdqhash.compute(np.asarray(image.square))
        return HashValue(self.name, bits_to_hex(vector), int(quality))

    def quick(self, picture: Image.Image) -> str:
        # Back to the variant size: PDQ's filter windows follow the picture's size.
        square = picture.convert("RGB").resize((PDQ_VARIANT_SIZE,) * 2, Image.Resampling.LANCZOS)
        vector, _ = pdqhash.compute(np.asarray(square))
        return bits_to_hex(vector)

    def dihedral(self, image: PreparedImage) -> list[tuple[Transform, str]]:
        small = variant_base(image)
        out = []
        for transform, undo in UNDO.items():
            vector, _ = pdqhash.compute(np.asarray(small.transpose(undo)))
            out.append((transform, bits_to_hex(vector)))
        return out


def variant_base(image: PreparedImage) -> Image.Image:
    """The square at PDQ_VARIANT_SIZE (a 4x4 box average: cheap, and PDQ filters anyway)."""
    return image.square.reduce(SQUARE_SIZE // PDQ_VARIANT_SIZE)


def imagehash_quality(image: PreparedImage) -> int:
    """How much detail an imagehash value rests on (0-100; see IMAGEHASH_MIN_QUALITY)."""
    if min(image.width, image.height) < MIN_SIDE:
        return 0
    grey = np.asarray(image.square.convert("L").resize((64, 64), Image.Resampling.BOX))
    return min(100, round(float(grey.std()) * 100 / 16))


class _ImageHash64(PerceptualAlgorithm):
    """The imagehash algorithms at their default 8x8 size: 64 bits, 16 hex digits.

    ``variant_size``: the grey image the other orientations are hashed from; at the size
    the algorithm itself resamples a square to, an orientation and the resampling commute,
    so the variant is the hash of the reoriented picture.
    """

    bits: ClassVar[int] = 64
    min_quality: ClassVar[int] = IMAGEHASH_MIN_QUALITY
    variant_size: ClassVar[int] = 64

    def compute(self, image: PreparedImage) -> HashValue:
        return HashValue(self.name, bits_to_hex(self._bits(image.square)), imagehash_quality(image))

    def quick(self, picture: Image.Image) -> str:
        return bits_to_hex(self._bits(picture.convert("L")))

    def dihedral(self, image: PreparedImage) -> list[tuple[Transform, str]]:
        size = (self.variant_size, self.variant_size)
        base = image.square.convert("L").resize(size, Image.Resampling.LANCZOS)
        return [(t, bits_to_hex(self._bits(base.transpose(undo)))) for t, undo in UNDO.items()]

    def _bits(self, picture: Image.Image) -> np.ndarray:
        raise NotImplementedError


@register
class PHash(_ImageHash64):
    name: ClassVar[str] = "phash"
    default_threshold: ClassVar[int] = 8
    candidate_threshold: ClassVar[int] = 22

    variant_size: ClassVar[int] = 32

    def _bits(self, picture: Image.Image) -> np.ndarray:
        return np.asarray(imagehash.phash(picture).hash)


@register
class DHash(_ImageHash64):
    name: ClassVar[str] = "dhash"
    default_threshold: ClassVar[int] = 6
    candidate_threshold: ClassVar[int] = 18

    def _bits(self, picture: Image.Image) -> np.ndarray:
        return np.asarray(imagehash.dhash(picture).hash)


@register
class AHash(_ImageHash64):
    name: ClassVar[str] = "ahash"
    default_threshold: ClassVar[int] = 4
    candidate_threshold: ClassVar[int] = 14

    variant_size: ClassVar[int] = 8

    def _bits(self, picture: Image.Image) -> np.ndarray:
        return np.asarray(imagehash.average_hash(picture).hash)


@register
class WHash(_ImageHash64):
    """Haar wavelet hash at a fixed 64-px working scale.

    imagehash's default scale grows with the input's size, so the same picture at two
    resolutions would be hashed at two scales; fixing it keeps the value independent of
    resolution (docs/hashing.md).
    """

    name: ClassVar[str] = "whash"
    default_threshold: ClassVar[int] = 4
    candidate_threshold: ClassVar[int] = 14

    def _bits(self, picture: Image.Image) -> np.ndarray:
        return np.asarray(imagehash.whash(picture, image_scale=64).hash)
