"""The change-set API (/api/boundaries/): everything the map editor does, for a desktop GIS or
a script. Views parse the request, call the boundaries services and serialize; the services
decide who may do what and refuse with a ProblemsError carrying 400/403/409 (answered by
grids/api/errors.py). Change sets outside the caller's jurisdiction are absent: 404."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from boundaries.api import serializers as s
from boundaries.models import (
    ChangeSet,
    ChangeSetEvent,
    ChangeSetItem,
    ChangeSetStep,
    Kind,
    Status,
)
from boundaries.services import apply as apply_service
from boundaries.services import changesets, editing, history, impact, regrid, state, validation
from boundaries.services.geometry import area_m2, to_geojson
from grids.api.parsers import FormParser, MultiPartParser
from grids.models import Grid, GridBoundary, Region
from grids.problems import Problem
from grids.services.imports import ApiParameters

ERROR = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='{"status": n, "errors": [{"code", "message", "field", "feature", ...}]}',
)
REFUSALS = {400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}
# The layout import's form fields, which its messages name instead of the command's options.
LAYOUT_IMPORT_PARAMETERS = ApiParameters(
    layer="layer", crs="crs", encoding=None, columns={"code": "code_field", "name": "name_field"}
)


class ChangeSetPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def validation_body(problems: list[Problem]) -> dict:
    """Problems as a list and as map features: drawn problems (overlaps, gaps) with their
    ground, the others at their location (or without geometry)."""
    listed, features = [], []
    for problem in problems:
        row = problem.as_dict()
        row.setdefault("field", None)
        row.pop("geometry", None)
        if "location" in row:
            row["location"] = list(row["location"])
        listed.append(row)
        geometry = problem.geometry
        if geometry is None and problem.location is not None:
            geometry = {"type": "Point", "coordinates": list(problem.location)}
        features.append({"type": "Feature", "geometry": geometry, "properties": row})
    counts = validation.summary(problems)
    return {
        "valid": counts["errors"] == 0,
        "summary": counts,
        "problems": listed,
        "features": {"type": "FeatureCollection", "features": features},
    }


def grid_features(change_set: ChangeSet, current: bool = False) -> dict:
    """The region's grids as proposed by the change set (or as they are now, with the action
    the change set would take on each) as a FeatureCollection."""
    communities = {c.pk: c.code for c in state.communities_of(change_set)}
    features = []
    for grid in state.proposed(change_set):
        geom = grid.current if current else grid.geom
        if current and grid.action == "new":
            continue
        features.append(
            {
                "type": "Feature",
                "id": grid.code,
                "geometry": to_geojson(geom) if geom is not None else None,
                "properties": {
                    "code": grid.code,
                    "name": grid.name,
                    "community": communities.get(grid.community_id),
                    "action": grid.action,
                    "grid_id": grid.grid_id,
                    "version": grid.version,
                    "base_version": grid.base_version,
                    "area_m2": round(area_m2(geom), 1) if geom is not None else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def detail_queryset(user):
    """Change sets the user may see, with all a detail shows in a fixed number of queries."""
    return (
        ChangeSet.objects.visible_to(user)
        # The regions above, for the caller's rights.
        .select_related("region__parent__parent", "author", "reviewed_by", "applied_by")
        .prefetch_related(
            Prefetch(
                "items",
                ChangeSetItem.objects.select_related("community")
                .defer("geom")
                .annotate(retiring=s.RETIRING)
                .order_by("code"),
            ),
            # The snapshots hold whole boundaries: a list of steps does not read them.
            Prefetch("steps", ChangeSetStep.objects.select_related("by").defer("before", "after")),
            Prefetch("events", ChangeSetEvent.objects.select_related("by")),
        )
    )


def detail_body(user, pk: int) -> dict:
    change_set = get_object_or_404(detail_queryset(user), pk=pk)
    return s.ChangeSetDetailSerializer(
        change_set, context={"permissions": changesets.permissions(change_set, user)}
    ).data


class ChangeSetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Change sets of the regions the user may see. Filters: `status`, `kind`, `region`
    (a community or street code), `mine=1` (the user's own)."""

    queryset = ChangeSet.objects.none()
    serializer_class = s.ChangeSetRowSerializer
    pagination_class = ChangeSetPagination
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        found = ChangeSet.objects.visible_to(self.request.user).select_related("region", "author")
        if self.action == "list":
            params = self.request.query_params
            if params.get("status"):
                wanted = params["status"].split(",")
                if unknown := set(wanted) - set(Status.values):
                    raise ValidationError(
                        {"status": [_("unknown status %(status)s") % {"status": min(unknown)}]}
                    )
                found = found.filter(status__in=wanted)
            if params.get("kind"):
                if params["kind"] not in Kind.values:
                    raise ValidationError({"kind": [_("one of %s") % ", ".join(Kind.values)]})
                found = found.filter(kind=params["kind"])
            if params.get("region"):
                found = found.filter(region__code=params["region"])
            if params.get("mine"):
                found = found.filter(author=self.request.user)
            return found.annotate(item_count=Count("items")).order_by("-created_at", "-id")
        return detail_queryset(self.request.user)

    def _change_set(self, pk) -> ChangeSet:
        return get_object_or_404(ChangeSet.objects.visible_to(self.request.user), pk=pk)

    def _detail(self, pk: int) -> dict:
        return detail_body(self.request.user, pk)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, description="one or more statuses, comma separated"),
            OpenApiParameter("kind", str, enum=Kind.values),
            OpenApiParameter("region", str, description="community or street code"),
            OpenApiParameter("mine", bool, description="only the user's own change sets"),
        ]
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: s.ChangeSetDetailSerializer, 404: ERROR})
    def retrieve(self, request, pk=None):
        """A change set with its items, undo history, lock, approval trail and what the
        caller may do (`permissions`)."""
        return Response(self._detail(pk))

    @extend_schema(
        request=s.ChangeSetCreateSerializer,
        responses={201: s.ChangeSetDetailSerializer, **REFUSALS},
    )
    def create(self, request):
        """A new draft of a community's (or street's) grids, locked to the caller."""
        serializer = s.ChangeSetCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        change_set = changesets.create(
            user=request.user,
            region=_region(request, fields["region"]),
            title=fields["title"],
            valid_from=fields["valid_from"],
        )
        return Response(self._detail(change_set.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ChangeSetImportSerializer,
        responses={201: s.ChangeSetDetailSerializer, **REFUSALS},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
    )
    def import_layout(self, request):
        """Re-grid a community or street from a file: every feature a grid of the new layout,
        keyed by its code. Problems name the file's row, code and field; nothing is written
        then."""
        serializer = s.ChangeSetImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        upload = fields["file"]
        options = {
            name: fields[name]
            for name in ("layer", "code_field", "name_field", "crs")
            if fields.get(name)
        }
        # GDAL reads from a path, and a zipped shapefile is told apart by its name.
        with tempfile.TemporaryDirectory(prefix="gridline-layout-") as folder:
            path = Path(folder) / (Path(upload.name).name or "layout")
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            change_set = regrid.import_layout(
                user=request.user,
                region=_region(request, fields["region"]),
                path=path,
                title=fields["title"],
                valid_from=fields["valid_from"],
                parameters=LAYOUT_IMPORT_PARAMETERS,
                **options,
            )
        return Response(self._detail(change_set.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "state",
                str,
                enum=["proposed", "current"],
                description="proposed (default): as the change set would leave them; "
                "current: as they are now, with the action the change set takes on each",
            )
        ],
        responses={200: s.ProposedGridCollection, 404: ERROR},
    )
    @action(detail=True, methods=["get"])
    def grids(self, request, pk=None):
        """Every grid of the change set's region as a GeoJSON FeatureCollection."""
        wanted = request.query_params.get("state", "proposed")
        if wanted not in ("proposed", "current"):
            raise ValidationError({"state": [_("proposed or current")]})
        return Response(grid_features(self._change_set(pk), current=wanted == "current"))

    @extend_schema(
        request=s.OPERATION_REQUEST,
        responses={200: s.OperationResultSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def operations(self, request, pk=None):
        """One edit: `op` is reshape, split, merge, add, set_geometry, retire, rename or
        revert, with its parameters (geometry as GeoJSON in WGS84) and `expected_version`.
        Answers the change set and its validation after the edit."""
        change_set = self._change_set(pk)
        chosen = s.OpSerializer(data=request.data)
        chosen.is_valid(raise_exception=True)
        op = chosen.validated_data["op"]
        serializer = s.OPERATIONS[op](data=request.data)
        serializer.is_valid(raise_exception=True)
        params = dict(serializer.validated_data)
        params.pop("op")
        if "geometry" in params:
            params["geom"] = params.pop("geometry")
        EDITS[op](change_set, request.user, **params)
        return self._edited(change_set.pk)

    def _edited(self, pk: int) -> Response:
        change_set = self._change_set(pk)
        return Response(
            {
                "change_set": self._detail(pk),
                "validation": validation_body(validation.validate(change_set)),
            }
        )

    @extend_schema(
        request=s.OperationSerializer,
        responses={200: s.OperationResultSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def undo(self, request, pk=None):
        """Undo the last edit (400 `nothing_to_undo`)."""
        return self._step(request, pk, editing.undo)

    @extend_schema(
        request=s.OperationSerializer,
        responses={200: s.OperationResultSerializer, **REFUSALS},
    )
    @action(detail=True, methods=["post"])
    def redo(self, request, pk=None):
        """Redo the last undone edit (400 `nothing_to_redo`)."""
        return self._step(request, pk, editing.redo)

    def _step(self, request, pk, service) -> Response:
        change_set = self._change_set(pk)
        serializer = s.OperationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        service(change_set, request.user, **serializer.validated_data)
        return self._edited(change_set.pk)

    @extend_schema(responses={200: s.ValidationSerializer, 404: ERROR})
    @action(detail=True, methods=["get"])
    def validation(self, request, pk=None):
        """Problems of the change set as proposed: invalid geometry, outside the community,
        overlaps (red), gaps (orange), too small, codes, stale, conflicts."""
        return Response(validation_body(validation.validate(self._change_set(pk))))

    @extend_schema(responses={200: s.ImpactSerializer, 404: ERROR})
    @action(detail=True, methods=["get"])
    def impact(self, request, pk=None):
        """What the apply would move: households, residents, sensors, open incidents and
        tasks per old -> new grid, and the ground changing hands."""
        return Response(impact.preview(self._change_set(pk)))

    def _lifecycle(self, request, pk, service, **kwargs) -> Response:
        service(self._change_set(pk), request.user, **kwargs)
        return Response(self._detail(pk))

    @extend_schema(request=None, responses={200: s.ChangeSetDetailSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Hand the change set in for approval: 400 with the validation errors, 409 when it
        is stale or conflicts with another."""
        return self._lifecycle(request, pk, changesets.submit)

    @extend_schema(
        request=s.CommentSerializer, responses={200: s.ChangeSetDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a submitted change set (a reviewer, never its author)."""
        comment = _comment(request)
        return self._lifecycle(request, pk, changesets.approve, comment=comment)

    @extend_schema(
        request=s.CommentSerializer, responses={200: s.ChangeSetDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_for_changes(self, request, pk=None):
        """Send it back to its author with what to change (`comment` required)."""
        comment = _comment(request)
        return self._lifecycle(request, pk, changesets.return_for_changes, comment=comment)

    @extend_schema(request=None, responses={200: s.ApplyResultSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        """Apply an approved change set in one transaction: new boundary versions, only the
        points in the changed area re-assigned. Nothing is written if anything fails."""
        summary = apply_service.apply(self._change_set(pk), request.user)
        return Response({"change_set": self._detail(pk), "summary": summary})

    @extend_schema(
        request=s.CommentSerializer, responses={200: s.ChangeSetDetailSerializer, **REFUSALS}
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Abandon an open change set (its author or a reviewer)."""
        comment = _comment(request)
        return self._lifecycle(request, pk, changesets.withdraw, comment=comment)

    @extend_schema(request=None, responses={200: s.ChangeSetDetailSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """The author keeps the lock for another GRIDLINE_CHANGESET_LOCK_HOURS."""
        return self._lifecycle(request, pk, changesets.extend_lock)

    @extend_schema(request=None, responses={200: s.ChangeSetDetailSerializer, **REFUSALS})
    @action(detail=True, methods=["post"], url_path="take-over")
    def take_over(self, request, pk=None):
        """Take over a draft whose author's lock has expired."""
        return self._lifecycle(request, pk, changesets.take_over)


EDITS = {
    "reshape": editing.reshape,
    "split": editing.split,
    "merge": editing.merge,
    "add": editing.add_grid,
    "set_geometry": editing.set_geometry,
    "retire": editing.retire,
    "rename": editing.rename,
    "revert": editing.revert,
}


def _comment(request) -> str:
    serializer = s.CommentSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["comment"]


def _region(request, code: str) -> Region:
    """The community or street by code, among the regions the user may see (a grid worker:
    their grid's community); whether they may redraw it is the service's answer (403).
    Another jurisdiction's region is answered like one that does not exist, and the code
    sent is not echoed (decision 4)."""
    user = request.user
    regions = Region.objects.current().filter(code=code)
    visible = Region.objects.visible_to(user)
    if user.role == "grid_worker" and user.grid_id:
        visible = visible | Region.objects.filter(pk=user.grid.community_id)
    region = regions.filter(pk__in=visible.values("pk")).first()
    if region is None:
        raise ValidationError(
            {"region": [_("no current community or street with this code in your jurisdiction")]}
        )
    return region


def _grid(request, code: str) -> Grid:
    return get_object_or_404(Grid.objects.visible_to(request.user), code=code)


class GridHistoryView(APIView):
    @extend_schema(responses={200: s.GridVersionSerializer(many=True), 404: ERROR})
    def get(self, request, code: str):
        """Every boundary version of a grid, newest first."""
        return Response(
            s.GridVersionSerializer(history.history(_grid(request, code)), many=True).data
        )


class GridRestoreView(APIView):
    @extend_schema(
        request=s.RestoreSerializer, responses={201: s.ChangeSetDetailSerializer, **REFUSALS}
    )
    def post(self, request, code: str):
        """Go back to an earlier boundary version: a new change set (kind restore) with the
        grid reshaped to it, to be approved and applied like any other."""
        grid = _grid(request, code)
        serializer = s.RestoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = GridBoundary.objects.filter(
            grid=grid, pk=serializer.validated_data["version"]
        ).first()
        if version is None:
            raise ValidationError(
                {
                    "version": [
                        _("grid %(code)s has no boundary version with this id") % {"code": code}
                    ]
                }
            )
        change_set = history.restore(user=request.user, version=version)
        return Response(detail_body(request.user, change_set.pk), status=status.HTTP_201_CREATED)
