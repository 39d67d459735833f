"""Flipped, rotated, letterboxed and cropped copies; flat and tiny pictures; the robustness bench.

The end-to-end test is issue 5's "done" criterion: reference photos, their changed copies
and unrelated photos in one folder, scanned against the references' PDQ and pHash.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from hashmatch.bench.scenes import scene
from hashmatch.bench.transforms import TRANSFORMS, encode
from hashmatch.cli import cli
from hashmatch.hashing import HashingOptions, get_perceptual, hash_stream
from hashmatch.hashing.hasher import FileHashes
from hashmatch.hashing.variants import Transform, Variant, border_box
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.matching import Matcher, Thresholds
from hashmatch.scan import ScanOptions, scan

PERCEPTUAL = ("pdq", "phash", "dhash", "ahash", "whash")


def hashed(data: bytes, *, variants: bool = True) -> FileHashes:
    return hash_stream(io.BytesIO(data), HashingOptions(PERCEPTUAL, variants=variants), name="x")


def closest(name: str, query: FileHashes, reference: FileHashes) -> tuple[int, Transform | None]:
    algorithm = get_perceptual(name)
    ref = reference.get(name)
    value = query.get(name)
    assert ref is not None and value is not None
    best = (algorithm.distance(value.hex, ref.hex), None)
    for variant in query.variants:
        if variant.algorithm == name and not variant.transform.confirm_only:
            best = min(best, (algorithm.distance(variant.hex, ref.hex), variant.transform),
                       key=lambda pair: pair[0])  # fmt: skip
    return best


@pytest.mark.parametrize("name", PERCEPTUAL)
@pytest.mark.parametrize(
    ("transpose", "expected"),
    [(Image.Transpose.FLIP_LEFT_RIGHT, Transform.MIRRORED),
     (Image.Transpose.FLIP_TOP_BOTTOM, Transform.FLIPPED),
     (Image.Transpose.ROTATE_270, Transform.ROTATED_90_CW),
     (Image.Transpose.ROTATE_180, Transform.ROTATED_180),
     (Image.Transpose.ROTATE_90, Transform.ROTATED_90_CCW)],
)  # fmt: skip
def test_every_orientation_is_found_and_named(name: str, transpose: Image.Transpose,
                                              expected: Transform) -> None:  # fmt: skip
    picture = scene(7, 480, 360)
    reference = hashed(encode(picture, "PNG"), variants=False)
    query = hashed(encode(picture.transpose(transpose), "PNG"))
    distance, transform = closest(name, query, reference)
    assert transform is expected
    assert distance <= get_perceptual(name).default_threshold // 2


def test_variants_off_means_no_variants() -> None:
    assert hashed(encode(scene(1), "PNG"), variants=False).variants == ()


def test_borders_are_found_and_removed() -> None:
    picture = scene(3, 400, 300)
    canvas = Image.new("RGB", (400, 420), (0, 0, 0))
    canvas.paste(picture, (0, 60))
    assert border_box(canvas) == (0, 60, 400, 360)
    assert border_box(picture) is None
    reference = hashed(encode(picture, "PNG"), variants=False)
    query = hashed(encode(canvas, "PNG"))
    distance, transform = closest("pdq", query, reference)
    assert transform is Transform.BORDERS_REMOVED and distance <= 10


@pytest.mark.parametrize(
    ("picture", "why"),
    [(Image.new("RGB", (300, 300), (120, 120, 120)), "flat"),
     (Image.fromarray(np.full((300, 300, 3), 128, np.uint8) + np.uint8(1)), "near-constant"),
     (scene(4, 20, 20), "tiny")],
)  # fmt: skip
def test_low_information_pictures_give_no_imagehash_verdict(picture: Image.Image, why: str,
                                                            store: HashSetStore,
                                                            tmp_path: Path) -> None:  # fmt: skip
    data = encode(picture, "PNG")
    result = hashed(data)
    value = result.get("phash")
    assert value is not None and value.quality is not None
    assert value.quality < get_perceptual("phash").min_quality, why
    listing = tmp_path / "ph.txt"
    listing.write_text(f"{value.hex}\n")
    store.import_file(listing, name="ph", format_name="phash", category=Category.KNOWN_BAD)
    verdict = Matcher(store, store.list_sets(), Thresholds.with_overrides()).match([result])[0]
    assert not verdict.hits
    assert any("too little detail" in note for note in verdict.notes)


def _matcher_with(store: HashSetStore, tmp_path: Path, hex_value: str) -> Matcher:
    listing = tmp_path / "ref.pdq"
    listing.write_text(f"{hex_value},100,ref.jpg\n")
    store.import_file(listing, name="ref", format_name="pdq", category=Category.KNOWN_BAD)
    return Matcher(store, store.list_sets(), Thresholds.with_overrides())


def test_a_crop_variant_only_confirms_a_candidate(store: HashSetStore, tmp_path: Path) -> None:
    from hashmatch.hashing import HashValue

    reference = "0" * 64
    matcher = _matcher_with(store, tmp_path, reference)
    crop = Variant("pdq", Transform.CROPPED, reference)

    def query(primary_bits: int) -> FileHashes:
        primary = hex(int("1" * primary_bits + "0" * (256 - primary_bits), 2))[2:].zfill(64)
        return FileHashes(1, (HashValue("pdq", primary, 100),), variants=(crop,))

    far, near = matcher.match([query(120), query(60)])
    assert far.hits == ()  # unrelated picture: the crop variant alone finds nothing
    (hit,) = near.hits  # a candidate (60 <= 96): the crop variant confirms it
    assert hit.transform == "cropped" and hit.distance == 0


REFERENCES = range(500, 510)
CHANGES = ("mirror", "flip", "rotate-90", "crop-3", "resize-50", "jpeg-q30", "greyscale",
           "watermark", "thumbnail-200")  # fmt: skip


def test_done_means_reference_variants_found_and_nothing_unrelated(
    store: HashSetStore, tmp_path: Path
) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    pdq_lines, phash_lines = [], []
    for seed in REFERENCES:
        picture = scene(seed, 480, 360)
        ref = hashed(encode(picture, quality=92), variants=False)
        pdq, phash = ref.get("pdq"), ref.get("phash")
        assert pdq is not None and phash is not None
        pdq_lines.append(f"{pdq.hex},{pdq.quality},ref{seed}.jpg\n")
        phash_lines.append(f"{phash.hex}\n")
        for change in CHANGES:
            (evidence / f"{seed}-{change}.jpg").write_bytes(TRANSFORMS[change](picture))
    for seed in range(900, 960):
        (evidence / f"holiday-{seed}.jpg").write_bytes(encode(scene(seed, 480, 360)))
    (tmp_path / "refs.pdq").write_text("".join(pdq_lines))
    (tmp_path / "refs.phash").write_text("".join(phash_lines))
    store.import_file(tmp_path / "refs.pdq", name="pdq", format_name="pdq",
                      category=Category.KNOWN_BAD)  # fmt: skip
    store.import_file(tmp_path / "refs.phash", name="phash", format_name="phash",
                      category=Category.KNOWN_BAD)  # fmt: skip
    scan(ScanOptions((evidence,), tmp_path / "case", jobs=2), store)
    report = json.loads((tmp_path / "case" / "report.json").read_text())
    found = {m["path"] for m in report["matches"]}
    assert not any(p.startswith("holiday-") for p in found), "an unrelated photo matched"

    def recall(changes: tuple[str, ...]) -> float:
        wanted = [f"{s}-{c}.jpg" for s in REFERENCES for c in changes]
        return sum(w in found for w in wanted) / len(wanted)

    assert recall(("resize-50", "jpeg-q30", "greyscale", "watermark", "thumbnail-200")) == 1.0
    assert recall(("mirror", "flip", "rotate-90")) >= 0.95
    assert recall(("crop-3",)) >= 0.90
    mirrored = next(m for m in report["matches"] if m["path"] == f"{REFERENCES[0]}-mirror.jpg")
    assert {h["transform"] for h in mirrored["hits"]} == {"mirrored"}


def test_bench_robustness_command(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["bench", "robustness", "--count", "3", "--distractor-count",
                                 "4", "--transforms", "mirror,crop-3", "--algorithms", "pdq,phash",
                                 "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    table = json.loads(result.output)
    assert table["references"] == 3 and table["distractors"] == 4
    rows = {(r["algorithm"], r["transform"]): r for r in table["rows"]}
    assert set(rows) == {(a, t) for a in ("pdq", "phash") for t in ("mirror", "crop-3")}
    assert rows[("pdq", "mirror")]["default_recall"] == 1.0
