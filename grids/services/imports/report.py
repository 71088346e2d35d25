"""What an import found: every problem (kept in full, shown cut per kind), the counts a
summary prints, and the problem report a person fixes the file from."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from grids.problems import Problem

# Problems of one kind shown on the terminal; the rest are counted (and all go to --report).
SHOWN_PER_KIND = 200

REPORT_COLUMNS = ("severity", "code", "row", "feature", "field", "value", "reason", "lon", "lat")


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


class NullProgress:
    def stage(self, name: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


@dataclass
class ImportReport:
    kind: str
    source: str = ""
    total: int = 0
    written: int = 0
    # Known codes given a new boundary version (--update), and those whose boundary and name
    # were already as in the file.
    updated: int = 0
    unchanged: int = 0
    skipped_existing: int = 0
    flagged: int = 0
    # Households whose residents (and so member counts) an import changes or would change.
    households: int = 0
    committed: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def good(self) -> int:
        """Rows with no error: what a commit would take once the others are fixed."""
        return self.total - len({p.row for p in self.errors if p.row is not None})

    def counts(self, severity: str | None = None) -> Counter:
        """Problems per code (of one severity)."""
        return Counter(p.code for p in self.problems if severity is None or p.severity == severity)

    def shown(self) -> tuple[list[Problem], dict[str, int]]:
        """The problems to print, at most SHOWN_PER_KIND of each code, and how many of each
        code are left out."""
        seen: Counter = Counter()
        shown = []
        for problem in self.problems:
            seen[problem.code] += 1
            if seen[problem.code] <= SHOWN_PER_KIND:
                shown.append(problem)
        return shown, {c: n - SHOWN_PER_KIND for c, n in seen.items() if n > SHOWN_PER_KIND}

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "source": self.source,
            "total": self.total,
            "written": self.written,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped_existing": self.skipped_existing,
            "flagged": self.flagged,
            "good": self.good,
            "committed": self.committed,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }

    def write_csv(self, path: str | Path) -> int:
        """Every problem, one a line (UTF-8 with a BOM, so that Excel opens it as such);
        lon/lat are in the file's own coordinates. Returns how many were written."""
        with Path(path).open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_COLUMNS)
            for p in self.problems:
                lon, lat = p.location if p.location else ("", "")
                writer.writerow(
                    [
                        p.severity,
                        p.code,
                        "" if p.row is None else p.row,
                        p.feature or "",
                        p.field or "",
                        "" if p.value is None else p.value,
                        p.message,
                        lon,
                        lat,
                    ]
                )
        return len(self.problems)


class ImportAborted(Exception):
    """A file that cannot be read at all (its problems are in the report)."""

    def __init__(self, report: ImportReport):
        super().__init__("; ".join(str(p) for p in report.errors[:5]))
        self.report = report
