"""Where the hash-set store lives when the user does not say: $HASHMATCH_HOME, else the
per-user data folder of the platform."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def default_store_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("HASHMATCH_HOME"):
        return Path(env["HASHMATCH_HOME"]).expanduser()
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "hashmatch"
