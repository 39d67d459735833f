"""``hashmatch hash FILE...``: print every hash of each file."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from hashmatch.cli import cli
from hashmatch.cli.errors import ExitCode
from hashmatch.cli.options import parse_algorithms
from hashmatch.hashing import FileHashes, HashingOptions, Problem, Stage, algorithm_names
from hashmatch.hashing import hash_stream as _hash_stream
from hashmatch.safetext import visible
from hashmatch.sources import open_readonly


def _hash_path(path: Path, options: HashingOptions) -> FileHashes:
    try:
        with open_readonly(str(path)) as stream:
            return _hash_stream(stream, options, name=path.name)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return FileHashes(0, problems=(Problem(Stage.READ, f"cannot open: {reason}"),))


def _as_dict(path: Path, result: FileHashes) -> dict[str, object]:
    return {
        "path": str(path),
        "size": result.bytes_read if result.read_ok else None,
        "hashes": {v.algorithm: v.hex for v in result.hashes},
        "quality": {v.algorithm: v.quality for v in result.hashes if v.quality is not None},
        "image": asdict(result.image) if result.image else None,
        "notes": list(result.notes),
        "errors": [{"stage": p.stage.value, "message": p.message} for p in result.problems],
    }


@cli.command("hash")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of text.")
@click.option(
    "--algorithms",
    metavar="LIST",
    help=f"Comma-separated algorithms (default: all of {', '.join(algorithm_names())}).",
)
@click.pass_context
def hash_command(
    ctx: click.Context, files: tuple[Path, ...], as_json: bool, algorithms: str | None
) -> None:
    """Print every hash of each FILE (cryptographic and, for images, perceptual).

    Exits 3 if a file could not be read.
    """
    # Variants only serve matching; `hash` prints the picture's own hashes.
    options = HashingOptions(parse_algorithms(algorithms, algorithm_names()), variants=False)
    results = [(path, _hash_path(path, options)) for path in files]
    if as_json:
        click.echo(json.dumps([_as_dict(p, r) for p, r in results], indent=2, ensure_ascii=False))
    else:
        for path, result in results:
            click.echo(visible(str(path)))
            if result.read_ok:
                click.echo(f"  {'size':<8}{result.bytes_read}")
            for value in result.hashes:
                quality = f"  (quality {value.quality})" if value.quality is not None else ""
                click.echo(f"  {value.algorithm:<8}{value.hex}{quality}")
            for note in result.notes:
                click.echo(f"  note    {note}")
            for problem in result.problems:
                click.echo(f"  error   {problem.stage.value}: {problem.message}")
    if any(not r.read_ok for _, r in results):
        ctx.exit(ExitCode.BAD_INPUT)
