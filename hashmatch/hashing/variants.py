"""Query-side variants of a picture, so that a mirrored, rotated or letterboxed copy of a
known image still matches.

A known image is often found flipped, rotated by a phone, or with borders added.
Perceptual hashes are not invariant to any of that, so for every decoded image hashmatch
also hashes:

- its seven other **dihedral** orientations (mirror, flip, three rotations, two
  diagonal flips). PDQ is hashed at 128x128 for these (measured: 3.9 bits mean, 8 max
  from the reference, against 14 mean, 28 max for pdqhash's DCT-domain dihedral hashes);
  the imagehash algorithms are hashed from one small grey image at the size each
  algorithm works at, on which the orientations commute with its own resampling;
- the picture with **uniform borders removed** (letterbox, pillarbox, padding), when it
  has any, hashed like the original;
- the picture **extended** by CROP_FRACTION at each corner and around the centre, with
  its edge pixels repeated, as the known image would look around a crop of it. These
  only *confirm* a candidate: a hit through them counts only for a set entry the picture
  as it is already comes within the algorithm's candidate distance of.

Variants are used only to find candidates; the file's reported hashes are those of the
picture as it is. A hit found through a variant names it (``Hit.transform``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from PIL import Image

T = Image.Transpose


class Transform(enum.Enum):
    """How a file relates to the known image it matched (what was done to the original)."""

    MIRRORED = "mirrored"
    FLIPPED = "flipped"
    ROTATED_90_CW = "rotated-90-cw"
    ROTATED_180 = "rotated-180"
    ROTATED_90_CCW = "rotated-90-ccw"
    TRANSPOSED = "transposed"
    TRANSVERSED = "transversed"
    BORDERS_REMOVED = "borders-removed"
    CROPPED = "cropped"

    @property
    def confirm_only(self) -> bool:
        """A variant that may only confirm a candidate, never find one on its own."""
        return self is Transform.CROPPED


#: The transpose that undoes each dihedral transform (applied to the file's picture).
UNDO: dict[Transform, Image.Transpose] = {
    Transform.MIRRORED: T.FLIP_LEFT_RIGHT,
    Transform.FLIPPED: T.FLIP_TOP_BOTTOM,
    Transform.ROTATED_90_CW: T.ROTATE_90,  # PIL rotates counter-clockwise
    Transform.ROTATED_180: T.ROTATE_180,
    Transform.ROTATED_90_CCW: T.ROTATE_270,
    Transform.TRANSPOSED: T.TRANSPOSE,
    Transform.TRANSVERSED: T.TRANSVERSE,
}


@dataclass(frozen=True)
class Variant:
    """A hash of a variant of the file's picture, used only to find candidates."""

    algorithm: str
    transform: Transform
    hex: str

    def to_bytes(self) -> bytes:
        return bytes.fromhex(self.hex)


#: A border is rows/columns whose grey values vary by less than this (standard deviation)
#: and stay this close to the edge colour; it must cover at least MIN_BORDER of a side.
BORDER_STD = 4.0
BORDER_DELTA = 12.0
MIN_BORDER = 0.02
MAX_BORDER = 0.45


def border_box(image: Image.Image) -> tuple[int, int, int, int] | None:
    """The box inside uniform borders, or None when there are none worth removing."""
    if min(image.size) < 32:
        return None
    factor = max(1, min(image.size) // 128)  # judged on a small copy: borders are wide
    small = image.reduce(factor) if factor > 1 else image
    box = _inner_box(np.asarray(small.convert("L"), dtype=np.float32))
    if box is None:
        return None
    left, top, right, bottom = (v * factor for v in box)
    return left, top, min(right, image.width), min(bottom, image.height)


def _inner_box(grey: np.ndarray) -> tuple[int, int, int, int] | None:
    height, width = grey.shape
    top = _run(grey)
    bottom = _run(grey[::-1])
    left = _run(grey.T)
    right = _run(grey.T[::-1])
    if max(top + bottom, 1) / height < MIN_BORDER and max(left + right, 1) / width < MIN_BORDER:
        return None
    if top + bottom >= height * (1 - MAX_BORDER) or left + right >= width * (1 - MAX_BORDER):
        return None  # nearly all border: a flat picture, not a framed one
    return left, top, width - right, height - bottom


def _run(lines: np.ndarray) -> int:
    """How many leading rows of ``lines`` are uniform and of the edge's colour."""
    limit = int(len(lines) * MAX_BORDER)
    edge = float(lines[0].mean())
    means = lines[:limit].mean(axis=1)
    stds = lines[:limit].std(axis=1)
    uniform = (stds < BORDER_STD) & (np.abs(means - edge) < BORDER_DELTA)
    if not uniform[0]:
        return 0
    changes = np.flatnonzero(~uniform)
    return int(changes[0]) if changes.size else limit


#: How much of the known image a cropped copy is assumed to miss (a fraction of each side).
CROP_FRACTION = 0.04
#: Corners (left, top, right, bottom share of the missing strip) and the centre.
_EXTENSIONS = ((1, 1, 0, 0), (0, 1, 1, 0), (1, 0, 0, 1), (0, 0, 1, 1), (0.5, 0.5, 0.5, 0.5))


def extended(small: Image.Image, fraction: float = CROP_FRACTION) -> list[Image.Image]:
    """A small square of the picture with edge pixels repeated outwards, as if the picture
    were a crop (each side's share of the missing strip as ``_EXTENSIONS`` says)."""
    pixels = np.asarray(small.convert("RGB"))
    margin = round(small.width * fraction / (1 - fraction))
    out = []
    for left, top, right, bottom in _EXTENSIONS:
        padded = np.pad(
            pixels,
            ((round(margin * top), round(margin * bottom)),
             (round(margin * left), round(margin * right)), (0, 0)),
            mode="edge",
        )  # fmt: skip
        out.append(Image.fromarray(padded, "RGB"))
    return out
