"""一表通 (decision 5, collect once): departments' forms broken into one shared set of
indicators; each is computed by the platform (derived) or entered once per unit and period in
the ledger (collected), and every department's report is generated from them."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import Department, Grid, Region
from reports.periods import Period, PeriodType


class UnitLevel(models.TextChoices):
    """Where in the tree a value is collected, or what a report's rows are."""

    GRID = "grid", _("grid")
    COMMUNITY = "community", _("community")
    STREET = "street", _("street")


class ValueType(models.TextChoices):
    INTEGER = "integer", _("integer")
    DECIMAL = "decimal", _("decimal")
    PERCENTAGE = "percentage", _("percentage")
    TEXT = "text", _("text")
    BOOLEAN = "boolean", _("yes/no")
    CHOICE = "choice", _("choice")


NUMERIC_TYPES = frozenset({ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE})


class Aggregation(models.TextChoices):
    """How values of child units make the parent's value (and sub-periods a period's)."""

    SUM = "sum", _("sum")
    MEAN = "mean", _("mean")
    WEIGHTED_MEAN = "weighted_mean", _("mean weighted by another indicator")
    MIN = "min", _("minimum")
    MAX = "max", _("maximum")
    COUNT = "count", _("count of units with a value")
    LATEST = "latest", _("latest")
    NONE = "none", _("not aggregable")


class TimeAggregation(models.TextChoices):
    """How a coarser period is made of an indicator's own periods: flows add up (incidents
    in a quarter), stocks take the last value (households at the end of the quarter)."""

    SUM = "sum", _("sum over the periods")
    MEAN = "mean", _("mean over the periods")
    LATEST = "latest", _("value of the last period")
    MAX = "max", _("maximum over the periods")


class Source(models.TextChoices):
    DERIVED = "derived", _("derived (computed by the platform)")
    COLLECTED = "collected", _("collected (entered in the ledger)")


class IndicatorGroup(models.Model):
    """A block of base data: the seven blocks (七个板块) or a group a district adds."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("indicator group")
        verbose_name_plural = _("indicator groups")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class IndicatorQuerySet(models.QuerySet):
    def active(self, on: dt.date | None = None):
        on = on or timezone.localdate()
        return self.filter(Q(retired_on__isnull=True) | Q(retired_on__gt=on))

    def collected(self):
        return self.filter(source=Source.COLLECTED)

    def derived(self):
        return self.filter(source=Source.DERIVED)


class Indicator(models.Model):
    """A data item (数据项): defined once, shared by every department's template."""

    code = models.CharField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Stable identifier, e.g. POP_ELDERLY; templates and rules refer to it."),
    )
    name = models.CharField(_("name"), max_length=120)
    aliases = models.JSONField(
        _("other names"),
        default=list,
        blank=True,
        help_text=_("Names departments' forms use for this item; used to match imported forms."),
    )
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    group = models.ForeignKey(
        IndicatorGroup, on_delete=models.PROTECT, related_name="indicators", verbose_name=_("group")
    )
    value_type = models.CharField(_("value type"), max_length=12, choices=ValueType.choices)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("Allowed values of a choice.")
    )
    min_value = models.DecimalField(
        _("minimum"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("maximum"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    aggregation = models.CharField(
        _("aggregation up the tree"), max_length=16, choices=Aggregation.choices
    )
    weight = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("weighted by"),
    )
    time_aggregation = models.CharField(
        _("aggregation over time"),
        max_length=8,
        choices=TimeAggregation.choices,
        default=TimeAggregation.LATEST,
    )
    level = models.CharField(
        _("collected at"), max_length=12, choices=UnitLevel.choices, default=UnitLevel.GRID
    )
    period_type = models.CharField(
        _("period"), max_length=10, choices=PeriodType.choices, default=PeriodType.MONTH
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    derivation = models.CharField(
        _("computation"),
        max_length=60,
        blank=True,
        help_text=_("The registered computation of a derived indicator (reports.derived)."),
    )
    definition = models.JSONField(
        _("definition"),
        null=True,
        blank=True,
        help_text=_(
            "A derived indicator defined as data: subject, filter and measure "
            "(reports.definitions); instead of a registered computation."
        ),
    )
    description = models.TextField(_("description"), blank=True)
    retired_on = models.DateField(_("retired on"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["group__order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source="collected", derivation="", definition__isnull=True)
                | (Q(source="derived") & ~Q(derivation="") & Q(definition__isnull=True))
                | (Q(source="derived", derivation="") & Q(definition__isnull=False)),
                name="indicator_derivation_iff_derived",
            ),
            models.CheckConstraint(
                condition=~Q(aggregation="weighted_mean") | Q(weight__isnull=False),
                name="indicator_weighted_mean_has_weight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.unit}）" if self.unit else self.name

    @property
    def numeric(self) -> bool:
        return self.value_type in NUMERIC_TYPES or self.value_type == ValueType.BOOLEAN

    def retired(self, on: dt.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.retired_on is not None and self.retired_on <= on


class ValidationRule(models.Model):
    """A rule between indicators of one unit and period, as data: `left op factor × right`
    (e.g. elderly ≤ 1 × residents). Broken error rules refuse the save; warnings are shown."""

    class Operator(models.TextChoices):
        LE = "<=", "≤"
        LT = "<", "<"
        EQ = "==", "="
        GE = ">=", "≥"
        GT = ">", ">"

    class Severity(models.TextChoices):
        ERROR = "error", _("error")
        WARNING = "warning", _("warning")

    code = models.SlugField(_("code"), max_length=60, unique=True)
    left = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="rules", verbose_name=_("left")
    )
    operator = models.CharField(_("operator"), max_length=2, choices=Operator.choices)
    right = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("right"),
    )
    factor = models.DecimalField(_("factor"), max_digits=12, decimal_places=4, default=1)
    constant = models.DecimalField(_("constant"), max_digits=20, decimal_places=4, default=0)
    severity = models.CharField(
        _("severity"), max_length=8, choices=Severity.choices, default=Severity.ERROR
    )
    message = models.CharField(_("message"), max_length=200)

    class Meta:
        verbose_name = _("validation rule")
        verbose_name_plural = _("validation rules")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.message


class ReportTemplateQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Every user of a district may read its departments' templates; a department edits
        its own."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if scoping.sees_everything(user):
            return self
        district = scoping.user_district(user)
        return self.filter(owner__district=district) if district else self.none()

    def editable_by(self, user):
        if scoping.sees_everything(user):
            return self
        if user.is_authenticated and user.role == "department" and user.department_id:
            return self.filter(owner=user.department_id)
        if user.is_authenticated and user.role == "district_centre":
            return self.visible_to(user)
        return self.none()

    def active(self):
        return self.filter(active=True)


class ReportTemplate(models.Model):
    """A department's report (报表), defined as columns over shared indicators."""

    owner = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="report_templates",
        verbose_name=_("owner"),
    )
    code = models.SlugField(_("code"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    row_level = models.CharField(
        _("one row per"), max_length=12, choices=UnitLevel.choices, default=UnitLevel.GRID
    )
    period_type = models.CharField(_("period"), max_length=10, choices=PeriodType.choices)
    due_day = models.PositiveSmallIntegerField(
        _("due day"), default=5, help_text=_("Day of the month after the period it is due.")
    )
    grace_days = models.PositiveSmallIntegerField(_("grace days"), default=3)
    remind_days_before = models.PositiveSmallIntegerField(_("remind days before"), default=3)
    layout = models.JSONField(
        _("Excel layout"),
        default=dict,
        blank=True,
        help_text=_(
            "Title, header rows with merged cells, units and footer of the department's form."
        ),
    )
    active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReportTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("report template")
        verbose_name_plural = _("report templates")
        ordering = ["owner__name", "title"]

    def __str__(self) -> str:
        return self.title

    def due_date(self, period: Period) -> dt.date:
        """When a ledger `period` is due for this template: with the template's period that
        ends with it or contains it (a monthly ledger feeds a quarterly template's quarter;
        a yearly ledger first stands in the monthly report of December)."""
        own = Period.containing(period.last_day, self.period_type)
        return own.due_on(self.due_day)


class TemplateColumn(models.Model):
    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="columns")
    order = models.PositiveSmallIntegerField(_("order"))
    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="columns", verbose_name=_("indicator")
    )
    heading = models.CharField(
        _("heading"), max_length=200, blank=True, help_text=_("The department's own wording.")
    )

    class Meta:
        verbose_name = _("template column")
        verbose_name_plural = _("template columns")
        ordering = ["template", "order"]
        constraints = [
            models.UniqueConstraint(fields=["template", "order"], name="template_column_order"),
        ]

    def __str__(self) -> str:
        return self.heading or self.indicator.name


def unit_visible_q(user, prefix: str = "") -> Q:
    """Rows keyed to a ledger unit (a grid, or a community or street) that a user may see:
    their grids, and the regions of their jurisdiction."""
    if scoping.sees_everything(user):
        return Q()
    grids = Q(**{f"{prefix}grid__isnull": False}) & scoping.grid_q(user, f"{prefix}grid__")
    region = scoping.jurisdiction_region(user) if user.role != "grid_worker" else None
    if region is None:
        return grids
    return grids | scoping.region_under_q(region, f"{prefix}region__")


class LedgerEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if scoping.sees_everything(user):
            return self
        return self.filter(unit_visible_q(user))

    def of(self, unit, period: Period):
        return self.filter(unit_filter(unit), period_start=period.start, period_type=period.type)


def unit_filter(unit, prefix: str = "") -> Q:
    if isinstance(unit, Grid):
        return Q(**{f"{prefix}grid": unit.pk, f"{prefix}region__isnull": True})
    return Q(**{f"{prefix}region": unit.pk, f"{prefix}grid__isnull": True})


class UnitKeyed(models.Model):
    """Keyed to one ledger unit: a grid, or a community or street."""

    grid = models.ForeignKey(
        Grid, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    period_type = models.CharField(_("period"), max_length=10, choices=PeriodType.choices)
    period_start = models.DateField(_("period start"))

    class Meta:
        abstract = True

    @property
    def unit(self):
        return self.grid if self.grid_id else self.region

    @property
    def period(self) -> Period:
        return Period(self.period_start, self.period_type)


_ONE_UNIT = Q(grid__isnull=False, region__isnull=True) | Q(grid__isnull=True, region__isnull=False)


class LedgerEntry(UnitKeyed):
    """One collected value of one indicator for one unit and period (台账), entered once
    whatever number of templates need it. Every change is kept in LedgerRevision."""

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="entries")
    number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    text = models.CharField(max_length=500, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=_ONE_UNIT, name="ledger_entry_one_unit"),
            models.UniqueConstraint(
                fields=["indicator", "grid", "period_start"],
                condition=Q(grid__isnull=False),
                name="ledger_entry_once_per_grid",
            ),
            models.UniqueConstraint(
                fields=["indicator", "region", "period_start"],
                condition=Q(region__isnull=False),
                name="ledger_entry_once_per_region",
            ),
        ]
        indexes = [
            models.Index(fields=["indicator", "period_start"], name="ledger_entry_period"),
            models.Index(fields=["grid", "period_start"], name="ledger_entry_grid"),
            models.Index(fields=["region", "period_start"], name="ledger_entry_region"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.period} = {self.value}"

    @property
    def value(self):
        return self.text if self.number is None else self.number


class LedgerRevision(models.Model):
    """Who changed which ledger value when, from what to what. Append-only."""

    entry = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="revisions")
    version = models.PositiveIntegerField()
    number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    text = models.CharField(max_length=500, blank=True)
    previous_number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    previous_text = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    client_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("ledger revision")
        verbose_name_plural = _("ledger revisions")
        ordering = ["entry", "version"]
        constraints = [
            models.UniqueConstraint(fields=["entry", "version"], name="ledger_revision_version"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} v{self.version}"


class LedgerSubmission(UnitKeyed):
    """A unit declared its ledger for a period complete (DHIS2's complete registration):
    the basis of reporting and on-time rates."""

    submitted_at = models.DateTimeField(default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    client_key = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("ledger submission")
        verbose_name_plural = _("ledger submissions")
        constraints = [
            models.CheckConstraint(condition=_ONE_UNIT, name="ledger_submission_one_unit"),
            models.UniqueConstraint(
                fields=["grid", "period_type", "period_start"],
                condition=Q(grid__isnull=False),
                name="ledger_submission_once_per_grid",
            ),
            models.UniqueConstraint(
                fields=["region", "period_type", "period_start"],
                condition=Q(region__isnull=False),
                name="ledger_submission_once_per_region",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.period}"


class LedgerReopening(UnitKeyed):
    """A higher level reopened a locked period for a unit until a date."""

    until = models.DateField(_("open until"))
    reason = models.CharField(_("reason"), max_length=200)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ledger reopening")
        verbose_name_plural = _("ledger reopenings")
        constraints = [
            models.CheckConstraint(condition=_ONE_UNIT, name="ledger_reopening_one_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.period} until {self.until}"


class Reminder(UnitKeyed):
    """A reminder sent for a template and unit: sent once per kind."""

    class Kind(models.TextChoices):
        BEFORE = "before", _("before the due date")
        OVERDUE = "overdue", _("overdue")

    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["template", "kind", "grid", "region", "period_start"],
                name="reminder_once",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template_id} {self.kind} {self.period}"


class ReportRun(models.Model):
    """A generated report: who, which template, period and jurisdiction, in what format."""

    template = models.ForeignKey(ReportTemplate, on_delete=models.CASCADE, related_name="runs")
    period_type = models.CharField(max_length=10, choices=PeriodType.choices)
    period_start = models.DateField()
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=8)
    rows = models.PositiveIntegerField()
    milliseconds = models.PositiveIntegerField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("generated report")
        verbose_name_plural = _("generated reports")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.template_id} {self.period_start} {self.format}"


class FormImport(models.Model):
    """A department's existing Excel form brought in: its parsed header and the proposed
    mapping of each column to an indicator, until the user confirms it as a template."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("proposed")
        CONFIRMED = "confirmed", _("confirmed")

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    layout = models.JSONField(default=dict)
    proposals = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    template = models.ForeignKey(
        ReportTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("imported form")
        verbose_name_plural = _("imported forms")
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.filename


class DerivedSnapshot(models.Model):
    """A derived indicator's value for one grid and one period that is over, kept once
    computed: a past period's figures are read back in one query instead of recomputed
    (a past day's stock is a scan of the household history). Dropped when data is changed
    with effect on or before the period's last day (`grids.changes.data_changed`), and when
    the indicator is edited. A null value is kept too: the grid was computed, it has none."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    period_type = models.CharField(max_length=10, choices=PeriodType.choices)
    period_start = models.DateField()
    # The period's last day: what a back-dated change invalidates (day >= its date).
    day = models.DateField(db_index=True)
    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="+")
    value = models.DecimalField(max_digits=30, decimal_places=10, null=True)

    class Meta:
        verbose_name = _("derived figure kept")
        verbose_name_plural = _("derived figures kept")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "period_type", "period_start", "grid"],
                name="derived_snapshot_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.period_type} {self.period_start} {self.grid_id}"


class SnapshotDrop(models.Model):
    """A back-dated change dropped the snapshots from `since` on at `at`: a computation that
    started before `at` must not write what it read (it may have read the old data)."""

    since = models.DateField()
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("dropped derived figures")
        verbose_name_plural = _("dropped derived figures")

    def __str__(self) -> str:
        return f"{self.since} @ {self.at:%Y-%m-%d %H:%M:%S}"
