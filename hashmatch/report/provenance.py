"""Provenance: which software produced a report, on which machine, run by whom."""

from __future__ import annotations

import functools
import getpass
import platform
import socket
from importlib.metadata import PackageNotFoundError, version

from hashmatch import __version__
from hashmatch.report.model import ToolInfo

#: Distributions whose versions change hashes or what can be read, recorded in every report.
LIBRARIES = (
    "Pillow",
    "imagehash",
    "pdqhash",
    "numpy",
    "PyWavelets",
    "scipy",
    "pytsk3",
    "libewf-python",
    "pillow-heif",  # optional (hashmatch[heic]): listed when installed, as it decodes HEIC
)


def library_versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


@functools.cache
def tool_info() -> ToolInfo:
    return ToolInfo(
        name="hashmatch",
        version=__version__,
        libraries=tuple(sorted(library_versions().items())),
        python=platform.python_version(),
        platform=platform.platform(),
    )


def host_name() -> str:
    return socket.gethostname()


def user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
