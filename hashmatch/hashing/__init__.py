"""Hashing: the algorithm registry, safe image decoding and the one-read file hasher.

Importing this package registers every algorithm (cryptographic and perceptual).
"""

from hashmatch.hashing import crypto, perceptual  # noqa: F401  (registers the algorithms)
from hashmatch.hashing.algorithms import (
    Algorithm,
    AlgorithmKind,
    CryptographicAlgorithm,
    HashValue,
    PerceptualAlgorithm,
    algorithm_names,
    all_algorithms,
    get_algorithm,
    get_perceptual,
    resolve_algorithms,
)
from hashmatch.hashing.hasher import (
    DEFAULT_ALGORITHMS,
    FileHashes,
    HashingOptions,
    ImageInfo,
    Problem,
    Stage,
    hash_stream,
)

__all__ = [
    "DEFAULT_ALGORITHMS",
    "Algorithm",
    "AlgorithmKind",
    "CryptographicAlgorithm",
    "FileHashes",
    "HashValue",
    "HashingOptions",
    "ImageInfo",
    "PerceptualAlgorithm",
    "Problem",
    "Stage",
    "algorithm_names",
    "all_algorithms",
    "get_algorithm",
    "get_perceptual",
    "hash_stream",
    "resolve_algorithms",
]
