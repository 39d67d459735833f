"""Disk images (raw, split raw, EWF/E01) as evidence, read through The Sleuth Kit."""

from hashmatch.sources.image.imgio import has_disk_signature, sniff_container
from hashmatch.sources.image.source import ImageSource, probe_raw

__all__ = ["ImageSource", "has_disk_signature", "probe_raw", "sniff_container"]
