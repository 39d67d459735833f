"""What the command sets up before numpy is first imported: OpenBLAS with one thread.

numpy starts an OpenBLAS thread for each further core when it is imported, and they
spin a while waiting for work that never comes (hashmatch makes no BLAS calls): 0.2 s of
processor time on every command on a 2-core machine (import of the command 0.77 s of
CPU, 0.55 s with one thread; 2026-12-03), taken from an import's worker processes and
a scan's hashing. A value the user set is kept.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
