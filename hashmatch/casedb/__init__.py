"""The case database: the durable record of one scan that every report is rendered from."""

from hashmatch.casedb.database import CaseDatabase, FileOutcome, Thumbnail
from hashmatch.casedb.reader import read_report
from hashmatch.casedb.schema import CASE_DB

__all__ = ["CASE_DB", "CaseDatabase", "FileOutcome", "Thumbnail", "read_report"]
