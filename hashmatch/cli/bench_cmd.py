"""``hashmatch bench robustness``: measured recall per algorithm and transform."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from hashmatch.bench.robustness import format_table, from_folder, generated, run
from hashmatch.bench.transforms import TRANSFORMS
from hashmatch.cli import cli
from hashmatch.cli.options import parse_algorithms
from hashmatch.hashing import get_perceptual


@cli.group("bench")
def bench_group() -> None:
    """Measure hashmatch on generated pictures or on a lab's own."""


@bench_group.command("robustness")
@click.argument("references", required=False,
                type=click.Path(exists=True, file_okay=False, path_type=Path))  # fmt: skip
@click.option("--distractors", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of unrelated pictures (default: generated scenes).")  # fmt: skip
@click.option("--count", type=click.IntRange(min=2), default=40, show_default=True,
              help="Generated references when no folder is given.")  # fmt: skip
@click.option("--distractor-count", type=click.IntRange(min=2), default=250, show_default=True,
              help="Generated distractors when no folder is given.")  # fmt: skip
@click.option("--algorithms", metavar="LIST", default="pdq,phash,dhash,ahash,whash",
              show_default=True, help="Perceptual algorithms to measure.")  # fmt: skip
@click.option("--transforms", metavar="LIST", default=",".join(TRANSFORMS),
              help="Transforms to apply (default: the whole suite).")  # fmt: skip
@click.option("--no-variants", is_flag=True, help="Hash copies without their variants.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def robustness_command(
    references: Path | None,
    distractors: Path | None,
    count: int,
    distractor_count: int,
    algorithms: str,
    transforms: str,
    no_variants: bool,
    as_json: bool,
) -> None:
    """Recall per algorithm and transform at 99.99 % precision against distractors.

    REFERENCES: a folder of pictures (default: generated scenes).
    """
    names = [a for a in parse_algorithms(algorithms, ()) if get_perceptual(a)]
    chosen = [t.strip() for t in transforms.split(",") if t.strip()]
    unknown = [t for t in chosen if t not in TRANSFORMS]
    if unknown:
        raise click.UsageError(f"unknown transform(s) {', '.join(unknown)} "
                               f"(known: {', '.join(TRANSFORMS)})")  # fmt: skip
    refs = from_folder(references) if references else generated(count, 0)
    noise = from_folder(distractors) if distractors else generated(distractor_count, 10_000)
    table = run(refs, noise, names, chosen, variants=not no_variants)
    if as_json:
        document = {**asdict(table), "rows": [asdict(r) for r in table.rows]}
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(format_table(table))
