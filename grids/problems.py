"""Problems found in input: each names the row or feature, the field and the reason, so that a
person can find and fix it. Imports collect them all; the API answers them as HTTP 400."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    row: int | None = None
    field: str | None = None
    feature: str | None = None
    location: tuple[float, float] | None = None
    severity: Literal["error", "warning"] = "error"
    # For problems drawn on a map (overlaps, gaps): how large, and where (a GeoJSON dict).
    area_m2: float | None = None
    geometry: dict | None = None
    # The offending value as the input gave it (imports write it to their problem report).
    value: str | None = None

    def as_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value is not None}

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.feature:
            where.append(self.feature)
        if self.field:
            where.append(f"field {self.field}")
        if self.location:
            where.append(f"at {self.location[0]:.6f},{self.location[1]:.6f}")
        prefix = ", ".join(where)
        return f"{self.severity}: {prefix + ': ' if prefix else ''}{self.message} [{self.code}]"


@dataclass
class ProblemsError(Exception):
    """Input was refused; nothing was written."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(str(problem) for problem in self.problems[:20])
