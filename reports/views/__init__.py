"""The pages of 一表通 (#5): the reports hub with one-click generation, the ledger of a unit
and period, completeness, the burden before and now, bringing a department's Excel form in,
and the shared indicator catalogue. Data comes only through the scoped querysets and the
services here, and the API (/api/reports/...) from the pages' scripts.

One module per page (or pair of pages), sharing reports.views.common; every view and name
the URLs and other modules use stays importable from `reports.views`.
"""

from reports.views.burden import burden_page
from reports.views.catalogue import form_import, indicators_page
from reports.views.common import (
    DEFINERS,
    GENERATORS,
    LEVEL_LABELS,
    PERIOD_CHOICES,
    STATUS_LABELS,
    STATUS_ORDER,
    UNIT_ROWS,
    last_complete,
    may_generate,
    may_import,
    period_options,
    running_option,
)
from reports.views.completeness import completeness_page
from reports.views.definitions import definitions_page
from reports.views.hub import hub
from reports.views.ledger import ledger_page

__all__ = [
    "DEFINERS",
    "GENERATORS",
    "LEVEL_LABELS",
    "PERIOD_CHOICES",
    "STATUS_LABELS",
    "STATUS_ORDER",
    "UNIT_ROWS",
    "burden_page",
    "completeness_page",
    "definitions_page",
    "form_import",
    "hub",
    "indicators_page",
    "last_complete",
    "ledger_page",
    "may_generate",
    "may_import",
    "period_options",
    "running_option",
]
