"""The ``hashmatch`` command: thin click commands over the library.

Library errors are caught here, and only here, and turned into one line on stderr and a
documented exit code (``hashmatch.cli.errors``). A Python traceback is printed only for
a bug, and only when ``HASHMATCH_DEBUG`` is set.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

import click

from hashmatch import __version__
from hashmatch.cli.errors import ExitCode, exit_code_for
from hashmatch.errors import HashmatchError
from hashmatch.hashsets import HashSetStore, default_store_dir


class State:
    """What every command shares: where the store is (opened on first use)."""

    def __init__(self, store_dir: Path | None) -> None:
        self.store_dir = store_dir or default_store_dir()
        self._store: HashSetStore | None = None

    def store(self) -> HashSetStore:
        if self._store is None:
            self._store = HashSetStore(self.store_dir)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


class HashmatchGroup(click.Group):
    """The top-level group: maps errors to messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HashmatchError as exc:
            click.echo(f"hashmatch: error: {exc}", err=True)
            ctx.exit(exit_code_for(exc))
        except KeyboardInterrupt:
            click.echo("hashmatch: interrupted", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except (click.exceptions.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:  # a bug: say so plainly, details on request
            if os.environ.get("HASHMATCH_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"hashmatch: internal error ({type(exc).__name__}: {exc}). This is a bug in "
                "hashmatch; set HASHMATCH_DEBUG=1 to see the details and please report it.",
                err=True,
            )
            ctx.exit(ExitCode.INTERNAL)


@click.group(cls=HashmatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    "store_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the hash-set store (default: $HASHMATCH_HOME, else the user data folder).",
)
@click.version_option(__version__, prog_name="hashmatch")
@click.pass_context
def cli(ctx: click.Context, store_dir: Path | None) -> None:
    """Find known images on seized media by cryptographic and perceptual hashes."""
    state = State(store_dir)
    ctx.obj = state
    ctx.call_on_close(state.close)


def main() -> None:
    cli(prog_name="hashmatch")


# Register the commands (imported for their side effect on ``cli``).
from hashmatch.cli import batch_cmd, hash_cmd, hashset_cmd, report_cmd, scan_cmd  # noqa: E402, F401

__all__ = ["State", "cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
