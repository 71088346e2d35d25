"""The public endpoints: no login, no session, no CSRF (there is nothing to forge: a post acts
for no one), rate-limited per address and size-limited (needs.services.public).

- `GET /api/needs/public/{key}/`: the grid and community the key names and the kinds; never
  any need (nothing a resident sends is shown before the community has reviewed it);
- `POST /api/needs/public/{key}/`: raise a need; 201 `{number, status}`, never the record;
- `GET|POST /api/needs/join/{key}/`: 双报到 with the grid's community; 201 `{username,
  status: "pending"}`.

A forged, unknown or retired grid's key is 404 whatever the method, before any limit."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from grids import limits
from grids.api.parsers import FormParser, JSONParser, MultiPartParser
from needs.api.common import body_of
from needs.api.serializers_public import (
    JOIN_KINDS,
    JoinAnswerSerializer,
    JoinSerializer,
    PublicIntakeSerializer,
    PublicNeedAnswerSerializer,
    PublicNeedSerializer,
)
from needs.models import ServiceKind
from needs.services import public, public_posts

RATE_LIMITED = OpenApiResponse(
    description="Too many posts from this address this hour or day: `Retry-After` seconds.",
)


def rate_limited(limited: public.RateLimited) -> Response:
    response = Response(
        {
            "status": 429,
            "errors": [
                {
                    "code": "rate_limited",
                    "message": limited.message,
                    "limit": limited.limit,
                    "window": limited.window,
                }
            ],
        },
        status=status.HTTP_429_TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(limited.retry_after)
    return response


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def grid(self, key: str):
        grid = public.grid_for_key(key)
        if grid is None:
            # One answer for a forged key, a grid that never was and one retired since.
            raise NotFound(_("This code is not valid any more. Ask the community for a new one."))
        return grid

    def refuse_oversize(self, request) -> None:
        """Judged from Content-Length before the body is read: a public post is at most its
        photos at their limit plus the text (the API's upload limit is far larger)."""
        multipart = limits.is_upload(request.content_type or "")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # the middleware has refused a Content-Length that is no number
        limit = public.body_limit(multipart)
        if length > limit:
            refused = limits.too_large(limit)
            refused.field = "photos" if multipart else "body"
            raise refused

    def intake(self, grid) -> dict:
        return {
            "grid": {"name": grid.name},
            "community": {"name": grid.community.name},
            "kinds": list(
                ServiceKind.objects.filter(active=True)
                .order_by("order", "code")
                .values("code", "name", "description")
            ),
            "provider_kinds": [{"value": k.value, "label": str(k.label)} for k in JOIN_KINDS],
            "limits": {
                "title": public.TITLE_MAX,
                "description": public.DESCRIPTION_MAX,
                "photos": settings.GRIDLINE_NEEDS_PHOTOS_MAX,
                "photo_mb": settings.GRIDLINE_PHOTO_MAX_MB,
                "per_hour": settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR,
                "per_day": settings.GRIDLINE_NEEDS_PUBLIC_PER_DAY,
            },
        }


class PublicNeedView(PublicView):
    @extend_schema(auth=[], responses=PublicIntakeSerializer)
    def get(self, request, key: str):
        """What the public form shows: the grid and community by name, the kinds of need and
        the limits. No need is ever listed here."""
        return Response(PublicIntakeSerializer(self.intake(self.grid(key))).data)

    @extend_schema(
        auth=[],
        request={
            "application/json": PublicNeedSerializer,
            "multipart/form-data": PublicNeedSerializer,
        },
        responses={201: PublicNeedAnswerSerializer, 429: RATE_LIMITED},
    )
    def post(self, request, key: str):
        """Raise a need (微心愿) from the QR on the grid's notice board. Answers the need's
        number only: the community reviews it before anything is shown or done."""
        grid = self.grid(key)
        self.refuse_oversize(request)
        serializer = PublicNeedSerializer(data=body_of(request))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        photos = data.pop("photos")
        try:
            need = public_posts.raise_public_need(public.submitter_key(request), data, photos, grid)
        except public.RateLimited as limited:
            return rate_limited(limited)
        return Response(
            PublicNeedAnswerSerializer({"number": need.number, "status": need.status}).data,
            status=status.HTTP_201_CREATED,
        )


class JoinView(PublicView):
    @extend_schema(auth=[], responses=PublicIntakeSerializer)
    def get(self, request, key: str):
        """What the 双报到 page shows: the community to register with, the kinds of service."""
        return Response(PublicIntakeSerializer(self.intake(self.grid(key))).data)

    @extend_schema(
        auth=[],
        request=JoinSerializer,
        responses={201: JoinAnswerSerializer, 429: RATE_LIMITED},
    )
    def post(self, request, key: str):
        """双报到: register as a party member, volunteer or co-building unit with the grid's
        community. The phone is the user name; the account signs in at once and sees
        等待社区确认 until the community confirms. A phone already registered is refused."""
        grid = self.grid(key)
        self.refuse_oversize(request)
        serializer = JoinSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            provider = public_posts.register_public(public.submitter_key(request), data, grid)
        except public.RateLimited as limited:
            return rate_limited(limited)
        account = provider.users.get()
        return Response(
            JoinAnswerSerializer({"username": account.username, "status": provider.status}).data,
            status=status.HTTP_201_CREATED,
        )
