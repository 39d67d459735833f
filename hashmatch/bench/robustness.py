"""``hashmatch bench robustness``: how well each perceptual algorithm finds changed copies.

For every reference picture and every transform of the suite (bench/transforms.py), the
changed copy is hashed the way a scan hashes a file (its variants included) and compared
with the reference's hash (the way a hash set holds it: the picture as it is). Distractor
pictures, compared with every reference, give the false matches. Per algorithm and
transform the table gives, like Thorn's perception benchmark, the largest threshold at
which precision stays at or above the target (99.99 %) and the recall there; and, for
hashmatch's own default threshold, the recall and the number of false matches.

References and distractors default to generated scenes (bench/scenes.py); a lab can point
both at folders of its own pictures.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hashmatch.bench.scenes import scene
from hashmatch.bench.transforms import TRANSFORMS, encode
from hashmatch.hashing import HashingOptions, get_perceptual, hash_stream
from hashmatch.hashing.hasher import FileHashes

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Row:
    algorithm: str
    transform: str
    threshold: int  # largest threshold keeping precision >= target (-1: none)
    recall: float  # at that threshold
    default_threshold: int
    default_recall: float
    default_false_matches: int
    pairs: int  # positive pairs measured


@dataclass(frozen=True)
class Table:
    rows: tuple[Row, ...]
    references: int
    distractors: int
    precision: float
    variants: bool


def generated(count: int, first_seed: int) -> list[tuple[str, bytes]]:
    return [(f"scene-{s}", encode(scene(s, 480, 360), quality=92))
            for s in range(first_seed, first_seed + count)]  # fmt: skip


def from_folder(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.iterdir()) if p.is_file()]


def _hash(data: bytes, options: HashingOptions) -> FileHashes:
    return hash_stream(io.BytesIO(data), options, name="picture")


def _rows(values: Sequence[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(values), dtype=np.uint8).reshape(len(values), -1)


def _distances(queries: np.ndarray, references: np.ndarray) -> np.ndarray:
    """Smallest Hamming distance of any query row to each reference row."""
    xor = np.bitwise_xor(queries[:, None, :], references[None, :, :])
    smallest: np.ndarray = np.bitwise_count(xor).sum(axis=2).min(axis=0)
    return smallest


def effective(name: str, hashed: FileHashes, references: np.ndarray, variants: bool
              ) -> np.ndarray | None:  # fmt: skip
    """The distance the matcher sees from a hashed picture to each reference row.

    As matching/matcher.py: the picture and its variants, the closest wins; a
    confirm-only variant (a crop) counts only where the picture itself is a candidate.
    """
    value = hashed.get(name)
    if value is None:
        return None
    primary = _distances(_rows([value.to_bytes()]), references)
    best = primary.copy()
    if not variants:
        return np.asarray(best)
    mine = [v for v in hashed.variants if v.algorithm == name]
    free = [v.to_bytes() for v in mine if not v.transform.confirm_only]
    if free:
        best = np.minimum(best, _distances(_rows(free), references))
    confirm = [v.to_bytes() for v in mine if v.transform.confirm_only]
    if confirm:
        candidate = primary <= get_perceptual(name).candidate_threshold
        best = np.where(candidate, np.minimum(best, _distances(_rows(confirm), references)), best)
    return np.asarray(best)


def run(
    references: Sequence[tuple[str, bytes]],
    distractors: Sequence[tuple[str, bytes]],
    algorithms: Sequence[str],
    transforms: Sequence[str] = tuple(TRANSFORMS),
    *,
    precision: float = 0.9999,
    variants: bool = True,
    progress: Progress | None = None,
) -> Table:
    from PIL import Image

    query_options = HashingOptions(tuple(algorithms), variants=variants)
    plain = HashingOptions(tuple(algorithms), variants=False)
    ref_hashes = [_hash(data, plain) for _, data in references]
    distractor_hashes = [_hash(data, query_options) for _, data in distractors]
    total, done = len(references) * len(transforms), 0
    copies: dict[str, list[FileHashes]] = {}
    for transform in transforms:
        copies[transform] = []
        for _, data in references:
            picture = Image.open(io.BytesIO(data))
            picture.load()
            copies[transform].append(_hash(TRANSFORMS[transform](picture.convert("RGB")),
                                           query_options))  # fmt: skip
            done += 1
            if progress is not None:
                progress(done, total)
    rows = []
    for name in algorithms:
        algorithm = get_perceptual(name)
        values = [h.get(name) for h in ref_hashes]
        usable = [i for i, v in enumerate(values) if v is not None]
        refs = {i: _rows([values[i].to_bytes()]) for i in usable}  # type: ignore[union-attr]
        negatives = np.array([], dtype=np.int64)
        if usable:
            matrix = np.concatenate([refs[i] for i in usable])
            parts = [d for h in distractor_hashes
                     if (d := effective(name, h, matrix, variants)) is not None]  # fmt: skip
            negatives = np.concatenate(parts) if parts else negatives
        for transform in transforms:
            positives = []
            for i in usable:
                found = effective(name, copies[transform][i], refs[i], variants)
                positives.append(int(found[0]) if found is not None else algorithm.bits + 1)
            rows.append(_row(name, transform, np.array(positives), negatives, precision,
                             algorithm.default_threshold, algorithm.bits))  # fmt: skip
    return Table(tuple(rows), len(references), len(distractors), precision, variants)


def _row(
    name: str,
    transform: str,
    positives: np.ndarray,
    negatives: np.ndarray,
    precision: float,
    default: int,
    bits: int,
) -> Row:
    best, best_recall = -1, 0.0
    for threshold in range(bits + 1):
        tp = int((positives <= threshold).sum())
        fp = int((negatives <= threshold).sum())
        if tp + fp and tp / (tp + fp) < precision:
            break
        if tp:
            best, best_recall = threshold, tp / len(positives)
    return Row(
        algorithm=name,
        transform=transform,
        threshold=best,
        recall=best_recall,
        default_threshold=default,
        default_recall=float((positives <= default).mean()) if len(positives) else 0.0,
        default_false_matches=int((negatives <= default).sum()),
        pairs=len(positives),
    )


def format_table(table: Table) -> str:
    lines = [
        f"references {table.references}, distractors {table.distractors} "
        f"({table.references * table.distractors} negative pairs), target precision "
        f"{table.precision:.2%}, variants {'on' if table.variants else 'off'}",
        f"{'transform':<14} {'algorithm':<7} {'threshold':>9} {'recall':>7}   "
        f"{'default':>7} {'recall':>7} {'false':>6}",
    ]
    for row in sorted(table.rows, key=lambda r: (r.transform, r.algorithm)):
        lines.append(
            f"{row.transform:<14} {row.algorithm:<7} {row.threshold:>9} {row.recall:>7.1%}   "
            f"{row.default_threshold:>7} {row.default_recall:>7.1%} {row.default_false_matches:>6}"
        )
    return "\n".join(lines)
