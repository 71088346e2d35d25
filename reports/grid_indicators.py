"""Derived indicators from the foundation: area, households, residents by tag, grid workers.

`grids` imports no other app, so its figures are registered here, by the owner of the
registry. Stocks are read on the period's last day (today for the current period) with the
boundaries and assignments valid then (grids.services.stats)."""

from __future__ import annotations

from django.contrib.gis.db.models import GeometryField
from django.db.models import Count, FloatField, Func
from django.db.models.functions import Cast

from grids.models import GridBoundary, Role, User, today
from grids.services.stats import current_figures, grid_figures
from reports.derived import Context, register


def _figures(context: Context):
    """Households and residents by tag per grid, read once per period and shared by the
    derivations below: today's from the precomputed figures, a past day's from the tables."""

    def load():
        if context.on == today():
            return current_figures()
        return grid_figures(context.on, context.grid_ids)

    return context.once(f"grid_figures:{context.on}", load)


@register(
    key="grid_area",
    code="AREA_KM2",
    name="网格面积",
    unit="平方千米",
    group="area",
    value_type="decimal",
    aggregation="sum",
    counts=False,
    aliases=("辖区面积", "面积", "占地面积"),
    description="Area of the grid's boundary valid on the period's last day, on the spheroid.",
)
def grid_area(context: Context):
    rows = (
        GridBoundary.objects.valid_on(context.on)
        .filter(grid__in=context.grid_ids)
        .annotate(
            m2=Func(
                Cast("geom", GeometryField(geography=True, srid=4326)),
                function="ST_Area",
                output_field=FloatField(),
            )
        )
        .values_list("grid_id", "m2")
    )
    return {pk: round(m2 / 1_000_000, 4) for pk, m2 in rows}


@register(
    key="households",
    code="POP_HOUSEHOLDS",
    name="户数",
    unit="户",
    group="population",
    aliases=("总户数", "常住户数", "住户数", "家庭户数"),
)
def households(context: Context):
    return {pk: f.households for pk, f in _figures(context).items() if pk is not None}


@register(
    key="residents",
    code="POP_RESIDENTS",
    name="居民人数",
    unit="人",
    group="population",
    aliases=("总人口", "常住人口", "人口数", "居民数", "实有人口"),
)
def residents(context: Context):
    return {pk: f.residents for pk, f in _figures(context).items() if pk is not None}


# Aliases name the same thing only: 户籍人口 is not 居民人数 (it leaves out the floating
# population), 低收入人口 is wider than 低保, 儿童 narrower than 未成年人, 空巢 not 独居 —
# each of those is its own item (a definition by registration or tag, reports.definitions).
_TAGS = {
    "elderly": (
        "POP_ELDERLY",
        "60岁以上老年人数",
        ("老年人口（60周岁及以上）", "60岁以上老人数", "老年人数"),
    ),
    "child": ("POP_CHILDREN", "未成年人数", ("未成年人口", "未成年人")),
    "disabled": ("POP_DISABLED", "残疾人数", ("残疾人口", "持证残疾人数", "残障人士数")),
    "low_income": (
        "POP_LOW_INCOME",
        "低保对象人数",
        ("低保人数", "最低生活保障对象", "低保对象"),
    ),
    "key_population": ("POP_KEY", "重点人员数", ("重点人群", "重点管控人员")),
    "living_alone": ("POP_ALONE", "独居老人数", ("独居老年人数", "独居老年人")),
    "veteran": ("POP_VETERANS", "退役军人数", ("退役军人人数", "退役士兵人数")),
}


def _tag_derivation(tag: str, code: str, name: str, aliases: tuple[str, ...]) -> None:
    def compute(context: Context):
        return {pk: f.tags.get(tag, 0) for pk, f in _figures(context).items() if pk is not None}

    register(
        key=f"residents_{tag}",
        code=code,
        name=name,
        unit="人",
        group="population",
        aliases=aliases,
        description=f"Residents tagged {tag} in households of the grid.",
    )(compute)


for _tag, (_code, _name, _aliases) in _TAGS.items():
    _tag_derivation(_tag, _code, _name, _aliases)


@register(
    key="grid_workers",
    code="ORG_GRID_WORKERS",
    name="网格员人数",
    unit="人",
    group="organisation",
    aliases=("专职网格员数", "网格员数量"),
    description="Active grid workers assigned to the grid today (assignments keep no history).",
)
def grid_workers(context: Context):
    rows = (
        User.objects.filter(role=Role.GRID_WORKER, is_active=True, grid__in=context.grid_ids)
        .values("grid_id")
        .annotate(n=Count("pk"))
        .values_list("grid_id", "n")
    )
    return dict(rows)
