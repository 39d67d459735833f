"""Exit codes, and the one place where library errors become messages (docs/exit-codes.md)."""

from __future__ import annotations

import enum

from hashmatch.errors import (
    CaseError,
    CaseExistsError,
    ClusterError,
    HashmatchError,
    HashSetError,
    HashSetExistsError,
    HashSetFormatError,
    HashSetNotFoundError,
    InvalidHashError,
    ManifestError,
    SourceError,
    StoreError,
    UsageError,
    VerificationError,
)


class ExitCode(enum.IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    BAD_INPUT = 3
    CONFLICT = 4
    CASE_OR_STORE = 5
    VERIFY_FAILED = 6
    BATCH_INCOMPLETE = 7
    INTERRUPTED = 130
    TERMINATED = 143  # (128 + SIGTERM, as a shell reports a program it ended)
    OUTPUT_CLOSED = 141  # (what a shell reports for a program ended by SIGPIPE)


#: Most specific first: the first class an error is an instance of decides its code.
_CODES: tuple[tuple[type[HashmatchError], ExitCode], ...] = (
    (UsageError, ExitCode.USAGE),
    (HashSetFormatError, ExitCode.BAD_INPUT),
    (InvalidHashError, ExitCode.BAD_INPUT),
    (SourceError, ExitCode.BAD_INPUT),
    (ManifestError, ExitCode.BAD_INPUT),
    (HashSetNotFoundError, ExitCode.CONFLICT),
    (HashSetExistsError, ExitCode.CONFLICT),
    (CaseExistsError, ExitCode.CONFLICT),
    (VerificationError, ExitCode.VERIFY_FAILED),
    (StoreError, ExitCode.CASE_OR_STORE),
    (CaseError, ExitCode.CASE_OR_STORE),
    (ClusterError, ExitCode.CASE_OR_STORE),
    (HashSetError, ExitCode.BAD_INPUT),
)


def exit_code_for(error: HashmatchError) -> ExitCode:
    for cls, code in _CODES:
        if isinstance(error, cls):
            return code
    return ExitCode.INTERNAL
