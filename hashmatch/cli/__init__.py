"""The ``hashmatch`` command: thin click commands over the library.

Library errors are caught here, and only here, and turned into one line on stderr and a
documented exit code (``hashmatch.cli.errors``). A Python traceback is printed only for
a bug, and only when ``HASHMATCH_DEBUG`` is set.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import click

from hashmatch import __version__
from hashmatch.cli import environment  # noqa: F401  (before numpy is imported)
from hashmatch.cli.errors import ExitCode, exit_code_for
from hashmatch.errors import HashmatchError
from hashmatch.hashsets import HashSetStore, default_store_dir
from hashmatch.report.custody import AuditEntry, append_audit
from hashmatch.report.provenance import host_name, user_name
from hashmatch.timeutil import utc_now


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


_CASE_KEY = "hashmatch.case_dir"
_ARGV_KEY = "hashmatch.argv"


def invocation() -> tuple[str, ...]:
    """The command line as the user typed it (recorded in reports and audit logs)."""
    argv = click.get_current_context().meta.get(_ARGV_KEY, sys.argv[1:])
    return ("hashmatch", *argv)


def record_case(case_dir: Path) -> None:
    """Called by a command that works on a case: its run goes into the case's audit.log."""
    click.get_current_context().meta[_CASE_KEY] = case_dir


def _audit(ctx: click.Context, status: int) -> None:
    case_dir = ctx.meta.get(_CASE_KEY)
    if not isinstance(case_dir, Path) or not case_dir.is_dir():
        return
    argv = ctx.meta.get(_ARGV_KEY, sys.argv[1:])
    entry = AuditEntry(utc_now(), user_name(), host_name(), __version__,
                       ("hashmatch", *argv), int(status))  # fmt: skip
    try:
        append_audit(case_dir, entry)
    except HashmatchError as exc:
        click.echo(f"hashmatch: warning: {exc}", err=True)


def _drop_output() -> None:
    """Send what is left of standard output nowhere: stop quietly, as other command-line
    tools do when what reads their output has gone, without a second error when Python
    flushes the stream at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # (no real standard output: nothing to flush)
        pass


class HashmatchGroup(click.Group):
    """The top-level group: maps errors to messages and exit codes, and keeps audit logs."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGV_KEY] = tuple(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        status: int = ExitCode.INTERNAL
        try:
            result = super().invoke(ctx)
            status = ExitCode.OK
            return result
        except click.exceptions.Exit as exc:
            status = exc.exit_code
            raise
        except click.exceptions.ClickException as exc:
            status = exc.exit_code
            raise
        except click.exceptions.Abort:
            status = ExitCode.USAGE
            raise
        except HashmatchError as exc:
            click.echo(f"hashmatch: error: {exc}", err=True)
            status = exit_code_for(exc)
            ctx.exit(status)
        except Terminated:
            click.echo("hashmatch: terminated (SIGTERM)", err=True)
            status = ExitCode.TERMINATED
            ctx.exit(status)
        except KeyboardInterrupt:
            click.echo("hashmatch: interrupted", err=True)
            status = ExitCode.INTERRUPTED
            ctx.exit(status)
        except BrokenPipeError:  # the program reading the output stopped (``| head``)
            _drop_output()
            status = ExitCode.OUTPUT_CLOSED
            ctx.exit(status)
        except Exception as exc:  # a bug: say so plainly, details on request
            if os.environ.get("HASHMATCH_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"hashmatch: internal error ({type(exc).__name__}: {exc}). This is a bug in "
                "hashmatch; set HASHMATCH_DEBUG=1 to see the details and please report it.",
                err=True,
            )
            ctx.exit(ExitCode.INTERNAL)
        finally:
            _audit(ctx, status)


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


class Terminated(KeyboardInterrupt):
    """SIGTERM (``timeout``, ``docker stop``, a batch system ending a job): stopped as
    Ctrl-C stops a command, so what it leaves half-made is removed (an import killed so
    left its work files, hundreds of MB, until the next import)."""


def _on_sigterm(pid: int) -> Callable[[int, FrameType | None], None]:
    """The handler for the command's own process: processes forked from it (workers)
    die of SIGTERM as they would without it."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != pid:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise Terminated

    return handler


def main() -> None:
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # (a parent's SIG_IGN stays)
        signal.signal(signal.SIGTERM, _on_sigterm(os.getpid()))
    cli(prog_name="hashmatch")


# Register the commands (imported for their side effect on ``cli``).
from hashmatch.cli import (  # noqa: E402, F401
    batch_cmd,
    bench_cmd,
    hash_cmd,
    hashset_cmd,
    report_cmd,
    scan_cmd,
    verify_cmd,
)

__all__ = ["State", "cli", "main"]

if __name__ == "__main__":  # pragma: no cover
    main()
