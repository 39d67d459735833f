"""Every command, through click's runner: output, exit codes, help."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hashmatch.cli import cli
from hashmatch.cli.errors import ExitCode

from .conftest import GOLDEN

MD5 = "0123456789abcdef0123456789abcdef"


def invoke(runner: CliRunner, store: Path, *args: str):
    return runner.invoke(cli, ["--store", str(store), *args], catch_exceptions=False)


@pytest.mark.parametrize(
    "command",
    [[], ["hash"], ["hashset"], ["hashset", "import"], ["hashset", "list"], ["hashset", "show"],
     ["hashset", "remove"], ["hashset", "export"], ["scan"], ["report"], ["batch"], ["verify"],
     ["bench"], ["bench", "robustness"]],
)  # fmt: skip
def test_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def test_hash_text_and_json(runner: CliRunner, tmp_path: Path) -> None:
    image = GOLDEN / "scene.jpg"
    text = invoke(runner, tmp_path, "hash", str(image))
    assert text.exit_code == 0
    for name in ("md5", "sha1", "sha256", "pdq", "phash", "dhash", "ahash", "whash"):
        assert f"  {name}" in text.output
    data = json.loads(invoke(runner, tmp_path, "hash", str(image), "--json").output)
    expected = json.loads((GOLDEN / "expected.json").read_text())["scene.jpg"]
    assert data[0]["hashes"]["pdq"] == expected["pdq"]
    assert data[0]["quality"]["pdq"] == int(expected["pdq_quality"])


def test_hash_of_a_missing_file_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, tmp_path, "hash", str(tmp_path / "missing.jpg"), "--json")
    assert result.exit_code == ExitCode.BAD_INPUT
    assert json.loads(result.output)[0]["errors"][0]["stage"] == "read"


def test_hash_with_chosen_algorithms(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, tmp_path, "hash", str(GOLDEN / "scene.jpg"), "--algorithms", "md5,pdq")
    lines = [line.split()[0] for line in result.output.splitlines()[2:]]
    assert lines == ["md5", "pdq"]


def test_hashset_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (tmp_path / "known.md5").write_text(f"{MD5}  a.jpg\n")
    result = invoke(runner, store, "hashset", "import", str(tmp_path / "known.md5"),
                    "--name", "ref", "--category", "known-bad")  # fmt: skip
    assert result.exit_code == 0 and "imported 1 entry (1 hash: md5)" in result.output
    listed = json.loads(invoke(runner, store, "hashset", "list", "--json").output)
    assert listed[0]["name"] == "ref" and listed[0]["category"] == "known-bad"
    assert set(listed[0]) >= {"name", "format", "category", "entries", "sha256", "imported_at"}
    assert "ref" in invoke(runner, store, "hashset", "list").output
    shown = invoke(runner, store, "hashset", "show", "ref")
    assert "known-bad" in shown.output and listed[0]["sha256"] in shown.output
    again = invoke(runner, store, "hashset", "import", str(tmp_path / "known.md5"))
    assert again.exit_code == 0 and "already imported" in again.output
    assert "remove 'ref' first" not in again.output
    other = invoke(runner, store, "hashset", "import", str(tmp_path / "known.md5"),
                   "--category", "known-good")  # fmt: skip
    assert "already imported" in other.output and "remove 'ref' first" in other.output
    assert invoke(runner, store, "hashset", "remove", "ref").exit_code == 0
    assert invoke(runner, store, "hashset", "show", "ref").exit_code == ExitCode.CONFLICT


def test_malformed_import_exits_3_with_file_and_line(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "bad.md5").write_text(f"{MD5}  a.jpg\nnonsense here\n")
    result = invoke(runner, tmp_path / "s", "hashset", "import", str(tmp_path / "bad.md5"))
    assert result.exit_code == ExitCode.BAD_INPUT
    assert "bad.md5:2:" in result.output and "Traceback" not in result.output
    assert json.loads(invoke(runner, tmp_path / "s", "hashset", "list", "--json").output) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    """Opening a named pipe waits for a writer: the import hung for ever."""
    os.mkfifo(tmp_path / "sets.md5")
    command = [sys.executable, "-m", "hashmatch", "--store", str(tmp_path / "s"),
               "hashset", "import", str(tmp_path / "sets.md5")]  # fmt: skip
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert proc.returncode == ExitCode.BAD_INPUT
    assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr


def test_ambiguous_import_needs_a_format(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "l.txt").write_text("ab" * 32 + "\n")
    result = invoke(runner, tmp_path / "s", "hashset", "import", str(tmp_path / "l.txt"))
    assert result.exit_code == ExitCode.BAD_INPUT and "--format sha256" in result.output
    ok = invoke(runner, tmp_path / "s", "hashset", "import", str(tmp_path / "l.txt"),
                "--format", "pdq")  # fmt: skip
    assert ok.exit_code == 0


def test_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "ev").mkdir()
    bad = invoke(runner, tmp_path, "scan", str(tmp_path / "ev"), "-o", str(tmp_path / "c"),
                 "--threshold", "md5=3")  # fmt: skip
    assert bad.exit_code == ExitCode.USAGE and "perceptual" in bad.output
    assert invoke(runner, tmp_path, "scan", str(tmp_path / "ev")).exit_code == 2
    assert invoke(runner, tmp_path, "nonsense").exit_code == 2


def test_scan_and_report(runner: CliRunner, tmp_path: Path) -> None:
    evidence = tmp_path / "ev"
    evidence.mkdir()
    (evidence / "a.jpg").write_bytes((GOLDEN / "scene.jpg").read_bytes())
    import hashlib

    md5 = hashlib.md5((GOLDEN / "scene.jpg").read_bytes()).hexdigest()
    (tmp_path / "k.md5").write_text(f"{md5}  x\n")
    store = tmp_path / "store"
    invoke(runner, store, "hashset", "import", str(tmp_path / "k.md5"), "--category", "known-bad")
    case = tmp_path / "case"
    result = invoke(runner, store, "scan", str(evidence), "-o", str(case), "--case-id", "001",
                    "--examiner", "A. Smith", "-q", "--jobs", "1")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "matched:  1" in result.output
    again = invoke(runner, store, "scan", str(evidence), "-o", str(case), "-q")
    assert again.exit_code == ExitCode.CONFLICT and "--resume" in again.output
    for fmt in ("json", "csv", "html"):
        rendered = invoke(runner, store, "report", str(case), "--format", fmt)
        assert rendered.exit_code == 0
    assert (
        json.loads(invoke(runner, store, "report", str(case), "--format", "json").output)[
            "matches"
        ][0]["path"]
        == "a.jpg"
    )
    out = tmp_path / "r.csv"
    assert (
        invoke(runner, store, "report", str(case), "--format", "csv", "-o", str(out)).exit_code == 0
    )
    assert out.read_text().startswith("source,")


def test_scan_of_a_missing_source_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, tmp_path, "scan", str(tmp_path / "nope"), "-o", str(tmp_path / "c"))
    assert result.exit_code == ExitCode.BAD_INPUT and "no such file" in result.output


def test_report_of_a_folder_without_a_case(runner: CliRunner, tmp_path: Path) -> None:
    result = invoke(runner, tmp_path, "report", str(tmp_path), "--format", "json")
    assert result.exit_code == ExitCode.CASE_OR_STORE and "no case database" in result.output


def test_clear_thumbnails_need_confirmation(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "ev").mkdir()
    result = invoke(runner, tmp_path, "scan", str(tmp_path / "ev"), "-o", str(tmp_path / "c"),
                    "--thumbnails", "clear")  # fmt: skip
    assert result.exit_code == ExitCode.USAGE and "--yes" in result.output


def test_store_from_environment(tmp_path: Path) -> None:
    runner = CliRunner(env={"HASHMATCH_HOME": str(tmp_path / "home")})
    (tmp_path / "k.md5").write_text(f"{MD5}  a\n")
    assert runner.invoke(cli, ["hashset", "import", str(tmp_path / "k.md5")]).exit_code == 0
    assert (tmp_path / "home" / "hashsets.sqlite").is_file()


def test_python_dash_m_and_no_traceback_on_bad_input(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01garbage")
    proc = subprocess.run(
        [sys.executable, "-m", "hashmatch", "--store", str(tmp_path / "s"), "hashset", "import",
         str(tmp_path / "bad.txt")],
        capture_output=True, text=True, env={**os.environ, "HASHMATCH_DEBUG": ""}, check=False,
    )  # fmt: skip
    assert proc.returncode == ExitCode.BAD_INPUT
    assert "Traceback" not in proc.stderr and "bad.txt" in proc.stderr


def test_output_closed_early_stops_quietly(tmp_path: Path) -> None:
    """``hashmatch ... | head``: when what reads the output stops, hashmatch stops
    without an error message, with the status a shell gives a program SIGPIPE ended."""
    files = []
    for i in range(1000):  # (about 200 KB of output: more than a pipe holds)
        files.append(tmp_path / f"f{i}.txt")
        files[-1].write_text(f"file {i}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hashmatch", "hash", *map(str, files)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "HASHMATCH_DEBUG": ""},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline()
    proc.stdout.close()
    errors = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == ExitCode.OUTPUT_CLOSED
    assert errors == ""
