"""The folder walk: sorted, never follows links, keeps odd names, reports what it cannot read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hashmatch.errors import SourceError
from hashmatch.sources import Item, ItemKind, SourceKind, WalkError, describe_source, open_source


def walk(path: Path) -> list[Item | WalkError]:
    with open_source(describe_source(path, "S1")) as source:
        return list(source.walk())


def test_sorted_relative_slash_paths(tmp_path: Path) -> None:
    for rel in ("b/z.jpg", "b/a.jpg", "a.txt", "c/d/e.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(rel.encode())
    items = walk(tmp_path)
    assert [i.path for i in items] == ["a.txt", "b/a.jpg", "b/z.jpg", "c/d/e.png"]
    first = items[0]
    assert isinstance(first, Item)
    assert first.size == 5 and first.source_id == "S1" and not first.deleted
    assert first.times.modified.endswith("Z") and first.inode


def test_symlinks_are_recorded_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"x")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "to-dir").symlink_to(outside)
    (evidence / "to-file.jpg").symlink_to(outside / "secret.jpg")
    items = walk(evidence)
    assert [(i.path, i.kind) for i in items] == [
        ("to-dir", ItemKind.SYMLINK),
        ("to-file.jpg", ItemKind.SYMLINK),
    ]
    assert all("not followed" in (i.skip_reason or "") for i in items)


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (item,) = walk(tmp_path)
    assert item.kind is ItemKind.SPECIAL and "FIFO" in item.skip_reason


def test_non_utf8_names_are_escaped_and_still_readable(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.jpg"
    with open(raw, "wb") as out:
        out.write(b"data")
    (item,) = walk(tmp_path)
    assert item.path == "caf\\xe9.jpg"
    with open_source(describe_source(tmp_path, "S1")) as source, source.open(item) as stream:
        assert stream.read() == b"data"


def test_keys_stay_unique_where_display_paths_collide(tmp_path: Path) -> None:
    (tmp_path / "caf\\xe9.jpg").write_bytes(b"a")  # a literal backslash-x-e-9 name
    with open(os.fsencode(tmp_path) + b"/caf\xe9.jpg", "wb") as out:
        out.write(b"b")
    items = walk(tmp_path)
    assert len({i.key for i in items}) == 2


def test_single_file_source(tmp_path: Path) -> None:
    path = tmp_path / "one.jpg"
    path.write_bytes(b"123")
    spec = describe_source(path, "S2")
    assert spec.kind is SourceKind.FILE
    (item,) = walk(path)
    assert item.path == "one.jpg" and item.size == 3


@pytest.mark.parametrize("name", ["disk.E01", "disk.vmdk", "usb.dd"])
def test_a_file_named_like_an_image_that_is_none_says_so(tmp_path: Path, name: str) -> None:
    """A damaged E01 header, or a container hashmatch does not read, was hashed as one
    file with no word that nothing inside it was examined."""
    path = tmp_path / name
    path.write_bytes(b"not an image" * 100)
    assert describe_source(path, "S1").kind is SourceKind.FILE
    item, error = walk(path)
    assert isinstance(item, Item) and item.path == name
    assert isinstance(error, WalkError) and error.path == name
    assert "nothing inside it was examined" in error.message


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        describe_source(tmp_path / "nope", "S1")


def test_open_refuses_a_file_swapped_for_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x")
    (item,) = walk(tmp_path)
    (tmp_path / "a").unlink()
    (tmp_path / "a").symlink_to("/etc/hostname")
    with open_source(describe_source(tmp_path, "S1")) as source, pytest.raises(OSError):
        source.open(item)
