"""A file that kills its worker process costs that file, not the scan.

Decoders are C code fed with hostile data; a segfault must not end a scan, nor make
every ``--resume`` die on the same file. The scan runs as a script that replaces
``hash_item`` with one that ends the *worker* process abruptly on files named
``crash-me``; worker processes import the script too (as ``__mp_main__``), so the
replacement is in force there. The main process never hashes when it has workers.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import multiprocessing
    import os
    import sys

    import hashmatch.pipeline as pipeline

    _real = pipeline.hash_item

    def crashing(source, item, options):
        if "crash-me" in item.path:
            if multiprocessing.current_process().name == "MainProcess":
                raise SystemExit("the main process hashed a file: no isolation")
            os._exit(139)  # what a segfault looks like to the pool
        return _real(source, item, options)

    pipeline.hash_item = crashing

    if __name__ == "__main__":
        from hashmatch.cli import main

        sys.argv = ["hashmatch", *sys.argv[1:]]
        main()
    """
)


def test_a_crashing_file_is_recorded_and_the_scan_completes(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    names = [f"{n:03d}.txt" for n in range(40)]
    for name in names:
        (evidence / name).write_text(f"file {name}\n")
    (evidence / "000-crash-me.jpg").write_bytes(b"\xff\xd8\xff first of the walk")
    (evidence / "020-crash-me.jpg").write_bytes(b"\xff\xd8\xff in the middle")
    script = tmp_path / "scan_with_crashes.py"
    script.write_text(SCRIPT)
    case = tmp_path / "case"
    command = [sys.executable, str(script), "--store", str(tmp_path / "store"), "scan",
               str(evidence), "-o", str(case), "--jobs", "2", "-q"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads((case / "report.json").read_text())
    assert report["summary"]["files"] == len(names) + 2
    crashed = sorted(e["path"] for e in report["errors"] if "worker process died" in e["message"])
    assert crashed == ["000-crash-me.jpg", "020-crash-me.jpg"]
    assert report["summary"]["hashed"] == len(names)
