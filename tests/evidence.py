"""A synthetic seized folder with known ground truth, for end-to-end tests.

References (scene seeds 100-105) are the "known images". The folder holds exact copies
of them (renamed, nested, wrong extension), mild variants of each, unrelated pictures,
one known-good file, broken files of every kind, and a symbolic link.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from hashmatch.bench.scenes import scene
from hashmatch.bench.transforms import MILD, TRANSFORMS, encode
from hashmatch.hashing import HashingOptions, hash_stream

REFERENCE_SEEDS = range(100, 106)
UNRELATED_SEEDS = range(200, 230)


@dataclass
class Evidence:
    root: Path
    known_md5: Path
    known_pdq: Path
    known_good: Path
    copies: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)
    unrelated: list[str] = field(default_factory=list)
    good: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    @property
    def file_count(self) -> int:
        return sum(
            len(x)
            for x in (
                self.copies,
                self.variants,
                self.unrelated,
                self.good,
                self.broken,
                self.links,
            )
        )


def build(base: Path) -> Evidence:
    root = base / "seized"
    refs = base / "refs"
    root.mkdir(parents=True)
    refs.mkdir()
    evidence = Evidence(root, base / "known.md5", base / "known-pdq.txt", base / "good.md5")
    md5_lines, pdq_lines = [], []
    for n, seed in enumerate(REFERENCE_SEEDS):
        picture = scene(seed)
        data = encode(picture, quality=92)
        (refs / f"ref{seed}.jpg").write_bytes(data)
        md5_lines.append(f"{hashlib.md5(data).hexdigest()}  ref{seed}.jpg\n")
        with (refs / f"ref{seed}.jpg").open("rb") as stream:
            pdq = hash_stream(stream, HashingOptions(("pdq",))).get("pdq")
        assert pdq is not None
        pdq_lines.append(f"{pdq.hex},{pdq.quality},ref{seed}.jpg\n")
        copy = [f"DCIM/IMG_{seed:04d}.JPG", f"docs/renamed{seed}.dat", f"c{seed}.jpg"][n % 3]
        _write(root, copy, data)
        evidence.copies.append(copy)
        name = MILD[n % len(MILD)]
        second = MILD[(n + 3) % len(MILD)]
        for transform in (name, second):
            rel = f"variants/{seed}-{transform}.{'png' if transform == 'format-png' else 'jpg'}"
            _write(root, rel, TRANSFORMS[transform](picture))
            evidence.variants.append(rel)
    for seed in UNRELATED_SEEDS:
        rel = f"holiday/{seed}.jpg"
        _write(root, rel, encode(scene(seed)))
        evidence.unrelated.append(rel)
    good = encode(scene(999))
    _write(root, "system/wallpaper.jpg", good)
    evidence.good.append("system/wallpaper.jpg")
    truncated = encode(scene(300))[:4000]
    broken = {
        "broken/truncated.jpg": truncated,
        "broken/text.jpg": b"this is a text file with a picture's name",
        "broken/empty.png": b"",
        "broken/random-ffd8.jpg": b"\xff\xd8\xff" + bytes(range(256)) * 40,
        "broken/header-only.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    }
    for rel, data in broken.items():
        _write(root, rel, data)
        evidence.broken.append(rel)
    (root / "link-to-refs").symlink_to(refs)
    evidence.links.append("link-to-refs")
    evidence.known_md5.write_text("".join(md5_lines))
    evidence.known_pdq.write_text("".join(pdq_lines))
    evidence.known_good.write_text(f"{hashlib.md5(good).hexdigest()}  wallpaper.jpg\n")
    return evidence


def _write(root: Path, rel: str, data: bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
