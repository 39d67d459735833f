"""The algorithm registry: every hash hashmatch knows, by its constant name.

Each algorithm is a small class registered under a constant name that is stored in
databases and reports (``md5``, ``sha1``, ``sha256``, ``pdq``, ``phash``, ``dhash``,
``ahash``, ``whash``). It knows its bit length, validates and normalises its hex form,
and measures the distance between two values. Cryptographic algorithms make a
``hashlib`` object; perceptual ones compute a value from one prepared image.
"""

from __future__ import annotations

import abc
import enum
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

from hashmatch.errors import InvalidHashError, UnknownAlgorithmError

if TYPE_CHECKING:
    import hashlib

    from PIL import Image

    from hashmatch.hashing.decode import PreparedImage
    from hashmatch.hashing.variants import Transform

_HEX = frozenset(string.hexdigits)


class AlgorithmKind(enum.Enum):
    """Whether an algorithm matches exactly (cryptographic) or by distance (perceptual)."""

    CRYPTOGRAPHIC = "cryptographic"
    PERCEPTUAL = "perceptual"


@dataclass(frozen=True)
class HashValue:
    """A typed hash: the algorithm's constant name, lowercase hex, and PDQ-style quality."""

    algorithm: str
    hex: str
    quality: int | None = None

    def to_bytes(self) -> bytes:
        return bytes.fromhex(self.hex)


class Algorithm(abc.ABC):
    """One registered hash algorithm."""

    name: ClassVar[str]
    kind: ClassVar[AlgorithmKind]
    bits: ClassVar[int]

    @property
    def hex_length(self) -> int:
        return self.bits // 4

    def validate(self, text: str) -> str:
        """Return ``text`` as normalised lowercase hex, or raise ``InvalidHashError``."""
        value = text.strip().lower()
        if len(value) != self.hex_length:
            raise InvalidHashError(
                f"{self.name} needs {self.hex_length} hex digits, got {len(value)}: {text!r:.80}"
            )
        if not _HEX.issuperset(value):
            raise InvalidHashError(f"{self.name} value is not hexadecimal: {text!r:.80}")
        return value

    def is_valid(self, text: str) -> bool:
        try:
            self.validate(text)
        except InvalidHashError:
            return False
        return True

    def value(self, text: str, quality: int | None = None) -> HashValue:
        return HashValue(self.name, self.validate(text), quality)

    def distance(self, a: str, b: str) -> int:
        """Hamming distance in bits between two valid hex values of this algorithm."""
        return (int(self.validate(a), 16) ^ int(self.validate(b), 16)).bit_count()


class CryptographicAlgorithm(Algorithm):
    """An exact digest computed by ``hashlib`` over a file's bytes."""

    kind: ClassVar[AlgorithmKind] = AlgorithmKind.CRYPTOGRAPHIC
    hashlib_name: ClassVar[str]

    def new(self) -> hashlib._Hash:
        import hashlib

        return hashlib.new(self.hashlib_name)


class PerceptualAlgorithm(Algorithm):
    """A hash of what an image looks like, compared by Hamming distance.

    ``default_threshold`` is the largest distance reported as a near hit (docs/thresholds.md).
    ``min_quality``: values whose quality (0–100) is below it give no perceptual verdict.
    """

    kind: ClassVar[AlgorithmKind] = AlgorithmKind.PERCEPTUAL
    default_threshold: ClassVar[int]
    min_quality: ClassVar[int] = 0

    @abc.abstractmethod
    def compute(self, image: PreparedImage) -> HashValue:
        """Hash one prepared (oriented, flattened, RGB) image."""

    def dihedral(self, image: PreparedImage) -> list[tuple[Transform, str]]:
        """Hex hashes of the picture's seven other orientations (hashing/variants.py)."""
        return []

    def quick(self, picture: Image.Image) -> str | None:
        """Hex hash of a small variant picture (hashing/variants.py); None if unsupported."""
        return None

    #: Largest distance at which a set entry counts as a candidate that a confirm-only
    #: variant may confirm (well inside the distance of unrelated pictures).
    candidate_threshold: ClassVar[int] = 0


_REGISTRY: dict[str, Algorithm] = {}

_A = TypeVar("_A", bound=type[Algorithm])


def register(cls: _A) -> _A:
    """Class decorator: add one instance of ``cls`` to the registry under ``cls.name``."""
    if cls.name in _REGISTRY:
        raise ValueError(f"algorithm {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def get_algorithm(name: str) -> Algorithm:
    try:
        return _REGISTRY[name.strip().lower()]
    except KeyError:
        known = ", ".join(_REGISTRY)
        raise UnknownAlgorithmError(f"unknown algorithm {name!r} (known: {known})") from None


def get_perceptual(name: str) -> PerceptualAlgorithm:
    algorithm = get_algorithm(name)
    if not isinstance(algorithm, PerceptualAlgorithm):
        raise UnknownAlgorithmError(f"{algorithm.name} is not a perceptual algorithm")
    return algorithm


def all_algorithms() -> tuple[Algorithm, ...]:
    return tuple(_REGISTRY.values())


def algorithm_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def resolve_algorithms(names: Iterable[str]) -> tuple[Algorithm, ...]:
    """Look up names, drop duplicates, keep registry order (so outputs are stable)."""
    wanted = {get_algorithm(name).name for name in names}
    return tuple(a for a in _REGISTRY.values() if a.name in wanted)
