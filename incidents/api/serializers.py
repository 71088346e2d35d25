from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from grids.api.fields import MomentField, PlannedDateField, PointField
from incidents.models import (
    Category,
    Incident,
    IncidentEvent,
    IncidentPhoto,
    Level,
    Priority,
    Source,
    Task,
    Visit,
    WhistleClass,
)
from incidents.services.transitions import RULES, allowed_actions


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Category
        fields = ["code", "name", "parent", "department", "deadlines", "escalate_when_overdue"]


class WhistleClassSerializer(serializers.ModelSerializer):
    class Meta:
        model = WhistleClass
        fields = ["code", "name", "acknowledge_hours", "report_back_hours"]


class IncidentSerializer(serializers.ModelSerializer):
    """An incident in a queue. `version` is sent back with every step."""

    category = serializers.SlugRelatedField(slug_field="code", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    grid = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    whistle_class = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    location = PointField(read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "category",
            "category_name",
            "priority",
            "source",
            "status",
            "level",
            "department",
            "whistle_class",
            "grid",
            "community",
            "street",
            "district",
            "location",
            "reported_at",
            "due_at",
            "step_overdue",
            "overdue_count",
            "rework_count",
            "closed_at",
            "version",
        ]


class IncidentRowSerializer(serializers.Serializer):
    """A queue row, from `Incident.objects.queue_rows()` (dicts, not instances): the same
    fields as IncidentSerializer, a third of the time per page."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    category = serializers.CharField(source="category_code")
    category_name = serializers.CharField()
    priority = serializers.CharField()
    source = serializers.CharField()
    status = serializers.CharField()
    level = serializers.CharField()
    department = serializers.CharField(source="department_code", allow_null=True)
    whistle_class = serializers.CharField(source="whistle_code", allow_null=True)
    grid = serializers.CharField(source="grid_code", allow_null=True)
    community = serializers.IntegerField(source="community_id", allow_null=True)
    street = serializers.IntegerField(source="street_id", allow_null=True)
    district = serializers.IntegerField(source="district_id", allow_null=True)
    location = serializers.SerializerMethodField()
    reported_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    step_overdue = serializers.BooleanField()
    overdue_count = serializers.IntegerField()
    rework_count = serializers.IntegerField()
    closed_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField()

    @extend_schema_field(PointField)
    def get_location(self, row) -> dict:
        return {"type": "Point", "coordinates": [round(row["lon"], 7), round(row["lat"], 7)]}

    def to_representation(self, row):
        # The fields above describe the row for the schema; writing it directly here is the
        # same output (tested against IncidentSerializer) without a field object per value.
        out = {name: row[source] for name, source in ROW_FIELDS}
        out["location"] = self.get_location(row)
        for name in ("reported_at", "due_at", "closed_at"):
            out[name] = _iso(out[name])
        return out


def _iso(value):
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


ROW_FIELDS = [
    (name, field.source or name)
    for name, field in IncidentRowSerializer().fields.items()
    if name != "location"
]


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    photos = serializers.SerializerMethodField()

    class Meta:
        model = IncidentEvent
        fields = [
            "id",
            "action",
            "from_status",
            "to_status",
            "level",
            "department",
            "actor",
            "at",
            "comment",
            "data",
            "photos",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_photos(self, event) -> list[int]:
        return [photo.pk for photo in event.photos.all()]


class PhotoSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = IncidentPhoto
        fields = ["id", "url", "width", "height", "at", "event"]

    def get_url(self, photo) -> str:
        return photo.image.url


class IncidentDetailSerializer(IncidentSerializer):
    """One incident with its whole timeline and the steps the asking user may take."""

    events = EventSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    reporter = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    allowed_actions = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = IncidentSerializer.Meta.fields + [
            "description",
            "reporter",
            "dispatcher_level",
            "handler_level",
            "merged_into",
            "department_score",
            "satisfaction",
            "allowed_actions",
            "events",
            "photos",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, incident) -> list[str]:
        return allowed_actions(self.context["request"].user, incident)


class ReportSerializer(serializers.Serializer):
    """A report (上报): JSON, or multipart with `photos` files."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(max_length=20)
    priority = serializers.CharField(required=False, default=Priority.NORMAL)
    source = serializers.CharField(required=False, default=Source.PATROL)
    location = PointField(help_text=_("a GeoJSON point in WGS84"))
    client_key = serializers.UUIDField(required=False, allow_null=True)
    grid = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("the grid code, when the point lies near a grid edge"),
    )
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, write_only=True
    )

    def validate_location(self, value):
        if value.geom_type != "Point":
            raise serializers.ValidationError(_("the location is a point"), code="not_a_point")
        if value.srid in (None, 4326) and not (-180 <= value.x <= 180 and -90 <= value.y <= 90):
            raise serializers.ValidationError(
                _("longitude, latitude in degrees"), code="not_degrees"
            )
        value.srid = 4326
        return value


class StepSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(RULES))
    version = serializers.IntegerField(min_value=1)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    department = serializers.CharField(required=False, allow_null=True, default=None)
    whistle_class = serializers.CharField(required=False, allow_null=True, default=None)
    to_level = serializers.ChoiceField(
        choices=Level.choices, required=False, allow_null=True, default=None
    )
    score = serializers.IntegerField(required=False, allow_null=True, default=None)
    target = serializers.IntegerField(required=False, allow_null=True, default=None)
    photos = serializers.ListField(
        child=serializers.FileField(), required=False, default=list, write_only=True
    )


class DuplicateSerializer(serializers.Serializer):
    incident = IncidentSerializer()
    metres = serializers.FloatField()


class MetricsRowSerializer(serializers.Serializer):
    key = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    cases = serializers.IntegerField()
    closed = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    reworked = serializers.IntegerField()
    overdue_open = serializers.IntegerField()
    closure_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    rework_rate = serializers.FloatField(allow_null=True)
    satisfaction = serializers.FloatField(allow_null=True)
    department_score = serializers.FloatField(allow_null=True)
    mean_hours = serializers.DictField(child=serializers.FloatField())


class TaskSerializer(serializers.ModelSerializer):
    grid = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    targets = serializers.IntegerField(read_only=True, source="target_count")
    visited = serializers.IntegerField(read_only=True, source="visited_count")

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "kind",
            "grid",
            "assignee",
            "due_on",
            "done_at",
            "targets",
            "visited",
        ]


class TaskFiguresRowSerializer(serializers.Serializer):
    """Completion of the tasks of one grid or one worker (`key` and `label` are null for the
    tasks given to no one)."""

    key = serializers.IntegerField(allow_null=True)
    label = serializers.CharField(allow_null=True)
    tasks = serializers.IntegerField()
    done = serializers.IntegerField()
    done_on_time = serializers.IntegerField()
    overdue = serializers.IntegerField()
    visits = serializers.IntegerField()
    flagged_visits = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True)


class TaskCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    grid = serializers.CharField(help_text=_("grid code"))
    due_on = PlannedDateField()
    tag = serializers.CharField(required=False, allow_null=True, default=None)
    assignee = serializers.CharField(
        required=False, allow_null=True, default=None, help_text=_("username of a grid worker")
    )


class VisitSerializer(serializers.ModelSerializer):
    worker = serializers.SlugRelatedField(slug_field="username", read_only=True)
    location = PointField()

    class Meta:
        model = Visit
        fields = [
            "id",
            "client_key",
            "household",
            "worker",
            "location",
            "distance_m",
            "flagged",
            "visited_at",
            "note",
        ]
        read_only_fields = fields


class VisitCreateSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    location = PointField(help_text=_("where the worker's phone was: a GeoJSON point"))
    client_key = serializers.UUIDField(required=False, allow_null=True, default=None)
    visited_at = MomentField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")
