"""Matching: the near index equals brute force; the matcher explains every hit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hashmatch.errors import UsageError
from hashmatch.hashing import FileHashes, HashValue
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.matching import HitType, Matcher, NearIndex, Thresholds, parse_thresholds


def brute_force(values: list[bytes], probe: bytes, radius: int) -> list[tuple[int, int]]:
    found = []
    for key, value in enumerate(values):
        distance = (int.from_bytes(value, "big") ^ int.from_bytes(probe, "big")).bit_count()
        if distance <= radius:
            found.append((key, distance))
    return sorted(found, key=lambda kd: (kd[1], kd[0]))


@pytest.mark.parametrize("bits", [64, 256])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_near_index_equals_brute_force(bits: int, data: st.DataObject) -> None:
    width = bits // 8
    values = data.draw(st.lists(st.binary(min_size=width, max_size=width), max_size=60))
    probe = data.draw(st.binary(min_size=width, max_size=width))
    # Also plant values close to the probe so that small radii find something.
    flips = data.draw(st.lists(st.integers(0, bits - 1), max_size=8))
    near = int.from_bytes(probe, "big")
    for bit in flips:
        near ^= 1 << bit
    values.append(near.to_bytes(width, "big"))
    radius = data.draw(st.integers(0, bits))
    expected = brute_force(values, probe, radius)
    for multi_index in (False, True):
        index = NearIndex.build(bits, enumerate(values), multi_index=multi_index)
        assert index.uses_multi_index is (multi_index and bool(values))
        assert index.query(probe, radius) == expected
        others = values[:3]  # other probes in the same batch must not leak into its answer
        answers = index.query_many([probe, *others, probe], radius)
        assert answers[0] == answers[-1] == expected
        assert answers[1:-1] == [brute_force(values, p, radius) for p in others]


@settings(max_examples=60, deadline=None)
@given(bits=st.sampled_from([64, 256]), data=st.data())
def test_multi_index_is_exact_on_clustered_values(bits: int, data: st.DataObject) -> None:
    """Real hash sets cluster (near-duplicates): many values a few bits from each other."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    centre = rng.integers(0, 2, size=bits, dtype=np.uint8)
    flips = rng.random((300, bits)) < data.draw(st.sampled_from([0.01, 0.05, 0.12]))
    cluster = np.packbits(centre ^ flips, axis=1)
    noise = np.packbits(rng.integers(0, 2, size=(200, bits), dtype=np.uint8), axis=1)
    values = [bytes(row) for row in np.concatenate([cluster, noise])]
    probe = bytes(np.packbits(centre ^ (rng.random(bits) < 0.03)))
    radius = data.draw(st.integers(0, bits // 4))
    index = NearIndex.build(bits, enumerate(values), multi_index=True)
    assert index.query(probe, radius) == brute_force(values, probe, radius)
    probes = [probe, *values[:5], *values[-2:]]
    assert index.query_many(probes, radius) == [brute_force(values, p, radius) for p in probes]


def test_near_index_rejects_wrong_width() -> None:
    with pytest.raises(ValueError):
        NearIndex.build(64, [(0, b"\x00" * 4)])


def test_empty_index() -> None:
    assert NearIndex.build(256, []).query(b"\x00" * 32, 31) == []


def test_thresholds() -> None:
    thresholds = parse_thresholds(["pdq=20", "phash=4"])
    assert thresholds.of("pdq") == 20 and thresholds.of("dhash") == 6
    assert Thresholds.with_overrides().of("pdq") == 31
    for bad in (["md5=3"], ["pdq=300"], ["pdq"], ["pdq=x"], ["nope=3"]):
        with pytest.raises(UsageError):
            parse_thresholds(bad)


PDQ_A = "f" * 64
MD5_A = "0123456789abcdef0123456789abcdef"


def flip(hex_value: str, bits: int) -> str:
    value = int(hex_value, 16) ^ ((1 << bits) - 1)
    return f"{value:0{len(hex_value)}x}"


@pytest.fixture
def loaded(store: HashSetStore, tmp_path: Path) -> HashSetStore:
    (tmp_path / "bad.md5").write_text(f"{MD5_A}  known.jpg\n")
    (tmp_path / "good.md5").write_text(f"{'1' * 32}  system.dll\n{MD5_A}  also-good.jpg\n")
    (tmp_path / "bad.pdq").write_text(f"{PDQ_A},90,ref-a.jpg\n{'0' * 64},20,flat-ref.jpg\n")
    store.import_file(tmp_path / "bad.md5", category=Category.KNOWN_BAD)
    store.import_file(tmp_path / "good.md5", name="nsrl", category=Category.KNOWN_GOOD)
    store.import_file(
        tmp_path / "bad.pdq", name="bad-pdq", format_name="pdq", category=Category.KNOWN_BAD
    )
    return store


def hashes(*values: HashValue) -> FileHashes:
    return FileHashes(100, tuple(values))


def test_exact_and_near_hits(loaded: HashSetStore) -> None:
    matcher = Matcher(loaded, loaded.list_sets(), Thresholds.with_overrides())
    near_copy = flip(PDQ_A, 10)
    far = flip(PDQ_A, 40)
    verdicts = matcher.match(
        [
            hashes(HashValue("md5", MD5_A)),
            hashes(HashValue("md5", "2" * 32), HashValue("pdq", near_copy, 95)),
            hashes(HashValue("pdq", far, 95)),
            hashes(HashValue("md5", "1" * 32)),
            hashes(HashValue("pdq", "0" * 64, 10)),
        ]
    )
    exact = verdicts[0]
    assert exact.listed and not exact.known_good_only
    assert [(h.type, h.hashset, h.category) for h in exact.hits] == [
        (HitType.EXACT, "bad", Category.KNOWN_BAD),
        (HitType.EXACT, "nsrl", Category.KNOWN_GOOD),
    ]  # a known-bad hit wins over known-good; both are shown
    near = verdicts[1].hits
    assert [(h.type, h.algorithm, h.distance, h.threshold, h.reference) for h in near] == [
        (HitType.NEAR, "pdq", 10, 31, "ref-a.jpg")
    ]
    assert verdicts[2].hits == ()
    assert verdicts[3].known_good_only and not verdicts[3].listed
    low = verdicts[4]
    assert low.hits == () and "quality 10 is below 50" in low.notes[0]


def test_low_quality_reference_is_never_matched(loaded: HashSetStore) -> None:
    matcher = Matcher(loaded, loaded.list_sets(), Thresholds.with_overrides())
    verdict = matcher.match([hashes(HashValue("pdq", "0" * 64, 99))])[0]
    assert verdict.hits == ()  # the flat reference (quality 20) is not in the index
    assert matcher.near_index_size("pdq") == 1


def test_threshold_override_changes_what_is_near(loaded: HashSetStore) -> None:
    strict = Matcher(loaded, loaded.list_sets(), parse_thresholds(["pdq=5"]))
    assert strict.match([hashes(HashValue("pdq", flip(PDQ_A, 10), 95))])[0].hits == ()


def test_only_chosen_sets_are_used(loaded: HashSetStore) -> None:
    matcher = Matcher(loaded, loaded.resolve(["nsrl"]), Thresholds.with_overrides())
    verdict = matcher.match([hashes(HashValue("md5", MD5_A))])[0]
    assert [h.hashset for h in verdict.hits] == ["nsrl"]
    assert matcher.near_algorithms == ()


def test_near_index_is_vectorised_over_many_entries() -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(0, 2**63, size=(20_000, 4), dtype=np.uint64)
    index = NearIndex(256, values, np.arange(20_000))
    probe = values[123].astype(">u8").tobytes()
    assert index.query(probe, 0) == [(123, 0)]


def test_batched_queries_split_into_batches_give_the_same_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hashmatch.matching import near

    monkeypatch.setattr(near, "QUERY_BATCH", 3)
    rng = np.random.default_rng(5)
    values = [bytes(row) for row in rng.integers(0, 256, size=(400, 8), dtype=np.uint8)]
    index = NearIndex.build(64, enumerate(values), multi_index=True)
    probes = [*values[:10], bytes(8)]
    expected = [brute_force(values, p, 9) for p in probes]
    assert index.query_many(probes, 9, threads=1) == expected
    # Four batches over three threads: answers come back in the order asked.
    assert index.query_many(probes, 9, threads=3) == expected
