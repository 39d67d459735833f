"""SIGTERM stops a command as Ctrl-C does: what it left half-made is removed, exit 143.
An import ended so (``timeout``, ``docker stop``) left its work files, hundreds of MB,
in the store until the next import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: Imports a set, sending itself SIGTERM once the first block is written.
_IMPORT = """
import os, signal, sys, time
from hashmatch.cli import _on_sigterm, cli
from hashmatch.hashsets.packed import writer
added = writer.PackedWriter.add
def add(self, block):
    added(self, block)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)  # (the signal's handler raises before this ends)
writer.PackedWriter.add = add
signal.signal(signal.SIGTERM, _on_sigterm(os.getpid()))
cli(["--store", sys.argv[1], "hashset", "import", sys.argv[2]], prog_name="hashmatch")
"""

#: A process forked after the handler is set: it dies of SIGTERM, as without it.
_FORKED = """
import os, signal, time
from hashmatch.cli import _on_sigterm
signal.signal(signal.SIGTERM, _on_sigterm(os.getpid()))
child = os.fork()
if child == 0:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
    os._exit(0)
_, status = os.waitpid(child, 0)
print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM)
"""


def test_an_import_ended_by_sigterm_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    listed = tmp_path / "list.md5"
    listed.write_text("".join(f"{n:032x}  file{n}\n" for n in range(1000)))
    store = tmp_path / "store"
    done = subprocess.run([sys.executable, "-c", _IMPORT, str(store), str(listed)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 143, done.stderr
    assert "hashmatch: terminated (SIGTERM)" in done.stderr
    assert "Traceback" not in done.stderr
    left = [p.relative_to(store) for p in store.rglob("*") if p.is_file()]
    assert all(p.parts[0].startswith("hashsets.") for p in left), left  # no set, no work


def test_a_forked_worker_still_dies_of_sigterm() -> None:
    done = subprocess.run([sys.executable, "-c", _FORKED], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONWARNINGS": "ignore"})  # fmt: skip
    assert done.stdout.strip() == "True", done.stderr


def test_sigterm_left_ignored_by_the_parent_stays_ignored() -> None:
    code = (
        "import signal, sys\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "from hashmatch.cli import main\n"
        "sys.argv = ['hashmatch', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(signal.getsignal(signal.SIGTERM) is signal.SIG_IGN)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.stdout.strip().endswith("True"), done.stdout + done.stderr
