"""Shared indicators (数据项), their groups and the validation rules between them; an
indicator's values per unit (the map's choropleth) and a unit's trend."""

from __future__ import annotations

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from grids.models import Grid
from reports.api.params import (
    DEFINERS,
    P_LEVEL,
    P_PERIOD,
    P_REGION,
    P_UNIT,
    period_of,
    region_of,
    row_level,
    unit_of,
    visible_units,
)
from reports.api.serializers import IndicatorGroupSerializer, IndicatorSerializer, RuleSerializer
from reports.models import Indicator, IndicatorGroup, ValidationRule
from reports.periods import PeriodType
from reports.services import ledger
from reports.services.values import Values, display, series, tree_under


class IndicatorGroupViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The seven blocks of base data (七个板块) and the groups a district adds."""

    serializer_class = IndicatorGroupSerializer
    queryset = IndicatorGroup.objects.all()
    pagination_class = None

    def perform_create(self, serializer):
        if self.request.user.role not in DEFINERS and not self.request.user.is_superuser:
            raise PermissionDenied(_("groups are added by the district or a department"))
        serializer.save()


class IndicatorViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Shared indicators (数据项). `?source=derived|collected&group=&level=&q=&active=1`.
    `values` gives one period's values per unit (a choropleth); `trend` a unit's values
    over periods."""

    serializer_class = IndicatorSerializer
    lookup_field = "code"
    pagination_class = None

    def get_queryset(self):
        indicators = Indicator.objects.select_related("group", "weight").annotate(
            templates=Count(
                "columns__template", filter=Q(columns__template__active=True), distinct=True
            )
        )
        if self.action != "list":
            # The list's filters: `values` and `trend` read `level` and `period_type` as the
            # rows' level and the periods asked for, not as the indicator's.
            return indicators.order_by("group__order", "code")
        params = self.request.query_params
        for name in ("source", "level", "period_type"):
            if params.get(name):
                indicators = indicators.filter(**{name: params[name]})
        if params.get("group"):
            indicators = indicators.filter(group__code=params["group"])
        if params.get("q"):
            indicators = indicators.filter(
                Q(name__icontains=params["q"]) | Q(code__icontains=params["q"])
            )
        if params.get("active") in ("1", "true"):
            indicators = indicators.active()
        return indicators.order_by("group__order", "code")

    def _check_definer(self):
        user = self.request.user
        if user.role not in DEFINERS and not user.is_superuser:
            raise PermissionDenied(_("indicators are defined by the district or a department"))

    def perform_create(self, serializer):
        self._check_definer()
        serializer.save()

    def perform_update(self, serializer):
        self._check_definer()
        serializer.save()

    @extend_schema(request=None, responses=IndicatorSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, code=None):
        """Retire an indicator from today: kept with its values; templates using it must
        drop it before they generate again."""
        self._check_definer()
        indicator = self.get_object()
        indicator.retired_on = timezone.localdate()
        indicator.save(update_fields=["retired_on"])
        return Response(self.get_serializer(indicator).data)

    @extend_schema(parameters=[P_PERIOD, P_REGION, P_LEVEL], responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def values(self, request, code=None):
        """One period's value per unit of `level` under `region`: the map's choropleth."""
        indicator = self.get_object()
        period = period_of(request, default_type=indicator.period_type)
        region = region_of(request)
        level = row_level(request)
        tree = tree_under(region, min(period.last_day, timezone.localdate()))
        cells = Values(tree, period).at(indicator, level)
        visible = visible_units(request.user, level, cells)
        units = tree.units.get(level, {})
        rows = [
            {
                "id": pk,
                "code": units[pk].code,
                "name": units[pk].name,
                "value": display(indicator, cell.value, level != indicator.level),
            }
            for pk, cell in sorted(cells.items(), key=lambda kv: units[kv[0]].code)
            if pk in visible and pk in units
        ]
        return Response(
            {
                "indicator": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "period": period.key,
                "level": level,
                "values": rows,
            }
        )

    @extend_schema(
        parameters=[
            P_UNIT,
            P_REGION,
            OpenApiParameter("periods", int, description="how many periods (default 12)"),
            OpenApiParameter("end", str, description="the last period (default: last complete)"),
            OpenApiParameter("period_type", str, enum=PeriodType.values),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    @action(detail=True, methods=["get"])
    def trend(self, request, code=None):
        """A unit's (or the region's) value over the last `periods` periods."""
        indicator = self.get_object()
        kind = request.query_params.get("period_type") or indicator.period_type
        if kind not in PeriodType.values:
            raise ValidationError(
                {"period_type": [_("one of %(values)s") % {"values": ", ".join(PeriodType.values)}]}
            )
        end = period_of(request, "end", default_type=kind)
        if end.type != kind:
            raise ValidationError({"end": [_("a %(type)s period") % {"type": kind}]})
        try:
            count = min(max(int(request.query_params.get("periods", 12)), 1), 60)
        except ValueError as error:
            raise ValidationError({"periods": [_("a number")]}) from error
        raw_unit = request.query_params.get("unit")
        if raw_unit:
            unit = unit_of(request, raw_unit)
            root = unit.community if isinstance(unit, Grid) else unit
            level = ledger.level_of(unit)
        else:
            unit = root = region_of(request)
            level = unit.level
        periods = [end.shifted(-i) for i in range(count - 1, -1, -1)]
        points = [
            {
                "period": p.key,
                "label": p.label,
                "value": display(
                    indicator,
                    cells[unit.pk].value if unit.pk in cells else None,
                    level != indicator.level,
                ),
            }
            for p, cells in series(indicator, root, level, periods)
        ]
        return Response(
            {
                "indicator": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "of": {"code": unit.code, "name": unit.name, "level": level},
                "points": points,
            }
        )


class RuleViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Validation rules between indicators, as data (e.g. elderly ≤ residents)."""

    serializer_class = RuleSerializer
    queryset = ValidationRule.objects.select_related("left", "right")
    lookup_field = "code"
    pagination_class = None

    def _check(self):
        if self.request.user.role not in DEFINERS and not self.request.user.is_superuser:
            raise PermissionDenied(_("rules are defined by the district or a department"))

    def perform_create(self, serializer):
        self._check()
        serializer.save()

    def perform_update(self, serializer):
        self._check()
        serializer.save()

    def perform_destroy(self, instance):
        self._check()
        instance.delete()
