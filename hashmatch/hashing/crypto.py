"""The cryptographic algorithms: MD5, SHA-1 and SHA-256 over a file's exact bytes."""

from __future__ import annotations

from typing import ClassVar

from hashmatch.hashing.algorithms import CryptographicAlgorithm, register


@register
class Md5(CryptographicAlgorithm):
    name: ClassVar[str] = "md5"
    bits: ClassVar[int] = 128
    hashlib_name: ClassVar[str] = "md5"


@register
class Sha1(CryptographicAlgorithm):
    name: ClassVar[str] = "sha1"
    bits: ClassVar[int] = 160
    hashlib_name: ClassVar[str] = "sha1"


@register
class Sha256(CryptographicAlgorithm):
    name: ClassVar[str] = "sha256"
    bits: ClassVar[int] = 256
    hashlib_name: ClassVar[str] = "sha256"
