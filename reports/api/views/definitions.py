"""Indicators defined as data (issue #17): the subjects a definition may count and their
fields, and a definition checked and previewed (the region's figure and its grids with the
highest values) before it is stored. A definition is stored on an indicator through the
indicators API (`source: derived`, `definition: {...}`)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import scoping
from grids.problems import Problem, ProblemsError
from reports import definitions, subjects
from reports.api.params import DEFINERS, P_PERIOD, P_REGION, parse_period, period_of, region_of
from reports.definitions.validation import OPS

EXAMPLE = {
    "subject": "residents",
    "where": [{"field": "age", "op": ">=", "value": 80}],
    "measure": "count",
    "time": "stock",
}


def check_definer(user) -> None:
    if user.role not in DEFINERS and not scoping.sees_everything(user):
        raise PermissionDenied(_("indicators are defined by the district or a department"))


def field_row(f: subjects.Field) -> dict:
    row = {
        "name": f.name,
        "label": str(f.label),
        "kind": f.kind,
        "ops": list(OPS[f.kind]),
        "flow": f.flow,
        "measurable": f.measurable,
        "hierarchical": f.kind == subjects.CODE,
        "personal": f.personal,
    }
    if f.choices is not None:
        row["choices"] = [{"code": code, "name": str(name)} for code, name in f.choices()]
    if f.levels is not None:
        row["levels"] = {code: levels for code, levels in f.levels().items() if levels}
    return row


SUBJECTS_RESPONSE = inline_serializer(
    "DefinitionSubjects",
    {
        "subjects": serializers.ListField(
            child=inline_serializer(
                "DefinitionSubject",
                {
                    "key": serializers.CharField(),
                    "label": serializers.CharField(),
                    "unit": serializers.CharField(),
                    "stock": serializers.BooleanField(),
                    "stock_means": serializers.CharField(),
                    "fields": serializers.ListField(child=serializers.DictField()),
                },
            )
        ),
        "ops": serializers.ListField(child=serializers.CharField()),
    },
)

PREVIEW_REQUEST = inline_serializer(
    "DefinitionPreviewRequest",
    {
        "definition": serializers.JSONField(),
        "period": serializers.CharField(required=False, help_text="2026-10, 2026-Q4 …"),
        "region": serializers.CharField(required=False, help_text="region code (default: yours)"),
    },
)

PREVIEW_RESPONSE = inline_serializer(
    "DefinitionPreview",
    {
        "description": serializers.CharField(),
        "period": serializers.CharField(),
        "on": serializers.DateField(),
        "region": serializers.DictField(),
        "total": serializers.DecimalField(max_digits=20, decimal_places=4),
        "grid_count": serializers.IntegerField(),
        "grids_with_value": serializers.IntegerField(),
        "grids": serializers.ListField(child=serializers.DictField()),
    },
)


class SubjectsView(APIView):
    """What a definition may count: each subject registered by an app, its fields with the
    operators they take, the codes of catalogue fields (tags with their levels, unit types,
    incident categories) and which dates a flow may be counted within."""

    @extend_schema(responses=SUBJECTS_RESPONSE)
    def get(self, request):
        check_definer(request.user)
        rows = [
            {
                "key": s.key,
                "label": str(s.label),
                "unit": s.unit,
                "stock": s.stock,
                "stock_means": str(s.stock_means),
                "fields": [field_row(f) for f in s.fields.values()],
            }
            for s in subjects.all_subjects()
        ]
        return Response({"subjects": rows, "ops": definitions.ALL_OPS})


class PreviewView(APIView):
    """Check a definition and, when it has no problem, compute it for a period (default:
    the last complete month) under a region (default: yours): the region's figure, how many
    grids have a value and the grids with the highest. Problems answer 400, each naming its
    place in the definition (`where.0.op`)."""

    @extend_schema(
        request=PREVIEW_REQUEST,
        responses=PREVIEW_RESPONSE,
        parameters=[P_PERIOD, P_REGION],
        examples=[
            OpenApiExample("80岁以上老人", value={"definition": EXAMPLE, "period": "2026-10"})
        ],
    )
    def post(self, request):
        check_definer(request.user)
        data = request.data if isinstance(request.data, dict) else {}
        if "definition" not in data:
            raise ProblemsError(
                [Problem("missing", _("a definition is required"), field="definition")]
            )
        problems = definitions.validate(data["definition"], request.user)
        if problems:
            raise ProblemsError(
                [
                    Problem(p.code, p.message, field=f"definition.{p.field}", value=p.value)
                    if p.field != "definition"
                    else p
                    for p in problems
                ]
            )
        raw = data.get("period")
        period = parse_period(str(raw), "period") if raw else period_of(request)
        region = region_of(request)
        return Response(
            definitions.preview(
                data["definition"],
                region,
                period,
                small_cells=not scoping.sees_personal_data(request.user),
            )
        )
