"""Shared fixtures: synthetic images, a throwaway store, the external forensic images."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from PIL import Image

from hashmatch.bench.scenes import scene
from hashmatch.hashsets import HashSetStore

DATA = Path(__file__).parent / "data"
GOLDEN = DATA / "golden"
EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "external"


def jpeg_bytes(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> HashSetStore:
    with HashSetStore(tmp_path / "store") as opened:
        yield opened


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def write_scene(tmp_path: Path) -> Callable[..., Path]:
    """Write scene(seed) as a JPEG (or PNG) under tmp_path and return its path."""

    def write(seed: int, name: str | None = None, *, size: tuple[int, int] = (320, 240)) -> Path:
        path = tmp_path / (name or f"scene{seed}.jpg")
        path.parent.mkdir(parents=True, exist_ok=True)
        image = scene(seed, *size)
        if path.suffix.lower() == ".png":
            image.save(path)
        else:
            path.write_bytes(jpeg_bytes(image))
        return path

    return write


def external(*parts: str) -> Path:
    """A file of ../shared/testdata/external, or skip the test saying why it is missing."""
    path = EXTERNAL.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"external forensic test image not available: {path} (needs ../shared)")
    return path


def needs_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"needs the command-line tool {name!r} (installed by .ci/run)")
    return found


def write_protected(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> None:
    """As if the database ``module`` opens (the store's, a case's) were on a
    write-protected drive: opening it for writing (``module.connect``) fails and no
    file can be written (tests may run as root, whom permissions do not stop)."""

    def refused(path: str) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(module, "connect", refused)
    monkeypatch.setattr(os, "access", lambda path, mode: mode != os.W_OK)


def interrupted(case: Path) -> None:
    """Make a finished case as a scan stopped before its end leaves it (``--resume``
    finishes only such a case): its status "running", no manifest."""
    with sqlite3.connect(case / "case.sqlite") as db:
        db.execute("UPDATE meta SET value = '\"running\"' WHERE key = 'status'")
    db.close()
    for name in ("manifest.json", "manifest.sha256"):
        (case / name).unlink(missing_ok=True)
