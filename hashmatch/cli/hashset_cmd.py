"""``hashmatch hashset ...``: import, list, show and remove hash sets."""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import sys
from pathlib import Path

import click

from hashmatch.cli import State, cli
from hashmatch.cli.progress import ByteProgress, wanted
from hashmatch.errors import CaseError
from hashmatch.hashsets import Category, HashSetInfo, HashSetStore
from hashmatch.hashsets.export import EXPORT_FORMATS, ExportResult, export_set
from hashmatch.hashsets.formats import format_names
from hashmatch.hashsets.formats.vics import CategoryScheme
from hashmatch.safetext import visible


def _n(count: int, one: str, many: str) -> str:
    """``count`` with its noun: "1 entry", "2 entries"."""
    return f"{count} {one if count == 1 else many}"


def _info_dict(info: HashSetInfo) -> dict[str, object]:
    return {
        "name": info.name,
        "format": info.format,
        "category": info.category.value,
        "entries": info.entries,
        "hashes": info.hashes,
        "algorithms": list(info.algorithms),
        "sha256": info.sha256,
        "source_name": info.source_name,
        "imported_at": info.imported_at,
        "provenance": dict(info.provenance),
    }


@cli.group("hashset")
def hashset_group() -> None:
    """Import, list, show and remove known-image hash sets."""


@hashset_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", help="Name of the set (default: the file name without extension).")
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    help="File format: auto, or one of " + ", ".join(format_names()) + ".",
)
@click.option(
    "--category",
    type=click.Choice([c.value for c in Category]),
    help="Category of every entry; replaces the categories the file carries (VICS, NSRL), "
    "whose labels are kept (default: the file's own, else alert).",
)
@click.option("--skip-invalid", is_flag=True, help="Skip malformed records instead of stopping.")
@click.option("--category-scheme", type=click.Choice([s.value for s in CategoryScheme]),
              help="How VICS Category numbers are read (default: vics-us, current Project "
              "VIC US; vics-dhs: the older DHS numbering). See docs/categories.md.")  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def import_command(
    state: State,
    file: Path,
    name: str | None,
    fmt: str,
    category: str | None,
    skip_invalid: bool,
    category_scheme: str | None,
    quiet: bool,
) -> None:
    """Import FILE as a new hash set (all or nothing: a malformed line changes nothing)."""
    store = state.store()
    bar = ByteProgress(file.stat().st_size, "importing") if wanted(quiet) else None
    try:
        result = store.import_file(
            file,
            name=name,
            format_name=fmt,
            category=Category(category) if category else None,
            skip_invalid=skip_invalid,
            progress=bar,
            category_scheme=category_scheme,
        )
    finally:
        if bar is not None:
            bar.close()
    info = result.info
    if result.already_imported:
        click.echo(f"already imported as {info.name!r} (same SHA-256); nothing changed")
        if category or category_scheme:  # (the settings of the first import stand)
            click.echo(
                f"the set keeps the category settings it was imported with; to import it "
                f"with others, remove {info.name!r} first",
                err=True,
            )
        return
    click.echo(
        f"imported {_n(info.entries, 'entry', 'entries')} ({_n(info.hashes, 'hash', 'hashes')}: "
        f"{', '.join(info.algorithms)}) "
        f"as {info.name!r}, format {info.format}, category {info.category.value}"
    )
    if result.skipped:
        click.echo(f"skipped {_n(result.skipped, 'invalid record', 'invalid records')}", err=True)


@hashset_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
def list_command(state: State, as_json: bool) -> None:
    """List the imported hash sets."""
    sets = state.store().list_sets()
    if as_json:
        click.echo(json.dumps([_info_dict(i) for i in sets], indent=2, ensure_ascii=False))
        return
    if not sets:
        click.echo("no hash sets imported")
        return
    click.echo(f"{'NAME':<24} {'FORMAT':<10} {'CATEGORY':<11} {'ENTRIES':>10}  ALGORITHMS")
    for info in sets:
        click.echo(
            f"{visible(info.name):<24} {info.format:<10} {info.category.value:<11} "
            f"{info.entries:>10}  {','.join(info.algorithms)}"
        )


#: What ``hashset show`` says of ``checks_hashes``.
_HASH_CHECKS = {
    True: "a hit's entry is checked against the file's other hashes",
    False: "none: the set does not record which hashes each entry has (imported before "
    "0.2.0); remove it and import it again to check a hit's entry against the file's "
    "other hashes",
    None: "none needed (one hash an entry)",
}


@hashset_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show_command(state: State, name: str, as_json: bool) -> None:
    """Show one hash set: provenance, how many entries have a file size (which a
    hashdeep export needs and a scan checks hits by), whether a hit is checked against
    the file's other hashes, and the breakdown by category and label."""
    store = state.store()
    info = store.get(name)
    breakdown = store.breakdown(info)
    sized = store.sized_entries(info)
    checks = store.checks_hashes(info)
    if as_json:
        data = _info_dict(info)
        data["breakdown"] = [
            {"category": c, "label": label, "entries": n} for c, label, n in breakdown
        ]
        data["file_sizes"] = sized  # (null: VICS, each medium's MediaSize)
        data["hash_checks"] = checks  # (null: one hash an entry, nothing to check)
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for key, value in _info_dict(info).items():
        if key == "provenance":
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        click.echo(f"{key + ':':<13}{visible(str(shown))}")
    # (What a hashdeep export can write: an entry without a size is left out of it.)
    sizes = "each medium's MediaSize" if sized is None else f"{sized} of {info.entries} entries"
    click.echo(f"{'file sizes:':<13}{sizes}")
    click.echo(f"{'hash checks:':<13}{_HASH_CHECKS[checks]}")
    for key, value in info.provenance:
        click.echo(f"{'provenance:':<13}{key} = {visible(value)}")
    for category, label, count in breakdown:
        click.echo(
            f"{'entries:':<13}{count} {category}" + (f" ({visible(label)})" if label else "")
        )


@hashset_group.command("remove")
@click.argument("name")
@click.pass_obj
def remove_command(state: State, name: str) -> None:
    """Remove a hash set from the store."""
    info = state.store().remove(name)
    click.echo(f"removed {info.name!r} ({_n(info.entries, 'entry', 'entries')})")


@hashset_group.command("export")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True,
              help="Format to write.")  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="File to write (must not exist); - is standard output, ./- a file.")  # fmt: skip
@click.pass_obj
def export_command(state: State, name: str, fmt: str, output: str) -> None:
    """Write the imported set NAME to a file in an interchange format.

    hashdeep: a file hashdeep's own matching and audit modes read, with each entry's
    file size (kept from hashdeep, NSRL, HashKeeper, VICS and CSV sets with a size
    column); a set without sizes (a hash list) is refused: export it as md5sum."""
    store = state.store()
    info = store.get(name)
    to_stdout = output == "-"  # (as written: a Path makes "./-" of "-" too)
    if to_stdout:
        result = _export_to_stdout(store, info, fmt)
        where = "standard output"
    else:
        result = _export_to_file(store, info, fmt, Path(output))
        where = visible(output)
    exported = f"exported {_n(result.written, 'entry', 'entries')} of {info.name!r} as {fmt}"
    # (on standard error when the set itself went to standard output)
    click.echo(f"{exported} to {where}", err=to_stdout)
    if result.left_out:
        click.echo(
            f"left out {_n(result.left_out, 'entry', 'entries')} the format cannot hold", err=True
        )
    if result.shortened:
        click.echo(f"wrote {_n(result.shortened, 'name', 'names')} cut short to fit a line "
                   "hashdeep reads whole (2,047 bytes)", err=True)  # fmt: skip
    if result.no_size:
        click.echo(f"left out {_n(result.no_size, 'entry', 'entries')} without a file size "
                   "(hashdeep needs one)", err=True)  # fmt: skip
    for what, count in sorted(result.dropped.items()):
        click.echo(f"left out {_n(count, f'{what} value', f'{what} values')} of the entries "
                   "written (the format cannot hold them)", err=True)  # fmt: skip
    if result.renamed:
        click.echo(f"wrote {_n(result.renamed, 'name', 'names')} with a space for a line break "
                   "or ? for a NUL (the format cannot hold them)", err=True)  # fmt: skip


def _export_to_stdout(store: HashSetStore, info: HashSetInfo, fmt: str) -> ExportResult:
    """Export to standard output, in UTF-8 as a file would be, whatever the locale."""
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n")
    try:
        result = export_set(store, info, fmt, out)
        out.flush()
        return result
    except BrokenPipeError:
        raise  # (a reader that stopped: the command ends quietly)
    except OSError as exc:  # a full disk behind a redirection
        raise CaseError(f"cannot write to standard output: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(ValueError, OSError):  # (what failed above is said above)
            out.detach()  # (standard output stays open)


def _export_to_file(store: HashSetStore, info: HashSetInfo, fmt: str, output: Path) -> ExportResult:
    """Export into ``output`` through a partial file of hashmatch's beside it (a new
    ``.hashmatch-<pid>-<random>.partial``: never a file of the user's, and short
    whatever the output's name), removed if the export fails, whatever stops it."""
    shown = visible(str(output))
    try:
        exists = output.exists()
    except OSError as exc:  # (a folder on the way that cannot be read)
        raise CaseError(f"cannot write {shown}: {exc.strerror or exc}") from exc
    if exists:
        raise click.UsageError(f"{shown} already exists; name a new file")
    partial = output.with_name(f".hashmatch-{os.getpid()}-{secrets.token_hex(4)}.partial")
    made = False
    try:
        with partial.open("x", encoding="utf-8", newline="\n") as out:
            made = True
            result = export_set(store, info, fmt, out)
        _put_in_place(partial, output)
        made = False  # (it is the output now)
    except OSError as exc:
        raise CaseError(f"cannot write {shown}: {exc.strerror or exc}") from exc
    finally:
        if made:
            with contextlib.suppress(OSError):  # (what failed is said above)
                partial.unlink()
    return result


def _put_in_place(partial: Path, output: Path) -> None:
    """``partial`` as ``output``, which must still not exist: linked there (which a file
    made there meanwhile refuses), or where the file system has no hard links (FAT,
    exFAT), renamed."""
    try:
        os.link(partial, output)
    except FileExistsError:
        raise click.UsageError(
            f"{visible(str(output))} was made while the set was exported; name a new file"
        ) from None
    except OSError:
        partial.replace(output)
        return
    with contextlib.suppress(OSError):  # (the output is written: a partial left is harmless)
        partial.unlink()
