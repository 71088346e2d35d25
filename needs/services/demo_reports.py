"""The needs' part of the demo district's 一表通 (issue #20, review F6): the organisation
department's form (党员双报到与微心愿服务月报表, reports/catalogue.py) and the needs
figures of the months that are over, kept (reports.services.snapshots).

A fresh `manage.py demo` installs the form with the rest of the catalogue (the reports demo
runs before this app's) and the needs month then only needs its figures kept. A demo built
before the needs app has its catalogue already, and the reports demo refuses a district
that has a ledger; `install_catalogue` would also delete and recreate every template (their
generated reports and reminders go with them). So this step only adds what is missing: the
catalogue's templates whose code no template has (columns, layout and department as the
reports demo writes them), and the kept figures of the needs' past months. Run by
`demo --if-empty` (needs.services.demo.missing() says when) and after the needs month is
built; a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from grids.models import Department, Grid, Region
from grids.services import demo as grids_demo
from needs import indicators as needs_indicators
from needs.models import Need
from reports import catalogue, derived
from reports.models import DerivedSnapshot, Indicator, ReportTemplate, TemplateColumn
from reports.periods import Period, PeriodType
from reports.services import snapshots
from reports.services.demo import layout
from reports.services.indicators import sync_derived

log = logging.getLogger(__name__)


@dataclass
class NeedsReportsResult:
    forms_installed: int
    figures_kept: int


def missing_templates() -> list[catalogue.Template]:
    """The catalogue's templates not installed, when the catalogue is (the reports demo ran);
    none when it is not: the reports demo installs the whole catalogue when it is built."""
    codes = [t.code for t in catalogue.TEMPLATES]
    have = set(ReportTemplate.objects.filter(code__in=codes).values_list("code", flat=True))
    if not have:
        return []
    return [t for t in catalogue.TEMPLATES if t.code not in have]


@transaction.atomic
def install_missing_templates() -> list[ReportTemplate]:
    """Create the catalogue's missing templates (missing_templates) with their department,
    columns and Excel layout; a template whose indicators are not all there is left out
    (logged). Existing templates are not touched."""
    specs = missing_templates()
    if not specs:
        return []
    # The derived indicators exist after migrate; once more in case an app was added since.
    sync_derived()
    district = (
        Region.objects.current().filter(code=grids_demo.DISTRICT_CODE, level="district").first()
    )
    names = dict(catalogue.DEPARTMENTS)
    installed = []
    for spec in specs:
        codes = [code for code, _ in spec.columns]
        indicators = {i.code: i for i in Indicator.objects.filter(code__in=codes)}
        if len(indicators) < len(set(codes)) or district is None:
            log.warning(
                "template %s not installed: indicators %s missing",
                spec.code,
                sorted(set(codes) - set(indicators)),
            )
            continue
        owner, _ = Department.objects.get_or_create(
            code=spec.owner, defaults={"name": names[spec.owner], "district": district}
        )
        template = ReportTemplate.objects.create(
            owner=owner,
            code=spec.code,
            title=spec.title,
            row_level=spec.row_level,
            period_type=spec.period_type,
            due_day=spec.due_day,
            layout=layout(spec, indicators),
        )
        TemplateColumn.objects.bulk_create(
            TemplateColumn(template=template, order=n, indicator=indicators[code], heading=heading)
            for n, (code, heading) in enumerate(spec.columns, 1)
        )
        installed.append(template)
    return installed


def _needs_indicators() -> list[Indicator]:
    return list(
        Indicator.objects.derived().filter(derivation__in=needs_indicators.KEYS).order_by("pk")
    )


def past_months(today: dt.date | None = None) -> list[Period]:
    """The months that are over since the first need was raised (at most the snapshots'
    KEEP_MONTHS), oldest first."""
    today = today or timezone.localdate()
    first = Need.objects.aggregate(first=Min("raised_at"))["first"]
    if first is None:
        return []
    month = Period.containing(today, PeriodType.MONTH).previous()
    oldest = max(
        Period.containing(timezone.localdate(first), PeriodType.MONTH).start,
        month.shifted(1 - snapshots.KEEP_MONTHS).start,
    )
    months = []
    while month.start >= oldest:
        months.append(month)
        month = month.previous()
    return months[::-1]


def _grids(period: Period) -> list[int]:
    return list(Grid.objects.valid_on(period.last_day).values_list("pk", flat=True))


def figures_missing(today: dt.date | None = None) -> bool:
    """Whether a needs figure of a past month is not kept for every grid of that month."""
    months = past_months(today)
    if not months:
        return False
    wanted = _needs_indicators()
    for period in months:
        kept = DerivedSnapshot.objects.filter(
            indicator__in=wanted, period_type=period.type, period_start=period.start
        ).count()
        if kept < len(wanted) * len(_grids(period)):
            return True
    return False


def keep_figures(today: dt.date | None = None) -> int:
    """Compute and keep the needs figures of every past month for every grid; what is kept
    already is read, not computed again. Returns the cells newly kept."""
    wanted = _needs_indicators()
    together = frozenset(i.pk for i in wanted)
    kept = 0
    for period in past_months(today):
        before = DerivedSnapshot.objects.filter(
            indicator__in=together, period_type=period.type, period_start=period.start
        ).count()
        context = derived.Context(period, _grids(period))
        for indicator in wanted:
            snapshots.grid_values(indicator, context, together)
        kept += (
            DerivedSnapshot.objects.filter(
                indicator__in=together, period_type=period.type, period_start=period.start
            ).count()
            - before
        )
    return kept


def missing(today: dt.date | None = None) -> bool:
    return bool(missing_templates()) or figures_missing(today)


def bring_up_to_date(today: dt.date | None = None) -> NeedsReportsResult:
    """The 组织部 form (and any other template of the catalogue not installed) and the needs
    figures of the past months, kept: what `demo --if-empty` adds to an older demo."""
    forms = install_missing_templates()
    return NeedsReportsResult(forms_installed=len(forms), figures_kept=keep_figures(today))
