"""The HTML report in a real browser: it renders, no script runs, and it prints.

Headless Chromium (Debian package ``chromium``) opens a report whose evidence names,
examiner, hash-set name and references are script and event-handler payloads that would
change the page title if they ever ran. ``--dump-dom`` shows the page after scripts
would have run; ``--print-to-pdf`` and ``pdftoppm`` show what a printout looks like.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from hashmatch.hashsets import Category, HashSetStore
from hashmatch.scan import ScanOptions, scan

from .conftest import GOLDEN, needs_tool

PAYLOAD = "document.title='PWNED';document.body.setAttribute('data-pwned','1')"
NAMES = [
    f'<img src=x onerror="{PAYLOAD}">.jpg',
    f'<svg onload="{PAYLOAD}">.jpg',
    f"<script>{PAYLOAD}<\\script>.jpg",
    "right-to-left \u202egpj.exe",
    "x" * 240 + ".jpg",
]


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    binary = needs_tool("chromium")
    profile = tmp / "chromium-profile"
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", f"--user-data-dir={profile}", *args]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    needs_tool("chromium")
    base = tmp_path_factory.mktemp("browser")
    evidence = base / "evidence"
    evidence.mkdir()
    data = (GOLDEN / "scene.jpg").read_bytes()
    for name in NAMES:
        (evidence / name).write_bytes(data)
    (evidence / "unrelated.txt").write_text("nothing")
    known = base / "known.md5"
    known.write_text(f"{hashlib.md5(data).hexdigest()}  <script>{PAYLOAD}</script>\n")
    with HashSetStore(base / "store") as store:
        store.import_file(known, name=f"<img src=x onerror=\"{PAYLOAD}\">",
                          category=Category.KNOWN_BAD)  # fmt: skip
        options = ScanOptions((evidence,), base / "case", jobs=1, case_id="BROWSER-1",
                              examiner=f"<script>{PAYLOAD}</script>")  # fmt: skip
        scan(options, store)
    return base / "case" / "report.html"


def test_report_renders_and_no_script_runs(hostile_report: Path, tmp_path: Path) -> None:
    result = chromium("--dump-dom", hostile_report.as_uri(), tmp=tmp_path)
    dom = result.stdout
    assert "<title>hashmatch report: case BROWSER-1</title>" in dom, result.stderr[-2000:]
    assert "PWNED" not in dom.split("</title>")[0]
    assert not re.search(r"<body[^>]*data-pwned", dom)
    assert "Matches (5)" in dom and "Evidence sources" in dom
    assert "&lt;img src=x onerror=" in dom  # the payload is shown as text
    assert "<script" not in dom.lower()


def test_thumbnails_are_blurred_greyscale_and_only_of_matches(hostile_report: Path) -> None:
    page = hostile_report.read_text(encoding="utf-8")
    uris = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(uris) == 5  # the five matched files, not the unrelated one
    for uri in uris:
        thumb = Image.open(io.BytesIO(base64.b64decode(uri)))
        assert thumb.mode == "L" and max(thumb.size) <= 96


def test_report_prints_to_readable_pages(hostile_report: Path, tmp_path: Path) -> None:
    pdftoppm = needs_tool("pdftoppm")
    pdf = tmp_path / "report.pdf"
    chromium(f"--print-to-pdf={pdf}", "--no-pdf-header-footer", hostile_report.as_uri(),
             tmp=tmp_path)  # fmt: skip
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    subprocess.run([pdftoppm, "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert 1 <= len(pages) <= 12
    for page in pages:
        grey = Image.open(page).convert("L")
        low, high = grey.getextrema()
        assert low < 128 < high, f"{page.name} is blank"
        width, height = grey.size
        # Nothing is cut off at the right edge: the last columns of every page are white.
        edge = grey.crop((width - 3, 0, width, height))
        assert edge.getextrema()[0] > 200, f"{page.name}: content runs off the page"
