"""Hash sets: importers (one module per format), the SQLite store, and categories."""

from hashmatch.hashsets.categories import DEFAULT_CATEGORY, Category
from hashmatch.hashsets.location import default_store_dir
from hashmatch.hashsets.model import EntryDetails, HashSetInfo, ImportResult, ParsedEntry
from hashmatch.hashsets.store import HashSetStore

__all__ = [
    "DEFAULT_CATEGORY",
    "Category",
    "EntryDetails",
    "HashSetInfo",
    "HashSetStore",
    "ImportResult",
    "ParsedEntry",
    "default_store_dir",
]
