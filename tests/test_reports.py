"""Reports: hostile names stay inert in every output; thumbnails stay blurred."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, ImageChops, ImageStat

from hashmatch.casedb import CaseDatabase
from hashmatch.casedb import database as database_module
from hashmatch.cli import cli
from hashmatch.errors import CaseError
from hashmatch.hashsets import Category, HashSetStore
from hashmatch.report.csv_report import neutralise
from hashmatch.report.markup import element, escape
from hashmatch.report.outputs import write_text
from hashmatch.report.thumbnails import ThumbnailStyle, make_thumbnail
from hashmatch.scan import ScanOptions, scan

from .conftest import GOLDEN, write_protected

HOSTILE = [
    '<script>alert("x")<\\script>.jpg',
    "<img src=x onerror=alert(1)>.jpg",
    "quote\"and'apostrophe.jpg",
    "new\nline.jpg",
    "right-to-left \u202egpj.exe",
    '=HYPERLINK("http:\\\\evil")',
    "+cmd.jpg",
    "x" * 200 + ".jpg",
]


@pytest.fixture
def hostile_case(store: HashSetStore, tmp_path: Path) -> Path:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    data = (GOLDEN / "scene.jpg").read_bytes()
    for name in HOSTILE:
        (evidence / name).write_bytes(data)
    with open(os.fsencode(evidence) + b"/invalid-\xff\xfe.jpg", "wb") as out:
        out.write(data)
    (tmp_path / "k.md5").write_text(f"{hashlib.md5(data).hexdigest()}  <b>ref</b>\n")
    store.import_file(tmp_path / "k.md5", name="<i>set</i>", category=Category.KNOWN_BAD)
    case = tmp_path / "case"
    scan(ScanOptions((evidence,), case, jobs=1, examiner="<img src=x onerror=alert(1)>"), store)
    return case


def test_json_keeps_names_exactly(hostile_case: Path) -> None:
    report = json.loads((hostile_case / "report.json").read_text(encoding="utf-8"))
    paths = {m["path"] for m in report["matches"]}
    assert paths == {*HOSTILE, "invalid-\\xff\\xfe.jpg"}
    assert report["schema_version"] == 1
    for key in ("tool", "case", "sources", "hashsets", "summary", "matches", "errors"):
        assert key in report


def test_html_escapes_everything(hostile_case: Path) -> None:
    page = (hostile_case / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "<img src=x" not in page
    assert "<b>ref</b>" not in page and "<i>set</i>" not in page
    assert "&lt;script&gt;" in page
    assert "\u202e" not in page and "\\u202e" in page
    assert "new\\u000aline.jpg" in page
    assert 'http-equiv="Content-Security-Policy" content="default-src &#x27;none&#x27;;' in page
    assert "http://" not in page and "https://" not in page  # no external resource at all


def test_csv_neutralises_formulas(hostile_case: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((hostile_case / "matches.csv").read_text())))
    paths = {row["path"] for row in rows}
    assert '\'=HYPERLINK("http:\\\\evil")' in paths and "'+cmd.jpg" in paths
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert "new\\u000aline.jpg" in paths  # (made visible, as in the HTML)
    raw = (hostile_case / "matches.csv").read_text()
    assert all(line.startswith('"') for line in raw.splitlines()[1:])  # every cell quoted
    assert "\u202e" not in raw and "\x1b" not in raw  # (bidi overrides, terminal escapes)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert neutralise("safe") == "safe" and neutralise(None) == ""


def test_markup_builder() -> None:
    assert escape("<a href='x'>") == "&lt;a href=&#x27;x&#x27;&gt;"
    assert element("td", "<b>", class_="x y") == '<td class="x y">&lt;b&gt;</td>'
    assert element("td", element("b", "ok")) == "<td><b>ok</b></td>"


def test_blurred_thumbnail_is_small_grey_and_blurred() -> None:
    data = (GOLDEN / "scene.jpg").read_bytes()
    blurred = Image.open(io.BytesIO(make_thumbnail(data, ThumbnailStyle.BLURRED)))
    clear = Image.open(io.BytesIO(make_thumbnail(data, ThumbnailStyle.CLEAR)))
    assert blurred.mode == "L" and max(blurred.size) <= 96
    assert clear.mode == "RGB"

    def detail(image: Image.Image) -> float:
        """Mean difference from the same picture squeezed through 16x12 pixels."""
        grey = image.convert("L")
        coarse = grey.resize((16, 12), Image.Resampling.BOX).resize(grey.size)
        return ImageStat.Stat(ImageChops.difference(grey, coarse)).mean[0]

    assert detail(blurred) < 3
    assert detail(clear) > 3 * detail(blurred)
    assert make_thumbnail(data, ThumbnailStyle.NONE) is None


def test_only_matched_files_get_thumbnails(hostile_case: Path) -> None:

    db = sqlite3.connect(hostile_case / "case.sqlite")
    unmatched = db.execute(
        "SELECT count(*) FROM thumbnail JOIN file ON file.id = thumbnail.file_id "
        "WHERE file.listed = 0"
    ).fetchone()[0]
    assert unmatched == 0
    assert db.execute("SELECT count(*) FROM thumbnail").fetchone()[0] == len(HOSTILE) + 1


def test_an_output_that_cannot_be_written_leaves_no_part_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while a report is written: the command says which file, and no
    half-written ``.partial`` file is left in the case folder."""

    def full(self: Path, target: Path) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "replace", full)
    with pytest.raises(CaseError, match=r"report\.html: No space left on device"):
        write_text(tmp_path / "report.html", "<html></html>")
    assert list(tmp_path.iterdir()) == []


def test_a_case_on_write_protected_media_is_rendered_read_only(
    hostile_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archived case is rendered from its database opened read-only; nothing of the
    case but its audit log is touched (which on real write-protected media cannot be
    appended to either: the command warns and goes on)."""
    expected = (hostile_case / "report.json").read_text()

    def files() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in hostile_case.iterdir() if p.name != "audit.log"}

    before = files()
    write_protected(monkeypatch, database_module)
    result = CliRunner().invoke(cli, ["report", str(hostile_case), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.stdout == expected
    assert files() == before


def test_a_write_protected_case_whose_scan_did_not_finish_says_so(
    hostile_case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (hostile_case / "case.sqlite-wal").write_bytes(b"\0" * 32)
    write_protected(monkeypatch, database_module)
    with pytest.raises(CaseError, match=r"its last changes are still in case\.sqlite-wal"):
        CaseDatabase.read(hostile_case)
