"""Derived indicators defined as data (issue #17): a subject registered by an app, a filter
over the subject's declared fields and a measure, compiled into one set-based statement per
period for all grids. See reports/subjects.py for the registry of subjects."""

from __future__ import annotations

from decimal import Decimal

from reports.derived import Context


def compute(definition: dict, context: Context) -> dict[int, Decimal]:
    raise NotImplementedError("reports.definitions.compute is being written (issue #17)")
