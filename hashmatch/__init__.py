"""hashmatch: find known images on seized media.

Walks folders and disk images, computes cryptographic and perceptual hashes of every
file, compares them with imported hash sets and writes an evidence report. The library
never prints, exits or imports click; the command line lives in ``hashmatch.cli``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hashmatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
