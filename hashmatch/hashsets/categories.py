"""hashmatch's own small set of categories, onto which every source label is mapped.

* ``known-bad``: known illegal material (a hit is listed as a match);
* ``known-good``: known, uninteresting files such as NSRL software (a file that *only*
  hits known-good sets is counted, not listed; a known-bad hit always wins);
* ``alert``: anything else the user wants flagged (listed as a match).

The original label of the source format (for example ``VICS 1``) is always kept beside
the mapped category. docs/categories.md documents every mapping.
"""

from __future__ import annotations

import enum

from hashmatch.errors import UsageError


class Category(enum.Enum):
    KNOWN_BAD = "known-bad"
    KNOWN_GOOD = "known-good"
    ALERT = "alert"

    @classmethod
    def parse(cls, text: str) -> Category:
        wanted = text.strip().lower().replace("_", "-")
        for category in cls:
            if category.value == wanted:
                return category
        known = ", ".join(c.value for c in cls)
        raise UsageError(f"unknown category {text!r} (known: {known})")

    @property
    def listed(self) -> bool:
        """Whether a hit of this category puts a file in the report's matches."""
        return self is not Category.KNOWN_GOOD


#: Category of a set imported without ``--category`` from a format that carries none.
DEFAULT_CATEGORY = Category.ALERT
