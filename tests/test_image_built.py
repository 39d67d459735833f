"""Disk images built here with the real tools (mtools, dosfstools, sfdisk, e2fsprogs, ewf-tools).

No root and no mounts: file systems are made in files, partitions are copied into a disk
file at the offsets ``sfdisk`` wrote, and E01 copies are made with ``ewfacquire -u``.
Known photos are scenes from ``hashmatch.bench``; the hash set is their MD5 and PDQ.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from hashmatch.bench.scenes import scene
from hashmatch.bench.transforms import encode
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.scan import ScanOptions, scan

from .conftest import needs_tool

MIB = 1 << 20


def run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def photo(seed: int) -> bytes:
    return encode(scene(seed, 320, 240), quality=90)


def fat_image(path: Path, files: dict[str, bytes], deleted: list[str], mib: int = 8) -> None:
    """A FAT file system in ``path`` holding ``files``, of which ``deleted`` are then deleted."""
    needs_tool("mkfs.fat"), needs_tool("mcopy"), needs_tool("mdel"), needs_tool("mmd")
    run("mkfs.fat", "-C", str(path), str(mib * 1024))
    staging = path.parent / f"{path.stem}-files"
    folders: set[str] = set()
    for n, (name, data) in enumerate(files.items()):
        local = staging / f"{n}.bin"
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
        parts = name.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in folders:
                run("mmd", "-i", str(path), f"::{folder}")
                folders.add(folder)
        run("mcopy", "-i", str(path), str(local), f"::{name}")
    for name in deleted:
        run("mdel", "-i", str(path), f"::{name}")


def ext4_image(path: Path, files: dict[str, bytes], mib: int) -> None:
    needs_tool("mkfs.ext4")
    root = path.parent / f"{path.stem}-root"
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    run("mkfs.ext4", "-q", "-F", "-d", str(root), str(path), f"{mib}M")


def mbr_disk(path: Path, partitions: list[tuple[Path, str]], label: str = "dos") -> None:
    """A disk with an MBR or GPT (sfdisk); each file system copied to its partition's offset."""
    needs_tool("sfdisk")
    start = MIB
    lines = [f"label: {label}"]
    layout = []
    for part, kind in partitions:
        size = part.stat().st_size
        lines.append(f"start={start // 512}, size={size // 512}, type={kind}")
        layout.append((start, part))
        start += size
    with path.open("wb") as disk:
        disk.truncate(start + MIB)  # room for GPT's backup table at the end
    subprocess.run(["sfdisk", "--no-reread", "--no-tell-kernel", str(path)],
                   input="\n".join(lines) + "\n", text=True, check=True,
                   capture_output=True)  # fmt: skip
    with path.open("r+b") as disk:
        for offset, part in layout:
            disk.seek(offset)
            disk.write(part.read_bytes())


def e01_copy(raw: Path, target: Path, segment_bytes: int | None = None) -> Path:
    needs_tool("ewfacquire")
    command = ["ewfacquire", "-u", "-q", "-t", str(target), "-C", "CASE-7", "-E", "EV-1",
               "-e", "T. Examiner", "-N", "made by the tests", "-c", "none"]  # fmt: skip
    if segment_bytes:
        command += ["-S", str(segment_bytes)]
    run(*command, str(raw))
    return target.with_suffix(".E01")


KNOWN = {seed: photo(seed) for seed in (11, 12, 13)}
OTHER = photo(99)


@pytest.fixture(scope="module")
def disks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("disks")
    sd = base / "sd.img"
    card = {
        "DCIM/100PHOTO/IMG_0011.JPG": KNOWN[11],
        "DCIM/100PHOTO/IMG_0012.JPG": KNOWN[12],
        "DCIM/100PHOTO/IMG_0099.JPG": OTHER,
    }
    fat_image(sd, card, deleted=["DCIM/100PHOTO/IMG_0012.JPG"])
    fat_part = base / "part-fat.img"
    fat_image(fat_part, {"photos/a.jpg": KNOWN[11]}, deleted=[])
    ext_part = base / "part-ext4.img"
    ext4_image(ext_part, {"home/user/b.jpg": KNOWN[13], "home/user/other.jpg": OTHER}, mib=12)
    disk = base / "disk.raw"
    mbr_disk(disk, [(fat_part, "6"), (ext_part, "83")])
    gpt = base / "gpt.raw"
    mbr_disk(gpt, [(fat_part, "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7")], label="gpt")
    return {
        "gpt": gpt,
        "sd": sd,
        "disk": disk,
        "sd-e01": e01_copy(sd, base / "sd-ewf"),
        "disk-e01-split": e01_copy(disk, base / "disk-ewf", segment_bytes=4 * MIB),
    }


@pytest.fixture
def loaded(store: HashSetStore, tmp_path: Path) -> HashSetStore:
    known = tmp_path / "known.md5"
    known.write_text(
        "".join(f"{hashlib.md5(d).hexdigest()}  known{s}.jpg\n" for s, d in KNOWN.items())
    )
    store.import_file(known, name="known", category=Category.KNOWN_BAD)
    return store


def matches(store: HashSetStore, source: Path, case: Path) -> list[tuple[object, ...]]:
    scan(ScanOptions(sources=(source,), case_dir=case, jobs=2), store)
    report = json.loads((case / "report.json").read_text())
    return sorted(
        (
            m["partition"]["index"],
            m["partition"]["fs_type"],
            m["path"],
            m["deleted"],
            m["hashes"]["md5"],
        )
        for m in report["matches"]
    )


def test_fat_sd_card_with_a_deleted_known_photo(loaded: HashSetStore, disks: dict[str, Path],
                                                 tmp_path: Path) -> None:  # fmt: skip
    found = matches(loaded, disks["sd"], tmp_path / "sd")
    md5 = {s: hashlib.md5(d).hexdigest() for s, d in KNOWN.items()}
    paths = {(p, deleted, m) for _, _, p, deleted, m in found}
    assert ("DCIM/100PHOTO/IMG_0011.JPG", False, md5[11]) in paths
    # FAT replaces the first letter of a deleted name; the photo itself is intact.
    assert ("DCIM/100PHOTO/_MG_0012.JPG", True, md5[12]) in paths
    assert len(found) == 2


def test_mbr_disk_with_fat_and_ext4(loaded: HashSetStore, disks: dict[str, Path],
                                    tmp_path: Path) -> None:  # fmt: skip
    found = matches(loaded, disks["disk"], tmp_path / "disk")
    md5 = {s: hashlib.md5(d).hexdigest() for s, d in KNOWN.items()}
    assert [(fs, path, m) for _, fs, path, _, m in found] == [
        ("fat12", "photos/a.jpg", md5[11]),  # mkfs.fat picks FAT12 for 8 MiB
        ("ext4", "home/user/b.jpg", md5[13]),
    ]
    assert [index for index, *_ in found] == [2, 3]  # TSK's slots: 0 the table, 1 free space


def test_disk_with_a_wiped_partition_table(
    loaded: HashSetStore, disks: dict[str, Path], tmp_path: Path
) -> None:
    wiped = tmp_path / "wiped.raw"
    data = bytearray(disks["disk"].read_bytes())
    data[:512] = bytes(512)  # the MBR, boot code and partition table, zeroed
    wiped.write_bytes(bytes(data))
    found = matches(loaded, wiped, tmp_path / "case")
    md5 = {s: hashlib.md5(d).hexdigest() for s, d in KNOWN.items()}
    # Both file systems are found by searching, numbered in disk order.
    assert [(index, fs, path, m) for index, fs, path, _, m in found] == [
        (1, "fat12", "photos/a.jpg", md5[11]),
        (2, "ext4", "home/user/b.jpg", md5[13]),
    ]
    report = json.loads((tmp_path / "case" / "report.json").read_text())
    details = dict(report["sources"][0]["details"])
    assert "found by searching" in details["partition table"]
    assert details["partition 1"].startswith(f"offset {MIB},")


@pytest.mark.parametrize(("raw", "ewf"), [("sd", "sd-e01"), ("disk", "disk-e01-split")])
def test_e01_and_raw_give_identical_matches(
    loaded: HashSetStore, disks: dict[str, Path], tmp_path: Path, raw: str, ewf: str
) -> None:
    if ewf.endswith("split"):
        assert disks[ewf].with_suffix(".E02").exists(), "the E01 was meant to be split"
    assert matches(loaded, disks[raw], tmp_path / "raw") == matches(
        loaded, disks[ewf], tmp_path / "ewf"
    )


def test_gpt_disk(loaded: HashSetStore, disks: dict[str, Path], tmp_path: Path) -> None:
    found = matches(loaded, disks["gpt"], tmp_path / "gpt")
    assert [(fs, path) for _, fs, path, _, _ in found] == [("fat12", "photos/a.jpg")]
