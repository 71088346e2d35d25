"""What every step of the needs services shares: the locked row at the version the client
read, the checks of free text, photos checked and stored."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _

from grids.problems import ProblemsError
from incidents.services.reporting import check_photos
from needs.models import Need, NeedPhoto
from needs.services.errors import Refused, Stale
from needs.services.photos import clean as clean_photo


def locked(model, pk: int, version: int | None, *, related=()):
    """The row, locked for this transaction; `Stale` when the client read another version.
    `version` None skips the check (the clocks, which act on whatever is current)."""
    row = model.objects.select_for_update(of=("self",)).select_related(*related).get(pk=pk)
    if version is not None and int(version) != row.version:
        raise Stale(row)
    return row


def lock_need(need: Need, version: int | None) -> Need:
    return locked(need.__class__, need.pk, version, related=("kind", "grid", "community"))


BIGINT_MAX = 2**63 - 1


def object_id(value, field: str) -> int:
    """An id as the client sent it (an int, or digits): anything else, or beyond the
    database's range, is refused naming the field, never a 500."""
    if isinstance(value, bool):
        raise Refused("invalid", _("not an id"), field)
    if isinstance(value, str) and value.isascii() and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= BIGINT_MAX:
        raise Refused("invalid", _("not an id"), field)
    return value


def text(value, field: str, limit: int, *, required: bool = False) -> str:
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise Refused("required", _("this field is required"), field)
    if len(value) > limit:
        raise Refused(
            "too_long",
            _("at most %(limit)s characters (%(count)s given)")
            % {"limit": limit, "count": len(value)},
            field,
        )
    return value


def checked_photos(files, field: str = "photos") -> list:
    """Incidents' public photo check (format, bytes, pixels), at most
    GRIDLINE_NEEDS_PHOTOS_MAX at once."""
    files = list(files or [])
    limit = settings.GRIDLINE_NEEDS_PHOTOS_MAX
    if len(files) > limit:
        raise Refused(
            "too_many_photos",
            _("at most %(limit)s photos (%(count)s given)") % {"limit": limit, "count": len(files)},
            field,
        )
    try:
        return check_photos(files, field)
    except ProblemsError as error:
        raise Refused.from_problems(error) from None


def save_photos(need: Need, photos: list, *, stage: str, user=None, dispatch=None) -> list:
    """Stored re-encoded without metadata (needs.services.photos), whatever the path."""
    saved = []
    for checked in photos:
        photo = clean_photo(checked)
        row = NeedPhoto(
            need=need,
            stage=stage,
            dispatch=dispatch,
            extension=photo.extension,
            width=photo.width,
            height=photo.height,
            uploaded_by=user if user is not None and user.is_authenticated else None,
        )
        row.image.save(f"photo.{photo.extension}", photo.file, save=False)
        row.save()
        saved.append(row)
    return saved
