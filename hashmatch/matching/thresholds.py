"""Near-match thresholds: the largest Hamming distance reported as a near hit.

Defaults come from each perceptual algorithm (docs/thresholds.md says where each number
comes from); ``--threshold ALG=N`` overrides one algorithm.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hashmatch.errors import UsageError
from hashmatch.hashing import PerceptualAlgorithm, all_algorithms, get_algorithm


@dataclass(frozen=True)
class Thresholds:
    values: tuple[tuple[str, int], ...]

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, int] | None = None) -> Thresholds:
        chosen = {
            a.name: a.default_threshold
            for a in all_algorithms()
            if isinstance(a, PerceptualAlgorithm)
        }
        for name, value in (overrides or {}).items():
            algorithm = get_algorithm(name)
            if not isinstance(algorithm, PerceptualAlgorithm):
                raise UsageError(
                    f"{algorithm.name} matches exactly; thresholds apply to perceptual algorithms"
                )
            if not 0 <= value <= algorithm.bits:
                raise UsageError(
                    f"threshold for {algorithm.name} must be 0-{algorithm.bits}, not {value}"
                )
            chosen[algorithm.name] = value
        return cls(tuple(sorted(chosen.items())))

    def of(self, algorithm: str) -> int:
        return dict(self.values)[algorithm]


def parse_threshold(text: str) -> tuple[str, int]:
    """``"pdq=31"`` → ``("pdq", 31)``."""
    name, sep, number = text.partition("=")
    if not sep or not number.strip().lstrip("-").isdigit():
        raise UsageError(f"a threshold is written ALGORITHM=N (for example pdq=31), not {text!r}")
    return get_algorithm(name).name, int(number)


def parse_thresholds(texts: Iterable[str]) -> Thresholds:
    return Thresholds.with_overrides(dict(parse_threshold(t) for t in texts))
