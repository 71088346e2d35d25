"""What the needs API's views share: the request's masks in every serializer's context, the
body of a multipart form with its `photos`, and the 409 of a stale step with the current
record (the services raise needs.services.errors.Stale; refusals are grids.api.errors')."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from needs.api.masks import Masks
from needs.models import Dispatch, Need, Provider, ServiceOffer
from needs.services.errors import Stale

STALE_RESPONSE = OpenApiResponse(
    description="The record changed since it was read (`version`): the body's `current` is "
    "the record as it is now; nothing was written."
)


# One answer for what does not exist and what lies outside the caller's jurisdiction.
NOT_FOUND = {
    Need: gettext_lazy("There is no such need."),
    Dispatch: gettext_lazy("There is no such dispatch."),
    Provider: gettext_lazy("There is no such provider."),
    ServiceOffer: gettext_lazy("There is no such service offer."),
}


def one(queryset, pk):
    """The row of the (scoped) queryset with this id, else 404 in the user's language."""
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(str(NOT_FOUND.get(queryset.model, gettext_lazy("Not found."))))
    return found


def refuse_unknown(data, serializer_class) -> None:
    """A PATCH naming a field it cannot change (`status`, `satisfaction` …) is refused by
    name, not ignored: the client would believe it changed."""
    if not isinstance(data, dict):
        return
    known = set(serializer_class().fields)
    unknown = sorted(name for name in data if name not in known)
    if unknown:
        raise ValidationError(
            {name: [_("this field cannot be changed here")] for name in unknown[:20]},
            code="unknown_field",
        )


def body_of(request):
    """The request's fields, with a multipart form's several `photos` parts as one list."""
    data = request.data
    if hasattr(data, "getlist"):
        return {**data.dict(), "photos": data.getlist("photos")}
    # Anything else (a JSON list, a number) goes to the serializer, which names what is wrong.
    return data


class MaskedContext:
    """A view mixin: every serializer of the request masks through one Masks."""

    def masks(self) -> Masks:
        if not hasattr(self, "_masks"):
            self._masks = Masks(self.request.user)
        return self._masks

    def get_serializer_context(self):
        return super().get_serializer_context() | {"masks": self.masks()}


def stale_response(stale: Stale, current: dict) -> Response:
    return Response(
        {
            "status": status.HTTP_409_CONFLICT,
            "errors": [
                {
                    "code": "stale_version",
                    "field": "version",
                    "message": _(
                        "this changed meanwhile: it is now at version %(version)s; here is the "
                        "current state"
                    )
                    % {"version": stale.current.version},
                }
            ],
            "current": current,
        },
        status=status.HTTP_409_CONFLICT,
    )
