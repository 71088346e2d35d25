"""查询进度: a resident finds their need again with its number and the last four digits of
the phone they gave. The answer is the status, the kind and the dates — never the contact,
the description or the address — so a guessed pair learns next to nothing; and lookups are
limited per address (needs.services.public's submitter key), so guessing the four digits of
one number (10,000 tries) is out of reach.

The lookups write no row, so public.check_rate (which counts the rows an address wrote)
cannot count them: a counter per address and hour/day in the cache does, answering with the
same RateLimited (429, Retry-After, the same Chinese message)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from needs.models import Need, NeedStatus
from needs.services.public import RateLimited

PER_HOUR = 10
PER_DAY = 30
NUMBER = re.compile(r"^XQ\d{12}$")


@dataclass(frozen=True)
class Progress:
    number: str
    kind: str
    status: str  # NeedStatus value
    status_label: str
    raised_at: object
    reviewed_at: object | None
    done_at: object | None
    merged_into: str  # the number it was merged into, or ""


def check_rate(submitter: str, *, now=None) -> None:
    """Count this lookup; refuse (RateLimited) past PER_HOUR an hour or PER_DAY a day."""
    now = now or timezone.now()
    stamp = int(now.timestamp())
    for length, limit, window in ((3600, PER_HOUR, "hour"), (86400, PER_DAY, "day")):
        bucket = stamp // length
        key = f"needs:lookup:{window}:{submitter}:{bucket}"
        cache.add(key, 0, length)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: this is the first of a new window
            cache.set(key, 1, length)
            count = 1
        if count > limit:
            raise RateLimited((bucket + 1) * length - stamp, limit, window)


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def find(number: str, last4: str) -> Progress | None:
    """The need with this number whose contact phone ends in these four digits, or None
    (the same None whether the number is unknown or the digits wrong)."""
    number = (number or "").strip().upper()
    last4 = (last4 or "").strip()
    if not NUMBER.match(number) or not re.fullmatch(r"\d{4}", last4):
        return None
    need = Need.objects.select_related("kind", "merged_into").filter(number=number).first()
    if need is None or not _digits(need.contact_phone).endswith(last4):
        return None
    return Progress(
        number=need.number,
        kind=need.kind.name,
        status=need.status,
        status_label=need.get_status_display(),
        raised_at=need.raised_at,
        reviewed_at=need.reviewed_at if need.status != NeedStatus.SUBMITTED else None,
        done_at=need.confirmed_at if need.status == NeedStatus.DONE else None,
        merged_into=need.merged_into.number if need.merged_into_id else "",
    )
