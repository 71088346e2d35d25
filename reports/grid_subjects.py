"""The foundation's subjects for indicators defined as data (reports.subjects): residents,
households, buildings, units, standard addresses, grids and grid workers. `grids` imports no
other app, so they are declared here, by the owner of the registry, as grid_indicators.py
does for the foundation's code-registered figures.

Every row is counted on the grid it belonged to on the period's last day: its grid-history
row valid that day when a boundary change has moved it since, else its grid now
(grids.services.stats.grid_then)."""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import (
    Address,
    Building,
    BuildingUse,
    Grid,
    Household,
    Registration,
    Relation,
    Resident,
    ResidentTagKind,
    Role,
    Sex,
    Theme,
    Unit,
    UnitType,
    User,
    today,
)
from grids.services.stats import grid_then, history_on
from reports.derived import Context
from reports.subjects import (
    CHOICE,
    CODE,
    DATE,
    DATETIME,
    NUMBER,
    REF,
    TAGS,
    TEXT,
    Field,
    age_lookup,
    enum_choices,
    in_grids,
    register,
)


def tag_kinds() -> list[tuple[str, str]]:
    return list(ResidentTagKind.objects.values_list("code", "name"))


def tag_levels() -> dict[str, list[str]]:
    return dict(ResidentTagKind.objects.values_list("code", "levels"))


def unit_types() -> list[tuple[str, str]]:
    return list(UnitType.objects.values_list("code", "name"))


def keyed(rows, context: Context, stock: bool, prefix: str = ""):
    """Rows (existing on the day for a stock) with the grid they were in on that day."""
    on = context.on
    if stock:
        rows = rows.filter(
            Q(**{f"{prefix}removed_on__isnull": True}) | Q(**{f"{prefix}removed_on__gt": on}),
            **{f"{prefix}registered_on__lte": on},
        )
    if on >= today():
        rows = rows.annotate(grid_on=F(f"{prefix}grid_id"))
    else:
        rows = rows.annotate(past=history_on(on, prefix), grid_on=grid_then("past", prefix))
    return in_grids(rows, context.grid_ids)


def lifetime() -> list[Field]:
    return [
        Field("registered_on", _("registered on"), DATE, "registered_on", flow=True),
        Field("removed_on", _("removed on"), DATE, "removed_on", flow=True),
    ]


register(
    "residents",
    _("residents"),
    "人",
    lambda context, stock: keyed(Resident.objects.all(), context, stock, "household__"),
    [
        Field("age", _("age"), NUMBER, "birth_date", lookup=age_lookup("birth_date")),
        Field("birth_date", _("birth date"), DATE, "birth_date", personal=True),
        Field("sex", _("sex"), CHOICE, "sex", choices=enum_choices(Sex)),
        Field(
            "registration",
            _("registration"),
            CHOICE,
            "registration",
            choices=enum_choices(Registration),
        ),
        Field(
            "tags",
            _("tags"),
            TAGS,
            "tags",
            choices=tag_kinds,
            levels=tag_levels,
            level_path="tag_levels",
        ),
        Field(
            "relation",
            _("relation to the head"),
            CHOICE,
            "relation",
            choices=enum_choices(Relation),
        ),
        Field(
            "residence_since",
            _("living here since"),
            DATE,
            "residence_since",
            flow=True,
            personal=True,
        ),
        Field("origin", _("place of origin"), TEXT, "origin", personal=True),
        Field("household", _("household"), REF, "household", measurable=True),
        Field(
            "building_use",
            _("use of the building"),
            CHOICE,
            "household__building__use",
            choices=enum_choices(BuildingUse),
        ),
    ],
    stock_means=_("in the households existing that day"),
)

register(
    "households",
    _("households"),
    "户",
    lambda context, stock: keyed(Household.objects.all(), context, stock),
    [
        Field("member_count", _("members"), NUMBER, "member_count", measurable=True),
        *lifetime(),
        Field(
            "building_use",
            _("use of the building"),
            CHOICE,
            "building__use",
            choices=enum_choices(BuildingUse),
        ),
        Field("building", _("building"), REF, "building", measurable=True),
    ],
)

register(
    "buildings",
    _("buildings"),
    "栋",
    lambda context, stock: keyed(Building.objects.all(), context, stock),
    [
        Field("use", _("use"), CHOICE, "use", choices=enum_choices(BuildingUse)),
        Field("floors", _("floors"), NUMBER, "floors", measurable=True),
        Field("built_year", _("year built"), NUMBER, "built_year"),
        *lifetime(),
    ],
)

register(
    "units",
    _("units"),
    "家",
    lambda context, stock: keyed(Unit.objects.all(), context, stock),
    [
        Field("type", _("unit type"), CODE, "type", choices=unit_types, depth=3),
        Field("employees", _("employees"), NUMBER, "employees", measurable=True),
        *lifetime(),
        Field("building", _("building"), REF, "building", measurable=True),
    ],
)


def address_rows(context: Context, stock: bool):
    # Addresses keep no lifetime or grid history: those created by the day's end, on the
    # grid stored on them.
    rows = Address.objects.annotate(grid_on=F("grid_id"))
    if stock:
        end = timezone.make_aware(dt.datetime.combine(context.on + dt.timedelta(days=1), dt.time()))
        rows = rows.filter(created_at__lt=end)
    return in_grids(rows, context.grid_ids)


register(
    "addresses",
    _("standard addresses"),
    "个",
    address_rows,
    [
        Field("road", _("road / lane"), TEXT, "road"),
        Field("number", _("door number"), TEXT, "number"),
        Field("building_no", _("building number"), TEXT, "building_no"),
        Field("room", _("room"), TEXT, "room"),
        Field("created_at", _("created at"), DATETIME, "created_at", flow=True),
        Field("building", _("building"), REF, "building", measurable=True),
    ],
    stock_means=_("on the grid stored on them"),
)


def grid_rows(context: Context, stock: bool):
    # Each grid valid on the day counts once, in itself.
    grids = Grid.objects.valid_on(context.on).annotate(grid_on=F("pk"))
    return in_grids(grids, context.grid_ids)


register(
    "grids",
    _("grids"),
    "个",
    grid_rows,
    [Field("theme", _("theme"), CHOICE, "theme", choices=enum_choices(Theme))],
)


def grid_worker_rows(context: Context, stock: bool):
    # Assignments keep no history: today's, for any period (as ORG_GRID_WORKERS).
    workers = User.objects.filter(role=Role.GRID_WORKER, is_active=True).annotate(
        grid_on=F("grid_id")
    )
    return in_grids(workers, context.grid_ids)


register(
    "grid_workers",
    _("grid workers"),
    "人",
    grid_worker_rows,
    [],
    stock_means=_("assigned today: assignments keep no history"),
)
