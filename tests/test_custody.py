"""Chain of custody: manifest.json / manifest.sha256, ``hashmatch verify``, and audit.log."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from hashmatch.cli import cli
from hashmatch.cli.errors import ExitCode
from hashmatch.hashsets.digest import file_sha256
from hashmatch.report.custody import write_manifest


def invoke(runner: CliRunner, store: Path, *args: str):
    return runner.invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


@pytest.fixture
def case(tmp_path: Path, runner: CliRunner) -> Path:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "a.txt").write_text("alpha")
    (evidence / "b.txt").write_text("beta")
    case = tmp_path / "case"
    result = invoke(runner, tmp_path / "store", "scan", str(evidence), "-o", str(case), "-q",
                    "--jobs", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    return case


def test_fresh_case_verifies_and_lists_every_output(case: Path, runner: CliRunner) -> None:
    manifest = json.loads((case / "manifest.json").read_text())
    names = [f["name"] for f in manifest["files"]]
    assert names == ["case.sqlite", "report.json", "matches.csv", "report.html"]
    for entry in manifest["files"]:
        assert (entry["sha256"], entry["size"]) == file_sha256(case / entry["name"])
    result = invoke(runner, case.parent / "store", "verify", str(case))
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    assert "report.json: equals what the case database renders" in result.output


def test_a_case_folder_named_with_uri_characters_verifies(case: Path, runner: CliRunner) -> None:
    """A case folder whose name holds ``#``, ``?`` or ``%`` (the database is opened by a
    URI, in which they mean something) verifies: it was reported damaged."""
    named = case.with_name("case #7? 100%")
    case.rename(named)
    result = invoke(runner, named.parent / "store", "verify", str(named))
    assert result.exit_code == 0, result.output
    assert "case.sqlite: SQLite integrity check passed" in result.output


def test_standard_tools_can_check_the_manifest(case: Path) -> None:
    tool = shutil.which("sha256sum")
    if tool is None:
        pytest.skip("needs sha256sum (coreutils)")
    checked = subprocess.run([tool, "-c", "manifest.sha256"], cwd=case, capture_output=True,
                             text=True)  # fmt: skip
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 4


def test_one_changed_byte_of_report_json_fails_and_is_named(case: Path, runner: CliRunner) -> None:
    report = case / "report.json"
    data = bytearray(report.read_bytes())
    data[10] ^= 0x01
    report.write_bytes(bytes(data))
    result = invoke(runner, case.parent / "store", "verify", str(case))
    assert result.exit_code == ExitCode.VERIFY_FAILED
    assert "FAILED report.json: SHA-256" in result.output
    assert "hashmatch: error: report.json" in result.output


def test_a_changed_database_fails(case: Path, runner: CliRunner) -> None:
    with sqlite3.connect(case / "case.sqlite") as db:
        db.execute("UPDATE file SET size = size + 1")
    db.close()
    result = invoke(runner, case.parent / "store", "verify", str(case))
    assert result.exit_code == ExitCode.VERIFY_FAILED
    assert "case.sqlite: SHA-256" in result.output


def test_a_forged_report_with_a_recomputed_manifest_is_still_caught(
    case: Path, runner: CliRunner
) -> None:
    report = json.loads((case / "report.json").read_text())
    report["summary"]["files"] = 1
    (case / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_manifest(case)  # whoever forged it also fixed the checksums
    result = invoke(runner, case.parent / "store", "verify", str(case))
    assert result.exit_code == ExitCode.VERIFY_FAILED
    assert "report.json: differs from what the case database renders" in result.output


@pytest.mark.parametrize("name", ["matches.csv", "report.html"])
def test_a_forged_csv_or_html_with_a_recomputed_manifest_is_caught(
    case: Path, runner: CliRunner, name: str
) -> None:
    """Each report is rendered again from the database, not only report.json."""
    path = case / name
    text = path.read_bytes()
    assert invoke(runner, case.parent / "store", "verify", str(case)).exit_code == 0
    assert b"\r\n" in text or name.endswith(".html")  # (compared as bytes: CRLF kept)
    path.write_bytes(text.replace(b"known", b"kn0wn", 1) if b"known" in text else text + b" ")
    write_manifest(case)  # whoever forged it also fixed the checksums
    result = invoke(runner, case.parent / "store", "verify", str(case))
    assert result.exit_code == ExitCode.VERIFY_FAILED
    assert f"{name}: differs from what the case database renders" in result.output


def test_re_rendering_an_output_keeps_the_case_verifiable(case: Path, runner: CliRunner) -> None:
    store = case.parent / "store"
    (case / "report.html").write_text("tampered")
    assert invoke(runner, store, "verify", str(case)).exit_code == ExitCode.VERIFY_FAILED
    rendered = invoke(runner, store, "report", str(case), "--format", "html", "-o",
                      str(case / "report.html"))  # fmt: skip
    assert rendered.exit_code == 0
    assert invoke(runner, store, "verify", str(case)).exit_code == 0


def test_missing_manifest_fails(case: Path, runner: CliRunner) -> None:
    (case / "manifest.json").unlink()
    result = invoke(runner, case.parent / "store", "verify", str(case))
    assert result.exit_code == ExitCode.VERIFY_FAILED
    assert "manifest.json is missing" in result.output


def test_audit_log_records_every_command_on_the_case(case: Path, runner: CliRunner) -> None:
    store = case.parent / "store"
    invoke(runner, store, "verify", str(case))
    (case / "report.json").write_text("{}")
    invoke(runner, store, "verify", str(case))
    invoke(runner, store, "scan", str(case.parent / "evidence"), "-o", str(case), "-q")  # refused
    lines = [json.loads(line) for line in (case / "audit.log").read_text().splitlines()]
    assert all(e["command"][:3] == ["hashmatch", "--store", str(store)] for e in lines)
    assert [(e["command"][3], e["exit_status"]) for e in lines] == [
        ("scan", 0), ("verify", 0), ("verify", ExitCode.VERIFY_FAILED),
        ("scan", ExitCode.CONFLICT),
    ]  # fmt: skip
    assert all(e["time"].endswith("Z") and e["user"] and e["hashmatch"] for e in lines)
