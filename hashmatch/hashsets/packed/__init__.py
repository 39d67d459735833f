"""Packed sets: big plain hash lists kept as sorted arrays on disk, not as SQLite rows.

A list of millions of MD5s is imported at the speed of numpy instead of one SQLite row
per hash, and looked up with a binary search in a memory map. ``layout`` describes the
files, ``writer`` builds them in bounded memory, ``reader`` reads them.
"""

from hashmatch.hashsets.packed.layout import PackedBlock
from hashmatch.hashsets.packed.reader import PackedHit, PackedSet
from hashmatch.hashsets.packed.writer import PackedWriter

__all__ = ["PackedBlock", "PackedHit", "PackedSet", "PackedWriter"]
