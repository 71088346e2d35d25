"""Tests in several processes (pytest-xdist, `--dist loadfile`) keep the order one process has.

pytest-django sorts the tests as Django does: every test inside a rolled-back transaction
first, then the transactional ones (`transaction=True`, `live_server`), then those without a
database. The order matters: a transactional test ends by emptying every table, and with them
the rows migrations seed (the incident catalogue, the built-in sensor types, the resident tags
and unit types) that the rolled-back tests read. xdist's own `loadfile` sends each file's tests
as one unit, largest files first, so a process would run one file's transactional tests and
then the next file's rolled-back ones on emptied catalogues.

Here a unit is one file's run of consecutive tests in that sorted collection (a file with
tests of two kinds is two units), and units go out in collection order: each process runs
all its rolled-back tests, then its transactional ones, then the rest, as a single process
does. A file's tests of one kind stay in one process, so module-scoped fixtures (the built
demo district) are built once per file and kind, as in one process.
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling


class DjangoOrderScheduling(LoadScopeScheduling):
    """`--dist loadfile` with Django's order kept in every process (module docstring)."""

    _units: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._units is None:
            self._units = {}
            previous, runs = None, {}
            for each in self.collection:
                path = each.split("::", 1)[0]
                if path != previous:
                    runs[path] = runs.get(path, 0) + 1
                    previous = path
                self._units[each] = f"{path}#{runs[path]}"
        return self._units[nodeid]

    def schedule(self) -> None:
        # Units in collection order (xdist would put the largest first, mixing the kinds).
        self.config.option.loadscopereorder = False
        super().schedule()


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadfile":
        return DjangoOrderScheduling(config, log)
    return None
