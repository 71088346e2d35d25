"""Serializers of the 一表通 API: indicators, rules, templates with their columns, ledger
sheets and saves, completeness, burden and generated reports."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from grids import scoping
from grids.models import Department
from reports import definitions, derived
from reports.models import (
    Aggregation,
    Indicator,
    IndicatorGroup,
    ReportRun,
    ReportTemplate,
    Source,
    TemplateColumn,
    ValidationRule,
    ValueType,
)
from reports.periods import Period
from reports.services import levels


class DistrictDepartmentField(serializers.SlugRelatedField):
    """A department of the requesting user's district, by code (any district's for an
    administrator). Another district's department is answered like one that does not
    exist, and the code sent is not echoed (decision 4)."""

    default_error_messages = {
        "does_not_exist": "no department with this code in your district",
        "invalid": "a department code is expected",
    }

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", queryset=Department.objects.all(), **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return Department.objects.none()
        if scoping.sees_everything(user):
            return Department.objects.all()
        district = scoping.user_district(user)
        return (
            Department.objects.filter(district=district) if district else Department.objects.none()
        )


class PeriodField(serializers.CharField):
    """A period as forms name it: 2026-10, 2026-Q4, 2026-H2 or 2026."""

    def to_internal_value(self, data) -> Period:
        try:
            return Period.parse(str(data))
        except ValueError as error:
            raise serializers.ValidationError(str(error), code="bad_period") from error

    def to_representation(self, value) -> str:
        return value.key if isinstance(value, Period) else str(value)


class IndicatorGroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = IndicatorGroup
        fields = ["code", "name", "order"]


class IndicatorSerializer(serializers.ModelSerializer):
    group = serializers.SlugRelatedField(slug_field="code", queryset=IndicatorGroup.objects.all())
    weight = serializers.SlugRelatedField(
        slug_field="code", queryset=Indicator.objects.all(), required=False, allow_null=True
    )
    templates = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "aliases",
            "unit",
            "group",
            "value_type",
            "choices",
            "min_value",
            "max_value",
            "aggregation",
            "weight",
            "time_aggregation",
            "level",
            "period_type",
            "source",
            "derivation",
            "definition",
            "description",
            "retired_on",
            "templates",
        ]
        read_only_fields = ["retired_on"]

    def validate(self, attrs):
        merged = {**self._current(), **attrs}
        errors = {}
        definition = merged.get("definition")
        if merged.get("source") == Source.DERIVED and definition is not None:
            # Defined as data (issue #17): every problem named by its place in the JSON.
            if merged.get("derivation"):
                errors["derivation"] = _("a definition and a computation: give one of them")
            # Personal fields are refused to a definer without personal-data rights when she
            # writes the definition (not when she renames an item someone else defined).
            request = self.context.get("request")
            definer = request.user if request is not None and "definition" in attrs else None
            problems = definitions.validate(definition, definer)
            if problems:
                errors["definition"] = {
                    p.field or "definition": [ErrorDetail(p.message, code=p.code)] for p in problems
                }
            elif not attrs.get("description") and self._described_by_the_old(attrs):
                # Read out, so that lists and the merge show what it counts; again when the
                # definition changes under the reading of the old one.
                attrs["description"] = definitions.describe(definition)
        elif merged.get("source") == Source.DERIVED:
            key = merged.get("derivation", "")
            if derived.get(key) is None:
                known = ", ".join(sorted(d.key for d in derived.all_derivations()))
                errors["derivation"] = f"{key!r} is not a registered computation ({known})"
        elif merged.get("derivation"):
            errors["derivation"] = "only a derived indicator has a computation"
        elif definition is not None:
            errors["definition"] = _("only a derived indicator has a definition")
        if merged.get("aggregation") == Aggregation.WEIGHTED_MEAN and not merged.get("weight"):
            errors["weight"] = "a weighted mean needs the indicator it is weighted by"
        if merged.get("value_type") == ValueType.CHOICE and not merged.get("choices"):
            errors["choices"] = "a choice needs its allowed values"
        low, high = merged.get("min_value"), merged.get("max_value")
        if low is not None and high is not None and low > high:
            errors["min_value"] = "the minimum is above the maximum"
        # Who types it cannot change once typed: the values stay at the old level.
        if self.instance is not None and (
            problem := levels.level_problem(self.instance, attrs.get("level", self.instance.level))
        ):
            errors["level"] = [ErrorDetail(problem.message, code=problem.code)]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    def _described_by_the_old(self, attrs) -> bool:
        """Whether the stored description is none, or the old definition read out (not a
        person's words) under a definition being changed."""
        current = getattr(self.instance, "description", "")
        if not current:
            return True
        old = getattr(self.instance, "definition", None)
        if old is None or "definition" not in attrs or attrs["definition"] == old:
            return False
        return current == definitions.describe(old)

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {
            f: getattr(self.instance, f)
            for f in (
                "source",
                "derivation",
                "definition",
                "aggregation",
                "weight",
                "value_type",
                "choices",
            )
        } | {"min_value": self.instance.min_value, "max_value": self.instance.max_value}


class RuleSerializer(serializers.ModelSerializer):
    left = serializers.SlugRelatedField(slug_field="code", queryset=Indicator.objects.all())
    right = serializers.SlugRelatedField(
        slug_field="code", queryset=Indicator.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = ValidationRule
        fields = ["code", "left", "operator", "right", "factor", "constant", "severity", "message"]


class ColumnSerializer(serializers.ModelSerializer):
    indicator = serializers.SlugRelatedField(slug_field="code", queryset=Indicator.objects.all())
    name = serializers.CharField(source="indicator.name", read_only=True)
    unit = serializers.CharField(source="indicator.unit", read_only=True)
    source = serializers.CharField(source="indicator.source", read_only=True)

    class Meta:
        model = TemplateColumn
        fields = ["order", "indicator", "heading", "name", "unit", "source"]
        read_only_fields = ["order"]


class TemplateSerializer(serializers.ModelSerializer):
    owner = DistrictDepartmentField()
    owner_name = serializers.CharField(source="owner.name", read_only=True)
    columns = ColumnSerializer(many=True)

    class Meta:
        model = ReportTemplate
        fields = [
            "code",
            "title",
            "owner",
            "owner_name",
            "row_level",
            "period_type",
            "due_day",
            "grace_days",
            "remind_days_before",
            "layout",
            "active",
            "version",
            "columns",
        ]
        read_only_fields = ["version"]

    def validate_columns(self, columns):
        if not columns:
            raise serializers.ValidationError(_("a template needs at least one column"))
        errors = []
        for i, column in enumerate(columns, 1):
            indicator = column["indicator"]
            if indicator.retired():
                errors.append(
                    f"column {i} ({column.get('heading') or indicator.name}): "
                    f"{indicator.code} was retired on {indicator.retired_on}"
                )
        if errors:
            raise serializers.ValidationError(errors, code="retired_indicator")
        return columns

    def validate_owner(self, owner):
        user = self.context["request"].user
        if user.role == "department" and owner.pk != user.department_id:
            raise serializers.ValidationError(
                _("a department defines its own templates"), code="not_yours"
            )
        return owner

    @transaction.atomic
    def create(self, validated):
        columns = validated.pop("columns")
        template = ReportTemplate.objects.create(
            **validated, created_by=self.context["request"].user
        )
        self._columns(template, columns)
        return template

    @transaction.atomic
    def update(self, template, validated):
        columns = validated.pop("columns", None)
        for key, value in validated.items():
            setattr(template, key, value)
        template.version += 1
        template.save()
        if columns is not None:
            template.columns.all().delete()
            self._columns(template, columns)
        return template

    @staticmethod
    def _columns(template, columns):
        TemplateColumn.objects.bulk_create(
            TemplateColumn(
                template=template,
                order=i,
                indicator=column["indicator"],
                heading=column.get("heading", ""),
            )
            for i, column in enumerate(columns, 1)
        )


class LedgerSaveSerializer(serializers.Serializer):
    unit = serializers.CharField(help_text="code of the grid, community or street")
    period = PeriodField()
    values = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="{indicator code: value as typed}",
    )
    versions = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        help_text="{indicator code: the version you saw}; a changed one answers 409",
    )
    client_key = serializers.CharField(required=False, allow_blank=True, max_length=64)


class LedgerSubmitSerializer(serializers.Serializer):
    unit = serializers.CharField()
    period = PeriodField()
    client_key = serializers.CharField(required=False, allow_blank=True, max_length=64)


class LedgerReopenSerializer(serializers.Serializer):
    unit = serializers.CharField()
    period = PeriodField()
    until = serializers.DateField()
    reason = serializers.CharField(max_length=200)


class ReportRunSerializer(serializers.ModelSerializer):
    template = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region = serializers.CharField(source="region.name", read_only=True)
    by = serializers.CharField(source="by.username", read_only=True, default="")

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "template",
            "period_type",
            "period_start",
            "region",
            "format",
            "rows",
            "milliseconds",
            "by",
            "at",
        ]


class FormUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    department = DistrictDepartmentField(required=False)


class FormConfirmSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=60)
    title = serializers.CharField(max_length=200)
    period_type = serializers.CharField()
    row_level = serializers.CharField()
    due_day = serializers.IntegerField(min_value=1, max_value=31, default=5)
    decisions = serializers.ListField(child=serializers.DictField())
