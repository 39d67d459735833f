"""The one error hierarchy of hashmatch.

Library code raises these (always ``raise ... from`` the underlying cause) and never
prints or exits; the CLI turns each class into a message and a documented exit code
(docs/exit-codes.md). Problems with a single evidence file are *not* exceptions: they
are recorded as data in the case (see ``hashmatch.hashing.hasher.Problem``).
"""

from __future__ import annotations


class HashmatchError(Exception):
    """Base class of every error hashmatch raises on purpose."""


class UsageError(HashmatchError):
    """An option or argument the user gave cannot be used (bad threshold, unknown name)."""


class UnknownAlgorithmError(UsageError):
    """An algorithm name that is not in the registry."""


class InvalidHashError(HashmatchError):
    """A hash value that is not valid for its algorithm."""


class HashSetError(HashmatchError):
    """A problem with a hash set or the hash-set store."""


class HashSetNotFoundError(HashSetError):
    """No hash set of that name in the store."""


class HashSetExistsError(HashSetError):
    """A hash set of that name is already in the store."""


class HashSetFormatError(HashSetError):
    """A hash-set file that cannot be read: unknown, ambiguous or malformed content."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(f"{where}{message}")
        self.path = path
        self.line = line
        self.reason = message


class StoreError(HashSetError):
    """The store database itself cannot be opened, migrated or written."""


class SourceError(HashmatchError):
    """An evidence source that cannot be opened or recognised."""


class CaseError(HashmatchError):
    """A case folder that cannot be created, resumed or read."""


class CaseExistsError(CaseError):
    """The case folder already holds a case and neither resume nor force was asked for."""


class VerificationError(CaseError):
    """A case folder whose outputs no longer match their recorded checksums."""

    def __init__(self, message: str, *, checks: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.checks = checks  # every check made, passed or failed (report.custody.Check)


class ManifestError(HashmatchError):
    """A batch manifest that cannot be used (missing column, bad row): nothing was run."""


class ClusterError(HashmatchError):
    """The Dask cluster named with --dask-scheduler cannot be reached or cannot do the work."""


class ImageError(SourceError):
    """A disk image that cannot be opened: which image, and what is wrong with it."""
