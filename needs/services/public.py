"""The public doors (no login, no CAPTCHA: closed networks): a resident raises a need through
the QR on a grid's notice board, a volunteer or party member registers with the community
(双报到). Both are keyed by a signed grid id, counted per address and limited in size.

The address is never stored: a submitter is the HMAC-SHA256 of the address the login
throttling counts (grids.lockout.client_address, so a proxy's X-Forwarded-For is read the
same way) under SECRET_KEY. Counting is from the rows themselves (Need.submitter, the
provider's submitter) under an advisory lock per submitter, so two posts at the same moment
from one address are counted one after the other and every web process agrees."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.lockout import client_address
from grids.models import Grid
from needs import sql
from needs.models import Need, Provider

SALT = "needs.intake"

# What the public form may carry (the model's own limits are the same or wider).
TITLE_MAX = 60
DESCRIPTION_MAX = 1000
CONTACT_NAME_MAX = 50
ADDRESS_MAX = 200
# A public post's whole body: the photos at their limit, and room for the text fields. Judged
# from Content-Length before a byte is read (the API's general limit for uploads is 100 MB).
TEXT_BODY_MAX = 64 * 1024

WHAT = {"need": "needs", "registration": "registrations"}


# --- the key on the poster -------------------------------------------------------------------


def _signer() -> signing.Signer:
    # A plain Signer, not signing.dumps: the key must be the same every time it is printed
    # (dumps adds a timestamp), so a poster reprinted next year still works.
    return signing.Signer(salt=SALT)


def intake_key(grid: Grid) -> str:
    """The key in the public form's URL for a grid (a QR on its notice board)."""
    return _signer().sign(str(grid.pk))


def grid_for_key(key: str) -> Grid | None:
    """The current grid a key names; None for a forged key, a retired or unknown grid (the
    caller answers all of them with the same 404)."""
    try:
        value = _signer().unsign(key)
    except signing.BadSignature:
        return None
    if not value.isascii() or not value.isdigit():
        return None
    return Grid.objects.current().select_related("community").filter(pk=int(value)).first()


# --- who is asking ---------------------------------------------------------------------------


def submitter_key(request) -> str:
    """The caller's address as a keyed hash (64 hex digits): the same address gives the same
    key, and the stored key gives the address back to no one without SECRET_KEY."""
    address = client_address(request) or ""
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


# --- rate ------------------------------------------------------------------------------------


@dataclass
class RateLimited(Exception):
    """Too many posts from one address: answered 429 with Retry-After."""

    retry_after: int
    limit: int
    window: str  # "hour" | "day"

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        if self.window == "hour":
            text = _(
                "Too many submissions from this network: at most %(limit)d an hour. Try again "
                "in %(minutes)d minutes, or call the community."
            )
        else:
            text = _(
                "Too many submissions from this network: at most %(limit)d a day. Try again "
                "in %(minutes)d minutes, or call the community."
            )
        return text % {"limit": self.limit, "minutes": minutes}


def _times(submitter: str, what: str, since: dt.datetime) -> list[dt.datetime]:
    if what == "need":
        rows = Need.objects.filter(submitter=submitter, raised_at__gte=since)
        return list(rows.order_by("raised_at").values_list("raised_at", flat=True))
    rows = Provider.objects.filter(submitter=submitter, registered_at__gte=since)
    return list(rows.order_by("registered_at").values_list("registered_at", flat=True))


def check_rate(submitter: str, what: str = "need", *, now: dt.datetime | None = None) -> None:
    """Refuse (RateLimited) when the address has used up its hour or its day for `what`
    ("need" or "registration"). Call inside the transaction that then writes the row: the
    lock taken here holds until it commits, so a parallel post from the same address counts
    this one."""
    if what not in WHAT:
        raise ValueError(f"unknown kind of public post {what!r}")
    sql.lock_submitter(submitter)
    now = now or timezone.now()
    day = _times(submitter, what, now - dt.timedelta(days=1))
    hour = [t for t in day if t >= now - dt.timedelta(hours=1)]
    for times, limit, window, length in (
        (hour, settings.GRIDLINE_NEEDS_PUBLIC_PER_HOUR, "hour", dt.timedelta(hours=1)),
        (day, settings.GRIDLINE_NEEDS_PUBLIC_PER_DAY, "day", dt.timedelta(days=1)),
    ):
        if len(times) >= limit:
            # The post that frees a place: once it leaves the window, one fewer than the limit.
            freeing = times[len(times) - limit] if limit > 0 else now
            wait = (freeing + length - now).total_seconds()
            raise RateLimited(max(1, math.ceil(wait)), limit, window)


# --- size ------------------------------------------------------------------------------------


def body_limit(multipart: bool) -> int:
    """The largest public post in bytes: photos at their limit each, plus the text."""
    if not multipart:
        return TEXT_BODY_MAX
    photo = settings.GRIDLINE_PHOTO_MAX_MB * 1024 * 1024
    return int(settings.GRIDLINE_NEEDS_PHOTOS_MAX * photo + 2 * TEXT_BODY_MAX)


# A phone number as people write it: spaces, hyphens and brackets are dropped; +86 or 0086 in
# front is the country; a mobile is 1[3-9] and 9 digits; a landline is an area code (010 and
# 02x: 3 digits, others 4) and 7-8 digits, perhaps with an extension (转 801, ext 801, -801).
_EXTENSION = re.compile(r"^(.+?)\s*(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_HYPHEN_EXTENSION = re.compile(r"^(.+)-(\d{1,6})$")
_DROPPED = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def _digits(text: str) -> str | None:
    compact = _DROPPED.sub("", text)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            rest = compact[len(prefix) :]
            compact = rest if rest.startswith(("0", "1")) else "0" + rest
    return compact if compact.isascii() and compact.isdigit() else None


def _landline(digits: str) -> str | None:
    area_length = 3 if digits[1:2] in ("1", "2") else 4
    area, number = digits[:area_length], digits[area_length:]
    # No area code starts 00 (that is the international prefix).
    if not digits.startswith("0") or digits[1:2] == "0" or len(number) not in (7, 8):
        return None
    return f"{area}-{number}"


def normalise_phone(value: str) -> str | None:
    """A Chinese mobile (13812345678) or landline (023-49876543, 023-49876543-801) in one
    written form, or None when it looks like neither."""
    text = value.strip()
    if len(text) > 30:
        return None
    worded = _EXTENSION.match(text)
    main, extension = worded.groups() if worded else (text, "")
    digits = _digits(main)
    if digits and not extension and _MOBILE.match(digits):
        return digits
    line = _landline(digits) if digits else None
    if line is None and not extension:
        hyphenated = _HYPHEN_EXTENSION.match(text)
        if hyphenated:
            main, extension = hyphenated.groups()
            digits = _digits(main)
            line = _landline(digits) if digits else None
    if line is None:
        return None
    return f"{line}-{extension}" if extension else line
