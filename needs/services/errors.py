"""What the needs services raise instead of writing: `Stale` when the step was asked on an
older version (409 with the current record), `Refused` when it may not be taken (403 for who
may not, 400 for what may not: a status, a rule, bad input), naming the field."""

from __future__ import annotations

from grids.problems import Problem, ProblemsError

# Codes answered 403: the user may not take this step on this object.
FORBIDDEN = frozenset({"not_allowed", "outside_jurisdiction"})


class Stale(Exception):
    """The object moved on since the client read it; `current` is the locked, current row."""

    def __init__(self, current):
        super().__init__(f"{type(current).__name__} {current.pk} is at version {current.version}")
        self.current = current


class Refused(ProblemsError):
    """A step refused; nothing was written. `status`/`status_code` is the HTTP answer
    (grids.api.errors reads status_code off a ProblemsError)."""

    def __init__(self, code: str, message, field: str | None = None, *, status: int | None = None):
        super().__init__([Problem(code, str(message), field=field)])
        self.code = code
        self.message = str(message)
        self.field = field
        self.status = status or (403 if code in FORBIDDEN else 400)
        self.status_code = self.status

    @classmethod
    def from_problems(cls, error: ProblemsError) -> Refused:
        """One refusal carrying every problem found (photo checks name each file)."""
        first = error.problems[0]
        refused = cls(first.code, first.message, first.field)
        refused.problems = list(error.problems)
        return refused

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
