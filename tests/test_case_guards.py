"""What commands refuse to do to a case: ``report -o`` over the case's own records, in
the evidence, or over an output in another format; ``verify`` taking an output's word
for which hashmatch wrote it; ``scan`` writing its audit line into evidence; ``--resume``
of a finished case, with another case id, or its sources named otherwise."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hashmatch.cli.errors import ExitCode
from hashmatch.report.custody import write_manifest

from .conftest import interrupted
from .test_custody import case, invoke

__all__ = ["case"]  # (the fixture, imported to be used here)


def store_of(case: Path) -> Path:
    return case.parent / "store"


def test_verify_takes_the_version_from_the_database_not_from_the_output(
    case: Path, runner: CliRunner
) -> None:
    """An output forged with its version removed (or changed), checksums recomputed, is
    rendered again and caught: it used to pass as "not re-rendered"."""
    for version in (None, "0.1.0"):
        report = json.loads((case / "report.json").read_text())
        report["summary"]["files"] = 1
        if version is None:
            del report["tool"]["version"]
        else:
            report["tool"]["version"] = version
        (case / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        write_manifest(case)
        result = invoke(runner, store_of(case), "verify", str(case))
        assert result.exit_code == ExitCode.VERIFY_FAILED, result.output
        assert "report.json: differs from what the case database renders" in result.output


@pytest.mark.parametrize(
    "name", ["case.sqlite", "case.sqlite-wal", "manifest.json", "manifest.sha256", "audit.log"]
)
def test_report_never_writes_over_the_cases_own_records(
    case: Path, runner: CliRunner, name: str
) -> None:
    before = {p.name: p.read_bytes() for p in case.iterdir()}
    result = invoke(runner, store_of(case), "report", str(case), "--format", "json", "-o",
                    str(case / name))  # fmt: skip
    assert result.exit_code == ExitCode.USAGE, result.output
    assert f"is a case's own {name}" in result.output
    after = {p.name: p.read_bytes() for p in case.iterdir() if p.name != "audit.log"}
    assert after == {k: v for k, v in before.items() if k != "audit.log"}
    assert invoke(runner, store_of(case), "verify", str(case)).exit_code == 0


def test_a_report_written_over_a_hard_link_leaves_the_database(
    case: Path, runner: CliRunner
) -> None:
    """A report replaces the file it names (written aside, then renamed): a hard link to
    the case database is replaced, the database itself left as it was."""
    link = case.parent / "innocent.json"
    os.link(case / "case.sqlite", link)
    result = invoke(runner, store_of(case), "report", str(case), "--format", "json", "-o",
                    str(link))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(link.read_text())["summary"]["files"] == 2
    assert invoke(runner, store_of(case), "verify", str(case)).exit_code == 0


def test_report_never_writes_over_another_cases_files(
    case: Path, runner: CliRunner, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "case.sqlite").write_bytes(b"another case")
    for name in ("case.sqlite", "report.json", "Manifest.JSON"):
        result = invoke(runner, store_of(case), "report", str(case), "--format", "json", "-o",
                        str(other / name))  # fmt: skip
        assert result.exit_code == ExitCode.USAGE, result.output
    assert sorted(p.name for p in other.iterdir()) == ["case.sqlite"]
    assert (other / "case.sqlite").read_bytes() == b"another case"


def test_report_writes_a_cases_output_only_in_its_format(case: Path, runner: CliRunner) -> None:
    before = (case / "report.json").read_bytes()
    result = invoke(runner, store_of(case), "report", str(case), "--format", "csv", "-o",
                    str(case / "report.json"))  # fmt: skip
    assert result.exit_code == ExitCode.USAGE
    assert "is the case's json report; --format csv" in result.output
    assert (case / "report.json").read_bytes() == before
    # Other files in the case folder are the examiner's to name (a VICS export).
    result = invoke(runner, store_of(case), "report", str(case), "--format", "vics", "-o",
                    str(case / "export.json"))  # fmt: skip
    assert result.exit_code == 0 and (case / "export.json").is_file()
    assert invoke(runner, store_of(case), "verify", str(case)).exit_code == 0


def test_report_refuses_to_write_into_the_evidence(case: Path, runner: CliRunner) -> None:
    evidence = case.parent / "evidence"
    before = sorted(evidence.iterdir())
    result = invoke(runner, store_of(case), "report", str(case), "--format", "html", "-o",
                    str(evidence / "report.html"))  # fmt: skip
    assert result.exit_code == ExitCode.CASE_OR_STORE, result.output
    assert "lies inside the evidence" in result.output
    assert sorted(evidence.iterdir()) == before


def test_report_to_dash_is_standard_output(
    case: Path, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, store_of(case), "report", str(case), "--format", "json", "-o", "-")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["summary"]["files"] == 2
    assert not (tmp_path / "-").exists()


def test_report_to_dot_slash_dash_is_a_file_named_dash(
    case: Path, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(runner, store_of(case), "report", str(case), "--format", "json", "-o", "./-")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads((tmp_path / "-").read_text())["summary"]["files"] == 2


def test_a_refused_scan_writes_nothing_into_the_evidence(tmp_path: Path, runner: CliRunner) -> None:
    evidence = tmp_path / "evidence"
    (evidence / "inner").mkdir(parents=True)
    (evidence / "a.txt").write_text("alpha")
    result = invoke(runner, tmp_path / "store", "scan", str(evidence), "-o",
                    str(evidence / "inner"), "-q")  # fmt: skip
    assert result.exit_code == ExitCode.CASE_OR_STORE
    assert "lies inside the evidence" in result.output
    assert list((evidence / "inner").iterdir()) == []


def test_a_finished_case_is_not_resumed(case: Path, runner: CliRunner) -> None:
    """Resuming it would render it again and record a resume that never happened."""
    before = {p.name: p.read_bytes() for p in case.iterdir() if p.name != "audit.log"}
    result = invoke(runner, store_of(case), "scan", str(case.parent / "evidence"), "-o",
                    str(case), "-q", "--jobs", "1", "--resume")  # fmt: skip
    assert result.exit_code == ExitCode.CONFLICT
    assert "is complete: there is nothing to resume" in result.output
    assert {p.name: p.read_bytes() for p in case.iterdir() if p.name != "audit.log"} == before


def test_a_resume_with_another_case_id_or_examiner_is_refused(
    case: Path, runner: CliRunner
) -> None:
    interrupted(case)
    base = ["scan", str(case.parent / "evidence"), "-o", str(case), "-q", "--jobs", "1",
            "--resume"]  # fmt: skip
    for option, value in (("--case-id", "OTHER-7"), ("--examiner", "someone else")):
        result = invoke(runner, store_of(case), *base, option, value)
        assert result.exit_code == ExitCode.CASE_OR_STORE, result.output
        assert "settings of the first run" in result.output and value in result.output
    result = invoke(runner, store_of(case), *base, "--case-id", "case")  # (the same id)
    assert result.exit_code == 0, result.output


def test_a_resume_names_the_sources_as_the_first_run_did_or_by_their_absolute_path(
    case: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run named its evidence by an absolute path; from the folder above,
    ``evidence`` is the same; another folder is not, and the message names both."""
    interrupted(case)
    monkeypatch.chdir(case.parent)
    other = case.parent / "other"
    other.mkdir()
    result = invoke(runner, store_of(case), "scan", "other", "-o", str(case), "-q", "--resume")
    assert result.exit_code == ExitCode.CASE_OR_STORE
    assert f"first run: {case.parent / 'evidence'}; now: other" in result.output
    result = invoke(runner, store_of(case), "scan", "evidence", "-o", str(case), "-q", "--jobs",
                    "1", "--resume")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert invoke(runner, store_of(case), "verify", str(case)).exit_code == 0


def test_relative_sources_are_taken_from_the_folder_the_scan_ran_in(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case scanned as ``ev`` from folder A: from folder B, ``report -o`` may write
    anywhere but in A/ev (B's own files are no evidence: all were refused), and a resume
    needs A's ev, not B's (it took B/ev for the same source)."""
    first, second = tmp_path / "A", tmp_path / "B"
    for folder in (first, second):
        (folder / "ev").mkdir(parents=True)
        (folder / "ev" / "a.txt").write_text(f"a file in {folder.name}")
    store, case = tmp_path / "store", tmp_path / "case"
    monkeypatch.chdir(first)
    assert invoke(runner, store, "scan", "ev", "-o", str(case), "-q", "--jobs", "1").exit_code == 0
    monkeypatch.chdir(second)
    wrote = invoke(runner, store, "report", str(case), "--format", "html", "-o", "x.html")
    assert wrote.exit_code == 0 and (second / "x.html").is_file()
    refused = invoke(runner, store, "report", str(case), "--format", "html", "-o",
                     str(first / "ev" / "r.html"))  # fmt: skip
    assert refused.exit_code == ExitCode.CASE_OR_STORE
    assert sorted(p.name for p in (first / "ev").iterdir()) == ["a.txt"]
    interrupted(case)
    resume = ["scan", "-o", str(case), "-q", "--jobs", "1", "--resume"]
    other = invoke(runner, store, *resume, str(second / "ev"))
    assert other.exit_code == ExitCode.CASE_OR_STORE and "first run: ev" in other.output
    same = invoke(runner, store, *resume, str(first / "ev"))
    assert same.exit_code == 0, same.output


def test_a_source_that_is_a_loop_of_links_is_named_not_an_internal_error(
    tmp_path: Path, runner: CliRunner
) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = invoke(runner, tmp_path / "store", "scan", str(tmp_path / "a"), "-o",
                    str(tmp_path / "case"), "-q")  # fmt: skip
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "internal error" not in result.output
