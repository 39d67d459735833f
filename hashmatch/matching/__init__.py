"""Matching: exact lookups (cryptographic), near search (perceptual), thresholds."""

from hashmatch.matching.matcher import Hit, HitType, Matcher, Verdict
from hashmatch.matching.near import NearIndex
from hashmatch.matching.thresholds import Thresholds, parse_threshold, parse_thresholds

__all__ = [
    "Hit",
    "HitType",
    "Matcher",
    "NearIndex",
    "Thresholds",
    "Verdict",
    "parse_threshold",
    "parse_thresholds",
]
