"""Where a path given on the command line leads: resolved (links followed) from a
folder, without raising where links loop (``Path.resolve`` raises ``RuntimeError``
there on Python 3.11 and 3.12: a source given as such a link stopped a scan, and a
whole batch, with an internal error)."""

from __future__ import annotations

import os
from pathlib import Path


def resolved(path: Path, base: Path | None = None) -> Path:
    """``path`` made absolute (from ``base``, else the current folder), links followed
    as far as they lead."""
    joined = path if base is None or path.is_absolute() else base / path
    try:
        return joined.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(joined))


def within(target: Path, root: Path) -> bool:
    """Whether the resolved ``target`` is the resolved ``root`` or lies in that folder
    (what evidence a case folder or an output may not be written in)."""
    return target == root or (root.is_dir() and root in target.parents)


def working_folder() -> str | None:
    """The current folder, where relative paths given to a command start (None if it
    was removed)."""
    try:
        return os.getcwd()
    except OSError:
        return None
