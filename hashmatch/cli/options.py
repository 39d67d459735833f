"""Option parsing shared by several commands."""

from __future__ import annotations

from hashmatch.hashing import algorithm_names, resolve_algorithms


def parse_algorithms(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    """``"md5,pdq"`` → registry-ordered names; ``"all"`` → every algorithm."""
    if text is None:
        return default
    if text.strip().lower() == "all":
        return algorithm_names()
    names = [part.strip() for part in text.split(",") if part.strip()]
    return tuple(a.name for a in resolve_algorithms(names))
