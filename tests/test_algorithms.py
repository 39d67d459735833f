"""Conformance suite: every registered algorithm, the same checks."""

from __future__ import annotations

import json

import imagehash
import numpy as np
import pdqhash
import pytest
from PIL import Image

from hashmatch.errors import InvalidHashError, UnknownAlgorithmError
from hashmatch.hashing import (
    CryptographicAlgorithm,
    HashingOptions,
    PerceptualAlgorithm,
    all_algorithms,
    get_algorithm,
    hash_stream,
)
from hashmatch.hashing.decode import prepare_image
from hashmatch.hashing.perceptual import bits_to_hex

from .conftest import GOLDEN

ALGORITHMS = all_algorithms()
EXPECTED = json.loads((GOLDEN / "expected.json").read_text())


def test_registry_has_the_constant_names() -> None:
    names = [a.name for a in ALGORITHMS]
    assert names == ["md5", "sha1", "sha256", "pdq", "phash", "dhash", "ahash", "whash"]


def test_unknown_algorithm_is_a_hashmatch_error() -> None:
    with pytest.raises(UnknownAlgorithmError, match="sha512"):
        get_algorithm("sha512")


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.name)
class TestConformance:
    def test_bits_and_hex_length(self, algorithm) -> None:
        assert algorithm.bits % 8 == 0
        assert algorithm.hex_length == algorithm.bits // 4

    def test_hex_round_trip_normalises_case(self, algorithm) -> None:
        value = "aB" * (algorithm.hex_length // 2)
        normal = algorithm.validate(value)
        assert normal == value.lower()
        assert algorithm.value(value).to_bytes() == bytes.fromhex(normal)
        assert bytes.fromhex(normal).hex() == normal

    @pytest.mark.parametrize("bad", ["", "zz", "0" * 7, "g" * 64])
    def test_rejects_invalid_hex(self, algorithm, bad: str) -> None:
        with pytest.raises(InvalidHashError):
            algorithm.validate(bad)

    def test_rejects_a_neighbouring_length(self, algorithm) -> None:
        with pytest.raises(InvalidHashError, match=algorithm.name):
            algorithm.validate("0" * (algorithm.hex_length + 2))

    def test_distance(self, algorithm) -> None:
        zero = "0" * algorithm.hex_length
        ones = "f" * algorithm.hex_length
        assert algorithm.distance(zero, zero) == 0
        assert algorithm.distance(zero, ones) == algorithm.bits
        assert algorithm.distance(zero, "0" * (algorithm.hex_length - 1) + "3") == 2

    @pytest.mark.parametrize("name", sorted(EXPECTED))
    def test_golden_values(self, algorithm, name: str) -> None:
        with (GOLDEN / name).open("rb") as stream:
            result = hash_stream(stream, HashingOptions((algorithm.name,)), name=name)
        value = result.get(algorithm.name)
        assert value is not None, result.problems
        assert value.hex == EXPECTED[name][algorithm.name]
        assert len(value.hex) == algorithm.hex_length

    def test_kind_matches_class(self, algorithm) -> None:
        if algorithm.name in ("md5", "sha1", "sha256"):
            assert isinstance(algorithm, CryptographicAlgorithm)
        else:
            assert isinstance(algorithm, PerceptualAlgorithm)
            assert 0 < algorithm.default_threshold < algorithm.bits // 2


def test_pdq_hex_uses_threatexchange_bit_order() -> None:
    """MSB first over pdqhash's vector, exactly as python-threatexchange formats it."""
    prepared = prepare_image((GOLDEN / "scene.png").read_bytes())
    vector, _ = pdqhash.compute(np.asarray(prepared.square))
    bits = "".join(str(int(b)) for b in vector)
    threatexchange_style = f"{int(bits, 2):064x}"
    assert get_algorithm("pdq").compute(prepared).hex == threatexchange_style


@pytest.mark.parametrize(
    ("name", "function"),
    [("phash", imagehash.phash), ("dhash", imagehash.dhash), ("ahash", imagehash.average_hash)],
)
def test_imagehash_hex_is_str_of_imagehash(name: str, function) -> None:
    prepared = prepare_image((GOLDEN / "scene.png").read_bytes())
    assert get_algorithm(name).compute(prepared).hex == str(function(prepared.square))


def test_bits_to_hex_is_msb_first() -> None:
    assert bits_to_hex(np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])) == "8001"


def test_pdq_quality_is_reported() -> None:
    flat = prepare_image((GOLDEN / "flat.png").read_bytes())
    assert get_algorithm("pdq").compute(flat).quality < 50
    busy = prepare_image((GOLDEN / "scene.png").read_bytes())
    assert get_algorithm("pdq").compute(busy).quality >= 50


def test_whash_does_not_depend_on_resolution() -> None:
    image = Image.open(GOLDEN / "scene.png").convert("RGB")
    import io

    def whash_of(img: Image.Image) -> str:
        out = io.BytesIO()
        img.save(out, "PNG")
        return get_algorithm("whash").compute(prepare_image(out.getvalue())).hex

    small = image.resize((100, 75), Image.Resampling.LANCZOS)
    assert get_algorithm("whash").distance(whash_of(image), whash_of(small)) <= 4
