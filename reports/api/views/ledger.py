"""The ledger (台账) of one unit and period: the sheet, saving values, submitting,
reopening a locked period, and the history of changes."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.api.parsers import JSONParser
from reports.api.params import P_PERIOD, P_UNIT, period_of, unit_of
from reports.api.serializers import (
    LedgerReopenSerializer,
    LedgerSaveSerializer,
    LedgerSubmitSerializer,
)
from reports.services import ledger
from reports.services.values import display


def _item(item: ledger.Item) -> dict:
    ind = item.indicator
    return {
        "indicator": ind.code,
        "name": ind.name,
        "unit": ind.unit,
        "group": ind.group.name,
        "value_type": ind.value_type,
        "choices": ind.choices,
        "min_value": ind.min_value,
        "max_value": ind.max_value,
        "value": display(ind, item.value) if ind.value_type != "boolean" else item.value,
        "version": item.version,
        "previous": item.previous,
        "updated_at": item.updated_at,
        "updated_by": item.updated_by,
        "templates": [t.title for t in item.templates],
    }


def sheet_data(sheet: dict) -> dict:
    unit = sheet["unit"]
    submission = sheet["submission"]
    return {
        "unit": {"code": unit.code, "name": unit.name, "level": sheet["level"]},
        "period": sheet["period"].key,
        "period_label": sheet["period"].label,
        "due": sheet["due"],
        "grace_days": sheet["grace_days"],
        "locked": sheet["locked"],
        "reopened_until": sheet["reopened_until"],
        "submitted_at": submission.submitted_at if submission else None,
        "items": [_item(item) for item in sheet["items"]],
        "derived": [
            {"indicator": i.code, "name": i.name, "unit": i.unit, "value": value}
            for i, value in sheet["derived"]
        ],
        "missing": sheet["missing"],
    }


class LedgerView(APIView):
    """The ledger (台账) of one unit and period: GET the sheet, POST values."""

    parser_classes = [JSONParser]

    @extend_schema(parameters=[P_UNIT, P_PERIOD], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        unit = unit_of(request, request.query_params.get("unit"))
        period = period_of(request)
        return Response(sheet_data(ledger.sheet(unit, period)))

    @extend_schema(request=LedgerSaveSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """Save values in one transaction; an unchanged value writes nothing; a value
        someone changed since the `versions` you send answers 409; a locked period 409."""
        data = LedgerSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unit = unit_of(request, data.validated_data["unit"])
        saved = ledger.save(
            request.user,
            unit,
            data.validated_data["period"],
            data.validated_data["values"],
            versions=data.validated_data.get("versions"),
            client_key=data.validated_data.get("client_key", ""),
        )
        return Response(
            {
                "changed": saved.changed,
                "unchanged": saved.unchanged,
                "versions": saved.versions,
                "warnings": [w.as_dict() for w in saved.warnings],
            }
        )


class LedgerSubmitView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(request=LedgerSubmitSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """Declare the ledger complete; refused (400) while a due value is missing."""
        data = LedgerSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unit = unit_of(request, data.validated_data["unit"])
        period = data.validated_data["period"]
        submission = ledger.submit(
            request.user, unit, period, client_key=data.validated_data.get("client_key", "")
        )
        return Response(
            {"unit": unit.code, "period": period.key, "submitted_at": submission.submitted_at}
        )


class LedgerReopenView(APIView):
    parser_classes = [JSONParser]

    @extend_schema(request=LedgerReopenSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """A higher level reopens a locked period for a unit until a date."""
        data = LedgerReopenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        unit = unit_of(request, data.validated_data["unit"])
        period = data.validated_data["period"]
        reopening = ledger.reopen(
            request.user,
            unit,
            period,
            until=data.validated_data["until"],
            reason=data.validated_data["reason"],
        )
        return Response(
            {"unit": unit.code, "period": period.key, "until": reopening.until},
            status=status.HTTP_201_CREATED,
        )


class LedgerHistoryView(APIView):
    @extend_schema(parameters=[P_UNIT, P_PERIOD], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        """Every change of the unit's values in the period: who, when, from what to what."""
        unit = unit_of(request, request.query_params.get("unit"))
        period = period_of(request)
        return Response(
            [
                {
                    "indicator": r.entry.indicator.code,
                    "version": r.version,
                    "value": r.text if r.number is None else r.number,
                    "previous": r.previous_text if r.previous_number is None else r.previous_number,
                    "by": r.by.username if r.by else "",
                    "at": r.at,
                }
                for r in ledger.history(unit, period)
            ]
        )
