"""Change sets over the API: what a desktop GIS or a script sends (operations with GeoJSON
geometry, one serializer per operation so that a bad parameter is named), and what it gets
back (the change set with the caller's rights, the proposed grids, validation problems and
the impact preview as GeoJSON FeatureCollections)."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from boundaries.models import ChangeSet, Kind, Status
from boundaries.services import editing
from grids import limits

GEOMETRY_SCHEMA = {
    "type": "object",
    "description": "a GeoJSON geometry in WGS84 (EPSG:4326) longitude/latitude",
    "properties": {
        "type": {"type": "string"},
        "coordinates": {"type": "array", "items": {}},
    },
    "required": ["type", "coordinates"],
}


@extend_schema_field(GEOMETRY_SCHEMA)
class GeoJSONField(serializers.Field):
    """A GeoJSON geometry (or a Feature of one), as an object or as text. Only its shape is
    checked here; the editing services read it and answer an invalid ring with GEOS's
    reason, named by grid code."""

    default_error_messages = {
        "invalid": _("expected a GeoJSON geometry: an object with type and coordinates"),
        "not_json": _("not GeoJSON: {reason}"),
    }

    def to_internal_value(self, data) -> dict:
        if isinstance(data, str):
            try:
                data = limits.load_json(data)
            except ValueError as exc:
                self.fail("not_json", reason=str(exc))
        if isinstance(data, dict) and data.get("type") == "Feature":
            data = data.get("geometry")
        if not isinstance(data, dict) or "type" not in data or "coordinates" not in data:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


# --- operations -----------------------------------------------------------------------------


class OperationSerializer(serializers.Serializer):
    """Common to every edit: `expected_version` is the change set's version the client last
    saw; a change set edited meanwhile (another tab) answers 409 `changeset_version`."""

    expected_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        default=None,
        help_text=_("the change set's version the edit was made on"),
    )


def _op(name: str) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=[name])


class CodeOperationSerializer(OperationSerializer):
    code = serializers.CharField(max_length=15, help_text=_("code of the grid"))


class ReshapeOperationSerializer(CodeOperationSerializer):
    """The grid's new boundary as drawn; neighbours of its community give up or take the
    ground that changed hands."""

    op = _op("reshape")
    geometry = GeoJSONField(help_text=_("the new boundary: a Polygon or MultiPolygon"))
    adjust_neighbours = serializers.BooleanField(required=False, default=True)


class SplitOperationSerializer(CodeOperationSerializer):
    """A line crossing the grid: the largest part keeps it, the others become new grids."""

    op = _op("split")
    line = GeoJSONField(help_text=_("a LineString crossing the grid"))


class MergeOperationSerializer(OperationSerializer):
    """Grids of one community sharing an edge become one: `keep` (default the first)."""

    op = _op("merge")
    codes = serializers.ListField(
        child=serializers.CharField(max_length=15), min_length=2, help_text=_("grid codes")
    )
    keep = serializers.CharField(max_length=15, required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if len(set(attrs["codes"])) != len(attrs["codes"]):
            raise serializers.ValidationError(
                {"codes": [_("each grid once")]}, code="duplicate_code"
            )
        if attrs["keep"] is not None and attrs["keep"] not in attrs["codes"]:
            raise serializers.ValidationError(
                {"keep": [_("the grid to keep is one of the merged codes")]}, code="invalid"
            )
        return attrs


class AddOperationSerializer(OperationSerializer):
    """A new grid drawn on ground of a community that no grid covers."""

    op = _op("add")
    geometry = GeoJSONField(help_text=_("the new grid as drawn: a Polygon or MultiPolygon"))
    code = serializers.CharField(
        max_length=15,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("default: the next free code of the community"),
    )
    name = serializers.CharField(max_length=100, required=False, allow_null=True, default=None)


class SetGeometryOperationSerializer(CodeOperationSerializer):
    """The grid's boundary replaced exactly as given, neighbours untouched (for a desktop
    GIS that has already fitted the neighbours)."""

    op = _op("set_geometry")
    geometry = GeoJSONField(help_text=_("the new boundary: a Polygon or MultiPolygon"))


class RetireOperationSerializer(CodeOperationSerializer):
    op = _op("retire")


class RenameOperationSerializer(CodeOperationSerializer):
    op = _op("rename")
    name = serializers.CharField(max_length=100)


class RevertOperationSerializer(CodeOperationSerializer):
    """Drop the change set's edit of a grid: it keeps its current boundary."""

    op = _op("revert")


OPERATIONS: dict[str, type[OperationSerializer]] = {
    "reshape": ReshapeOperationSerializer,
    "split": SplitOperationSerializer,
    "merge": MergeOperationSerializer,
    "add": AddOperationSerializer,
    "set_geometry": SetGeometryOperationSerializer,
    "retire": RetireOperationSerializer,
    "rename": RenameOperationSerializer,
    "revert": RevertOperationSerializer,
}

OPERATION_REQUEST = PolymorphicProxySerializer(
    component_name="BoundaryOperation",
    serializers=OPERATIONS,
    resource_type_field_name="op",
)


class OpSerializer(serializers.Serializer):
    """Reads only `op`, to pick the operation's own serializer."""

    op = serializers.ChoiceField(choices=sorted(OPERATIONS))


# --- change sets ---------------------------------------------------------------------------


class ChangeSetCreateSerializer(serializers.Serializer):
    region = serializers.CharField(
        max_length=12, help_text=_("code of the community (or of the street, to re-grid it)")
    )
    title = serializers.CharField(max_length=200)
    valid_from = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("the day the new boundaries start; empty: the day it is applied"),
    )


class ChangeSetImportSerializer(ChangeSetCreateSerializer):
    file = serializers.FileField(
        help_text=_(
            "the complete new grid layout: GeoPackage, zipped shapefile or GeoJSON, "
            "one polygon per grid"
        )
    )
    layer = serializers.CharField(required=False, allow_null=True, default=None)
    code_field = serializers.CharField(required=False, allow_null=True, default=None)
    name_field = serializers.CharField(required=False, allow_null=True, default=None)
    crs = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "the file's coordinate system when it does not say: EPSG code, CGCS2000, GCJ-02"
        ),
    )


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class RestoreSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        help_text=_("id of the boundary version to go back to (from the grid's history)")
    )


class ChangeSetRowSerializer(serializers.ModelSerializer):
    """A change set in a list."""

    region = serializers.CharField(source="region.code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    author = serializers.CharField(source="author.username", read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    locked = serializers.BooleanField(read_only=True)
    item_count = serializers.IntegerField(read_only=True, help_text=_("grids it changes"))

    class Meta:
        model = ChangeSet
        fields = [
            "id",
            "title",
            "region",
            "region_name",
            "kind",
            "status",
            "author",
            "lock_expires_at",
            "locked",
            "valid_from",
            "version",
            "item_count",
            "created_at",
            "updated_at",
            "submitted_at",
            "applied_at",
        ]
        read_only_fields = fields


class ChangeSetStepSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    operation = serializers.CharField()
    summary = serializers.CharField()
    by = serializers.CharField(source="by.username", default=None, allow_null=True)
    at = serializers.DateTimeField()
    done = serializers.SerializerMethodField(
        help_text=_("at or before the change set's position: undone steps can be redone")
    )

    def get_done(self, step) -> bool:
        return step.number <= self.context["position"]


class ChangeSetEventSerializer(serializers.Serializer):
    action = serializers.CharField()
    by = serializers.CharField(source="by.username", default=None, allow_null=True)
    comment = serializers.CharField()
    at = serializers.DateTimeField()


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    action = serializers.SerializerMethodField()
    grid_id = serializers.IntegerField(allow_null=True)
    community = serializers.CharField(source="community.code")
    base_version = serializers.IntegerField(allow_null=True)

    @extend_schema_field(serializers.ChoiceField(choices=["reshape", "new", "retire"]))
    def get_action(self, item) -> str:
        return item_action(item)


# Whether an item retires its grid, without reading its boundary (annotated as `retiring`).
RETIRING = ExpressionWrapper(Q(geom__isnull=True), output_field=BooleanField())


def item_action(item) -> str:
    """The item's action from the view's `retiring` annotation: its boundary is not read."""
    if item.grid_id is None:
        return "new"
    return "retire" if item.retiring else "reshape"


class PermissionsSerializer(serializers.Serializer):
    """What the caller may do now, so that a client shows only the buttons that work."""

    edit = serializers.BooleanField()
    submit = serializers.BooleanField()
    review = serializers.BooleanField()
    apply = serializers.BooleanField()
    # "return" is a Python keyword: added in get_fields.
    extend = serializers.BooleanField()
    take_over = serializers.BooleanField()
    withdraw = serializers.BooleanField()

    def get_fields(self):
        return {**super().get_fields(), "return": serializers.BooleanField()}


class ChangeSetDetailSerializer(ChangeSetRowSerializer):
    """One change set: its proposed grids (items), the undo history, the author's lock, the
    approval trail and what the caller may do. `version` goes back with every edit."""

    item_count = None  # the items themselves are listed
    region_level = serializers.CharField(source="region.level", read_only=True)
    reviewed_by = serializers.CharField(
        source="reviewed_by.username", read_only=True, default=None, allow_null=True
    )
    applied_by = serializers.CharField(
        source="applied_by.username", read_only=True, default=None, allow_null=True
    )
    can_undo = serializers.SerializerMethodField()
    can_redo = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()
    item_counts = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()
    events = ChangeSetEventSerializer(many=True, read_only=True)
    permissions = serializers.SerializerMethodField()
    applied_summary = serializers.JSONField(read_only=True)

    class Meta(ChangeSetRowSerializer.Meta):
        fields = [
            *(name for name in ChangeSetRowSerializer.Meta.fields if name != "item_count"),
            "region_level",
            "position",
            "can_undo",
            "can_redo",
            "comment",
            "reviewed_by",
            "reviewed_at",
            "applied_by",
            "applied_summary",
            "items",
            "item_counts",
            "steps",
            "events",
            "permissions",
        ]
        read_only_fields = fields

    def get_can_undo(self, change_set) -> bool:
        return editing.can_undo(change_set)

    def get_can_redo(self, change_set) -> bool:
        return any(step.number > change_set.position for step in change_set.steps.all())

    @extend_schema_field(ItemSerializer(many=True))
    def get_items(self, change_set):
        return ItemSerializer(change_set.items.all(), many=True).data

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_item_counts(self, change_set) -> dict:
        counts = {"reshape": 0, "new": 0, "retire": 0}
        for item in change_set.items.all():
            counts[item_action(item)] += 1
        return counts

    @extend_schema_field(ChangeSetStepSerializer(many=True))
    def get_steps(self, change_set):
        return ChangeSetStepSerializer(
            change_set.steps.all(), many=True, context={"position": change_set.position}
        ).data

    @extend_schema_field(PermissionsSerializer)
    def get_permissions(self, change_set) -> dict:
        return self.context["permissions"]


# --- GeoJSON answers -----------------------------------------------------------------------


def feature_collection(name: str, properties: type[serializers.Serializer]):
    """A FeatureCollection serializer for the schema: features whose properties are
    `properties` (the answers are built as plain dicts)."""
    feature = type(
        f"{name}Feature",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=["Feature"]),
            "geometry": GeoJSONField(allow_null=True),
            "properties": properties(),
            "__module__": __name__,
        },
    )
    return type(
        f"{name}Collection",
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=["FeatureCollection"]),
            "features": feature(many=True),
            "__module__": __name__,
        },
    )


class ProposedGridProperties(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    community = serializers.CharField(help_text=_("community code"))
    action = serializers.ChoiceField(choices=["unchanged", "reshape", "new", "retire"])
    grid_id = serializers.IntegerField(allow_null=True, help_text=_("null for a new grid"))
    version = serializers.IntegerField(allow_null=True, help_text=_("the grid's version now"))
    base_version = serializers.IntegerField(
        allow_null=True, help_text=_("the grid's version when the change set first touched it")
    )
    area_m2 = serializers.FloatField(allow_null=True)


ProposedGridCollection = feature_collection("ProposedGrid", ProposedGridProperties)


class BoundaryProblemSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    severity = serializers.ChoiceField(choices=[("error", _("error")), ("warning", _("warning"))])
    field = serializers.CharField(allow_null=True, required=False)
    feature = serializers.CharField(
        allow_null=True, required=False, help_text=_("the grid code concerned")
    )
    area_m2 = serializers.FloatField(allow_null=True, required=False)
    location = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        required=False,
        help_text=_("[longitude, latitude] of a point in the problem"),
    )


class ProblemProperties(BoundaryProblemSerializer):
    pass


ProblemCollection = feature_collection("BoundaryProblem", ProblemProperties)


class SummarySerializer(serializers.Serializer):
    errors = serializers.IntegerField()
    warnings = serializers.IntegerField()


class ValidationSerializer(serializers.Serializer):
    """Problems of the change set as proposed: the list, and drawn (overlaps, gaps) as a
    FeatureCollection whose features carry the same properties."""

    valid = serializers.BooleanField(help_text=_("no errors: it may be submitted"))
    summary = SummarySerializer()
    problems = BoundaryProblemSerializer(many=True)
    features = ProblemCollection()


class OperationResultSerializer(serializers.Serializer):
    change_set = ChangeSetDetailSerializer()
    validation = ValidationSerializer()


class ImpactRowSerializer(serializers.Serializer):
    to = serializers.CharField(allow_null=True, help_text=_("grid code after the change"))
    households = serializers.IntegerField()
    residents = serializers.IntegerField()
    sensors = serializers.IntegerField()
    incidents = serializers.IntegerField()
    tasks = serializers.IntegerField()

    def get_fields(self):
        # "from" is a Python keyword: it cannot be a class attribute.
        fields = super().get_fields()
        return {
            "from": serializers.CharField(
                allow_null=True, help_text=_("grid code before the change")
            ),
            **fields,
        }


class ImpactAreaProperties(serializers.Serializer):
    to = serializers.CharField(allow_null=True)
    area_m2 = serializers.FloatField()

    def get_fields(self):
        return {"from": serializers.CharField(allow_null=True), **super().get_fields()}


class ImpactSerializer(serializers.Serializer):
    """What would move to which grid: counts per old -> new grid, and the pieces of ground
    that change hands."""

    rows = ImpactRowSerializer(many=True)
    totals = serializers.DictField(child=serializers.IntegerField())
    areas = feature_collection("ImpactArea", ImpactAreaProperties)()


class ApplyResultSerializer(serializers.Serializer):
    change_set = ChangeSetDetailSerializer()
    summary = serializers.DictField(help_text=_("what the apply moved, per kind"))


class GridVersionSerializer(serializers.Serializer):
    """One boundary version of a grid."""

    id = serializers.IntegerField()
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    current = serializers.BooleanField()
    area_m2 = serializers.FloatField(allow_null=True)
    change_set = serializers.IntegerField(
        allow_null=True, help_text=_("the change set that made it, when known")
    )
    geometry = GeoJSONField()
