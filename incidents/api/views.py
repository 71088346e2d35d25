"""The incidents API: reporting, the closed loop's steps, duplicates, metrics, photos, tasks
and visits. Every list is scoped by `visible_to(user)`; refusals follow grids/api/errors.py."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from grids import timestamps
from grids.api.pagination import QueuePagination
from grids.api.parsers import FormParser, JSONParser, MultiPartParser
from grids.api.serializers import point_from_query
from grids.models import Grid, Role, User
from incidents.api.filters import IncidentFilterSet
from incidents.api.serializers import (
    CategorySerializer,
    DuplicateSerializer,
    IncidentDetailSerializer,
    IncidentRowSerializer,
    IncidentSerializer,
    MetricsRowSerializer,
    PhotoSerializer,
    ReportSerializer,
    StepSerializer,
    TaskCreateSerializer,
    TaskFiguresRowSerializer,
    TaskSerializer,
    VisitCreateSerializer,
    VisitSerializer,
    WhistleClassSerializer,
)
from incidents.models import (
    Category,
    Incident,
    IncidentEvent,
    Task,
    Visit,
    WhistleClass,
)
from incidents.services import metrics, tasks
from incidents.services.reporting import Report, add_photos, possible_duplicates, report_incident
from incidents.services.transitions import StaleVersion, Step, take_step


def _date(request, name: str, default: dt.date) -> dt.date:
    value = request.query_params.get(name)
    if not value:
        return default
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValidationError({name: [_("dates are YYYY-MM-DD")]}) from exc
    # Within the platform's years: "the 30 days before 0001-01-01" is no date at all.
    problem = timestamps.date_problem(day, name)
    if problem is not None:
        raise ValidationError({name: [problem.message]}, code=problem.code)
    return day


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    """The coded catalogue of incident categories, with their deadlines."""

    serializer_class = CategorySerializer
    queryset = Category.objects.filter(active=True).select_related("parent", "department")
    lookup_field = "code"
    pagination_class = None


class WhistleClassViewSet(viewsets.ReadOnlyModelViewSet):
    """吹哨快响 classes and their hours to acknowledge and report back."""

    serializer_class = WhistleClassSerializer
    queryset = WhistleClass.objects.all()
    lookup_field = "code"
    pagination_class = None


class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents the user may see. `queue=mine|overdue|whistled|reported|open` gives the
    role's queues; every step goes through `POST /incidents/{id}/steps/` with the version."""

    filterset_class = IncidentFilterSet
    pagination_class = QueuePagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        incidents = Incident.objects.visible_to(self.request.user).select_related(
            "category", "grid", "department", "whistle_class"
        )
        if self.action == "retrieve":
            incidents = incidents.select_related("reporter").prefetch_related(
                Prefetch(
                    "events",
                    IncidentEvent.objects.select_related("actor", "department").prefetch_related(
                        "photos"
                    ),
                ),
                "photos",
            )
        return incidents.order_by("-reported_at", "-id")

    def get_serializer_class(self):
        if self.action == "list":
            return IncidentRowSerializer
        return IncidentDetailSerializer if self.action == "retrieve" else IncidentSerializer

    def list(self, request, *args, **kwargs):
        rows = self.filter_queryset(self.get_queryset()).queue_rows()
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(IncidentRowSerializer(page, many=True).data)

    def _detail(self, pk: int) -> dict:
        self.action = "retrieve"
        incident = get_object_or_404(self.get_queryset(), pk=pk)
        return IncidentDetailSerializer(incident, context=self.get_serializer_context()).data

    @extend_schema(request=ReportSerializer, responses={201: IncidentDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Report (上报). A resend with the same `client_key` answers 200 with the first
        incident. Near a grid edge the answer is 400 `near_grid_edge`: send `grid`."""
        data = request.data
        if hasattr(data, "getlist"):  # multipart: several `photos` parts
            data = {**data.dict(), "photos": data.getlist("photos")}
        serializer = ReportSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        incident, created = report_incident(
            Report(
                title=fields["title"],
                description=fields["description"],
                category=fields["category"],
                priority=fields["priority"],
                source=fields["source"],
                location=fields["location"],
                client_key=fields.get("client_key"),
                grid=fields.get("grid") or None,
                photos=tuple(fields["photos"]),
            ),
            user=request.user,
        )
        body = self._detail(incident.pk)
        body["possible_duplicates"] = DuplicateSerializer(
            [
                {"incident": found, "metres": round(metres, 1)}
                for found, metres in possible_duplicates(
                    incident.category.code,
                    incident.location,
                    exclude=incident.pk,
                    user=request.user,
                )
            ],
            many=True,
        ).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=StepSerializer,
        responses={200: IncidentDetailSerializer, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"])
    def steps(self, request, pk=None):
        """Take a step of the loop. A stale `version` answers 409 with the current state."""
        data = request.data
        if hasattr(data, "getlist"):  # multipart: photos of the step
            data = {**data.dict(), "photos": data.getlist("photos")}
        serializer = StepSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        fields["photos"] = tuple(fields["photos"])
        try:
            incident = take_step(int(pk), Step(**fields), user=request.user)
        except Incident.DoesNotExist:
            return Response(
                {"status": 404, "errors": [{"code": "not_found", "message": "no such incident"}]},
                status=status.HTTP_404_NOT_FOUND,
            )
        except StaleVersion as stale:
            return Response(
                {
                    "status": 409,
                    "errors": [
                        {
                            "code": "stale_version",
                            "field": "version",
                            "message": f"the incident changed: it is now at version "
                            f"{stale.incident.version} ({stale.incident.status})",
                        }
                    ],
                    "incident": self._detail(stale.incident.pk),
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(self._detail(incident.pk))

    @extend_schema(responses=DuplicateSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def duplicates(self, request, pk=None):
        """Possible duplicates of this incident, nearest first (for a handler to merge)."""
        incident = get_object_or_404(self.get_queryset(), pk=pk)
        found = possible_duplicates(
            incident.category.code, incident.location, exclude=incident.pk, user=request.user
        )
        return Response(
            DuplicateSerializer(
                [{"incident": i, "metres": round(m, 1)} for i, m in found], many=True
            ).data
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("category", str, required=True),
            OpenApiParameter("lon", float, required=True),
            OpenApiParameter("lat", float, required=True),
        ],
        responses=DuplicateSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="nearby", pagination_class=None)
    def nearby(self, request):
        """Before reporting: incidents of the category near the point that may be the same."""
        category = request.query_params.get("category") or ""
        found = possible_duplicates(
            category, point_from_query(request.query_params), user=request.user
        )
        return Response(
            DuplicateSerializer(
                [{"incident": i, "metres": round(m, 1)} for i, m in found], many=True
            ).data
        )

    @extend_schema(request=OpenApiTypes.BINARY, responses=PhotoSerializer(many=True))
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def photos(self, request, pk=None):
        """Add photos (multipart `photos`): JPEG, PNG or WebP within the size limit."""
        files = request.FILES.getlist("photos")
        if not files:
            raise ValidationError({"photos": [_("send one or more image files as `photos`")]})
        try:
            saved = add_photos(int(pk), files, user=request.user)
        except Incident.DoesNotExist:
            return Response(
                {"status": 404, "errors": [{"code": "not_found", "message": "no such incident"}]},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(PhotoSerializer(saved, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("by", str, enum=sorted(metrics.GROUPS)),
            OpenApiParameter("from", OpenApiTypes.DATE),
            OpenApiParameter("to", OpenApiTypes.DATE),
        ],
        responses=MetricsRowSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def metrics(self, request):
        """结案率, 按期结案率, 返工率, mean hours per step and satisfaction, per grid,
        community, street or department, for incidents reported in the period (default: the
        last 30 days)."""
        by = request.query_params.get("by", "grid")
        if by not in metrics.GROUPS:
            groups = ", ".join(sorted(metrics.GROUPS))
            raise ValidationError({"by": [_("one of %(values)s") % {"values": groups}]})
        end = _date(request, "to", timezone.localdate())
        start = _date(request, "from", end - dt.timedelta(days=29))
        if start > end:
            raise ValidationError({"from": [_("the period starts after it ends")]})
        rows = metrics.incident_metrics(Incident.objects.visible_to(request.user), by, start, end)
        return Response(MetricsRowSerializer(rows, many=True).data)


class TaskViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Tasks of the grids the user may see; `mine=1` for the tasks given to the user or to
    their grid's team."""

    serializer_class = TaskSerializer
    pagination_class = QueuePagination

    def get_queryset(self):
        user = self.request.user
        found = (
            Task.objects.visible_to(user)
            .select_related("grid", "assignee")
            .annotate(
                target_count=Count("targets"),
                visited_count=Count("targets", filter=Q(targets__visit__isnull=False)),
            )
        )
        if self.request.query_params.get("mine"):
            found = found.filter(Q(assignee=user) | Q(assignee__isnull=True, grid=user.grid_id))
        if self.request.query_params.get("open"):
            found = found.open()
        return found.order_by("due_on", "pk")

    @extend_schema(request=TaskCreateSerializer, responses={201: TaskSerializer})
    def create(self, request, *args, **kwargs):
        serializer = TaskCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        grid = Grid.objects.visible_to(request.user).current().filter(code=fields["grid"]).first()
        if grid is None:
            # The code sent is not echoed: it may name another jurisdiction's grid.
            raise ValidationError(
                {"grid": [_("no current grid with this code in your jurisdiction")]}
            )
        assignee = None
        if fields["assignee"]:
            # Only the grid's own workers are looked up: whether a user name exists elsewhere
            # is not the caller's to learn (one answer for unknown and out of scope).
            assignee = User.objects.filter(
                username=fields["assignee"], role=Role.GRID_WORKER, grid=grid
            ).first()
            if assignee is None:
                raise ValidationError(
                    {
                        "assignee": [
                            _("no grid worker of grid %(grid)s has this user name")
                            % {"grid": grid.code}
                        ]
                    }
                )
        task = tasks.create_visit_task(
            grid,
            title=fields["title"],
            due_on=fields["due_on"],
            tag=fields["tag"],
            assignee=assignee,
            user=request.user,
        )
        return Response(
            TaskSerializer(get_object_or_404(self.get_queryset(), pk=task.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[OpenApiParameter("by", str, enum=["grid", "worker"])],
        responses=TaskFiguresRowSerializer(many=True),
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def figures(self, request):
        """Task completion per grid or per worker."""
        by = request.query_params.get("by", "grid")
        if by not in ("grid", "worker"):
            raise ValidationError({"by": [_("grid or worker")]})
        return Response(tasks.task_figures(Task.objects.visible_to(request.user), by))


class VisitViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Visits to households; `flagged=1` for those recorded too far from the household."""

    serializer_class = VisitSerializer
    pagination_class = QueuePagination

    def get_queryset(self):
        found = Visit.objects.visible_to(self.request.user).select_related("worker")
        if self.request.query_params.get("flagged"):
            found = found.filter(flagged=True)
        return found.order_by("-visited_at", "-pk")

    @extend_schema(request=VisitCreateSerializer, responses={201: VisitSerializer})
    def create(self, request, *args, **kwargs):
        serializer = VisitCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = serializer.validated_data
        location = fields["location"]
        location.srid = 4326
        visit, created = tasks.record_visit(
            fields["household"],
            location,
            user=request.user,
            note=fields["note"],
            client_key=fields["client_key"],
            visited_at=fields["visited_at"],
        )
        return Response(
            VisitSerializer(visit).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
