"""The life of a change set: created as a draft locked to its author, edited, submitted,
approved or returned, applied (boundaries.services.apply) or withdrawn; who may do each.

Every step runs in one transaction on the change set's row (select_for_update), appends a
ChangeSetEvent and refuses with a ProblemsError carrying its HTTP status: 403 when the user
may not take the step, 409 when the change set's state does not allow it now, 400 for bad
input (the validation errors on submit and approve)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from boundaries.models import (
    EDITABLE,
    OPEN,
    ChangeSet,
    ChangeSetEvent,
    ChangeSetItem,
    ChangeSetStep,
    Kind,
    Status,
)
from grids import scoping
from grids.models import GridBoundary, Level, Region, Role, Theme
from grids.problems import Problem, ProblemsError
from grids.services.boundaries import future_date_problem


class Refused(ProblemsError):
    """A step on a change set that may not be taken (403), not now (409), or not with this
    input (400)."""

    def __init__(self, problems: list[Problem], status: int = 409):
        super().__init__(problems)
        self.status_code = status


def refuse(code: str, message: str, *, status: int = 409, field: str | None = None, **extra):
    return Refused([Problem(code, message, field=field, **extra)], status)


def lock_expiry(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) + dt.timedelta(hours=settings.GRIDLINE_CHANGESET_LOCK_HOURS)


# --- who may do what ------------------------------------------------------------------------


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _under(region: Region, ancestor_id: int | None) -> bool:
    """Whether `region` is the node `ancestor_id` or lies below it."""
    node = region
    while node is not None:
        if node.pk == ancestor_id:
            return True
        node = node.parent
    return False


def can_author(user, region: Region) -> bool:
    """Whether the user may draw a change set of this community or street: their own
    jurisdiction or one below it; a grid worker only the community of their own grid.
    Departments never redraw grids."""
    if not _active(user):
        return False
    if scoping.sees_everything(user):
        return True
    role = user.role
    if role == Role.GRID_WORKER:
        return bool(user.grid_id) and user.grid.community_id == region.pk
    if role in (Role.COMMUNITY_STAFF, Role.STREET_CENTRE, Role.DISTRICT_CENTRE):
        return _under(region, user.region_id)
    return False


def can_review(user, change_set: ChangeSet) -> bool:
    """Whether the user may approve, return (and apply) a change set: staff of its community,
    the street centre above it, the district centre, an administrator; never its author
    (separation of duties), nor anyone who drew in it or authored it before a take-over."""
    if not _active(user) or user.pk == change_set.author_id:
        return False
    if scoping.sees_everything(user):
        return not _drew(user, change_set)
    if user.role in (Role.COMMUNITY_STAFF, Role.STREET_CENTRE, Role.DISTRICT_CENTRE):
        return _under(change_set.region, user.region_id) and not _drew(user, change_set)
    return False


def _drew(user, change_set: ChangeSet) -> bool:
    """Whether the user edited the change set or held it as its author (a draft taken over
    keeps its first author's drawing: that person must not approve it either)."""
    if change_set.pk is None:
        return False
    held = ["created", "taken_over"]
    prefetched = getattr(change_set, "_prefetched_objects_cache", {})
    if "steps" in prefetched and "events" in prefetched:  # the API's detail has them
        return any(step.by_id == user.pk for step in change_set.steps.all()) or any(
            event.by_id == user.pk and event.action in held for event in change_set.events.all()
        )
    steps = ChangeSetStep.objects.filter(change_set=OuterRef("pk"), by=user)
    events = ChangeSetEvent.objects.filter(change_set=OuterRef("pk"), by=user, action__in=held)
    return ChangeSet.objects.filter(Exists(steps) | Exists(events), pk=change_set.pk).exists()


def is_author(user, change_set: ChangeSet) -> bool:
    return _active(user) and user.pk == change_set.author_id


def permissions(change_set: ChangeSet, user) -> dict[str, bool]:
    """What the user may do with the change set now (the buttons the editor shows)."""
    author = is_author(user, change_set)
    reviewer = can_review(user, change_set)
    editable = change_set.status in EDITABLE
    return {
        "edit": author and change_set.locked,
        "submit": author and editable,
        "extend": author and editable,
        "take_over": (
            editable
            and not author
            and not change_set.locked
            and can_author(user, change_set.region)
        ),
        "review": reviewer and change_set.status == Status.SUBMITTED,
        "return": reviewer and change_set.status in (Status.SUBMITTED, Status.APPROVED),
        "apply": reviewer and change_set.status == Status.APPROVED,
        "withdraw": (author or reviewer) and change_set.status in OPEN,
    }


# --- holding, conflicts, staleness ----------------------------------------------------------


def conflicts(
    change_set: ChangeSet,
    grid_ids: Iterable[int] | None = None,
    codes: Iterable[str] | None = None,
) -> list[Problem]:
    """Other change sets holding a grid this one touches (or proposing a new grid under a
    code this one proposes too). `grid_ids`/`codes`: check these instead of the items'."""
    if grid_ids is None or codes is None:
        items = list(change_set.items.values_list("grid_id", "code"))
        if grid_ids is None:
            grid_ids = [grid for grid, _code in items if grid is not None]
        if codes is None:
            codes = [code for grid, code in items if grid is None]
    grid_ids, codes = list(grid_ids), list(codes)
    if not grid_ids and not codes:
        return []
    holding = ChangeSet.objects.holding().exclude(pk=change_set.pk)
    found = ChangeSetItem.objects.filter(
        Q(grid__in=grid_ids) | Q(grid__isnull=True, code__in=codes), change_set__in=holding
    ).select_related("change_set__author", "change_set__region")
    problems = []
    for item in found.order_by("code", "change_set_id"):
        other = item.change_set
        # Everyone who works on this change set sees the change sets of its region and the
        # regions under it; one of a region above (a street's, met by a community) is
        # outside some of their jurisdictions, so its title and author are not named.
        named = other.region_id == change_set.region_id or (
            other.region.parent_id == change_set.region_id
        )
        if named:
            message = _(
                "grid %(code)s is also changed by change set #%(id)s “%(title)s” of "
                "%(author)s (%(status)s): only one change set may change a grid at a time"
            ) % {
                "code": item.code,
                "id": other.pk,
                "title": other.title,
                "author": other.author.get_full_name() or other.author.username,
                "status": other.get_status_display(),
            }
        else:
            message = _(
                "grid %(code)s is also changed by a change set of a level above "
                "(%(status)s): only one change set may change a grid at a time"
            ) % {"code": item.code, "status": other.get_status_display()}
        problems.append(Problem("conflict", message, feature=item.code, field="geometry"))
    return problems


# The codes of stale() and conflicts(): the change set no longer fits the platform (409),
# as against a drawing to fix (400).
CURRENCY_CODES = ("stale", "conflict")


def stale(change_set: ChangeSet) -> list[Problem]:
    """Items whose grid was changed (or retired) since the draft first touched it: the
    change set was drawn on a boundary that no longer exists."""
    problems = []
    items = change_set.items.filter(grid__isnull=False).select_related("grid")
    for item in items:
        grid = item.grid
        if grid.valid_to is not None:
            message = _("grid %(code)s was retired after this change set was drawn: revert it") % {
                "code": grid.code
            }
        elif grid.version != item.base_version:
            message = _(
                "grid %(code)s was changed after this change set was drawn (version "
                "%(base)s, now %(now)s): revert it and redraw"
            ) % {"code": grid.code, "base": item.base_version, "now": grid.version}
        else:
            continue
        problems.append(Problem("stale", message, feature=item.code, field="geometry"))
    return problems


# --- the lifecycle --------------------------------------------------------------------------


def for_update(change_set: ChangeSet) -> ChangeSet:
    """The change set's row, locked for the rest of the transaction, as stored now."""
    return (
        ChangeSet.objects.select_for_update(of=("self",))
        .select_related("region__parent", "author")
        .get(pk=change_set.pk)
    )


def _event(change_set: ChangeSet, action: str, user, comment: str = "") -> None:
    ChangeSetEvent.objects.create(change_set=change_set, action=action, by=user, comment=comment)


def _require_author(change_set: ChangeSet, user) -> None:
    if not is_author(user, change_set):
        raise refuse(
            "not_author",
            _("only the author of the change set (%(author)s) may do this")
            % {"author": change_set.author.username},
            status=403,
        )


def _require_reviewer(change_set: ChangeSet, user) -> None:
    if is_author(user, change_set):
        raise refuse(
            "own_change_set",
            _("the author of a change set may not review it: another person must"),
            status=403,
        )
    if not can_review(user, change_set):
        raise refuse("not_reviewer", _("you may not review change sets of this region"), status=403)


def _require_status(change_set: ChangeSet, statuses, code: str = "not_editable") -> None:
    if change_set.status not in statuses:
        raise refuse(
            code,
            _("the change set is %(status)s: this step is not possible now")
            % {"status": change_set.get_status_display()},
            field="status",
        )


def _region_problems(region: Region) -> list[Problem]:
    if region.level not in (Level.COMMUNITY, Level.STREET) or region.valid_to is not None:
        return [
            Problem(
                "bad_region",
                _("a change set redraws the grids of a current community or street"),
                field="region",
                feature=region.code,
            )
        ]
    return []


def _valid_from_problems(region: Region, valid_from: dt.date | None) -> list[Problem]:
    if valid_from is None:
        return []
    if problem := future_date_problem(valid_from):
        return [problem]
    community = {"grid__community": region.pk} if region.level == Level.COMMUNITY else {}
    street = {"grid__community__parent": region.pk} if region.level == Level.STREET else {}
    latest = (
        GridBoundary.objects.current()
        .filter(grid__valid_to__isnull=True, grid__theme=Theme.GOVERNANCE, **community, **street)
        .aggregate(latest=Max("valid_from"))["latest"]
    )
    if latest is not None and valid_from < latest:
        return [
            Problem(
                "before_current_version",
                _("the new boundaries cannot start before the current ones (%(day)s)")
                % {"day": latest},
                field="valid_from",
            )
        ]
    return []


@transaction.atomic
def create(
    *,
    user,
    region: Region,
    title: str,
    valid_from: dt.date | None = None,
    kind: str = Kind.EDIT,
) -> ChangeSet:
    """A new draft of the region's grids, locked to its author."""
    if not can_author(user, region):
        raise refuse(
            "not_allowed",
            _("you may not redraw the grids of %(region)s") % {"region": region},
            status=403,
            field="region",
        )
    title = (title or "").strip()
    problems = _region_problems(region)
    if not title:
        problems.append(Problem("title_required", _("give the change set a title"), field="title"))
    problems += _valid_from_problems(region, valid_from)
    if kind not in Kind.values:
        problems.append(Problem("bad_kind", _("unknown kind of change set"), field="kind"))
    if problems:
        raise Refused(problems, 400)
    change_set = ChangeSet.objects.create(
        title=title,
        region=region,
        kind=kind,
        status=Status.DRAFT,
        author=user,
        lock_expires_at=lock_expiry(),
        valid_from=valid_from,
    )
    _event(change_set, "created", user)
    return change_set


def edit_guard(change_set: ChangeSet, user, expected_version: int | None = None) -> ChangeSet:
    """Lock the change set's row for an edit and check that the user may edit it now: its
    author, while it is a draft (or returned) and the lock has not expired, on the version
    the user saw. Call inside the edit's transaction; returns the locked row."""
    locked = for_update(change_set)
    _require_author(locked, user)
    _require_status(locked, EDITABLE)
    if locked.lock_expires_at <= timezone.now():
        raise refuse(
            "lock_expired",
            _("your lock on this change set expired at %(at)s: extend it to go on editing")
            % {"at": timezone.localtime(locked.lock_expires_at).strftime("%Y-%m-%d %H:%M")},
            field="lock_expires_at",
        )
    if expected_version is not None and locked.version != expected_version:
        raise refuse(
            "changeset_version",
            _(
                "the change set was changed elsewhere (version %(now)s, you edited version "
                "%(seen)s): reload it"
            )
            % {"now": locked.version, "seen": expected_version},
            field="expected_version",
        )
    return locked


def edited(change_set: ChangeSet) -> None:
    """After an edit: a new version, and the author's lock renewed."""
    change_set.version += 1
    change_set.lock_expires_at = lock_expiry()
    change_set.save(update_fields=["version", "lock_expires_at", "position", "updated_at"])


@transaction.atomic
def extend_lock(change_set: ChangeSet, user) -> ChangeSet:
    """The author keeps the draft for another GRIDLINE_CHANGESET_LOCK_HOURS. A lock that had
    expired can be taken up again only if no one took one of its grids meanwhile."""
    locked = for_update(change_set)
    _require_author(locked, user)
    _require_status(locked, EDITABLE)
    if problems := conflicts(locked):
        raise Refused(problems, 409)
    locked.lock_expires_at = lock_expiry()
    locked.save(update_fields=["lock_expires_at", "updated_at"])
    _event(locked, "lock_extended", user)
    return locked


@transaction.atomic
def take_over(change_set: ChangeSet, user) -> ChangeSet:
    """Another user who may author change sets of the region takes over a draft whose
    author's lock has expired (the author is away); the author's own call extends it."""
    locked = for_update(change_set)
    if is_author(user, locked):
        return extend_lock(locked, user)
    if not can_author(user, locked.region):
        raise refuse(
            "not_allowed",
            _("you may not redraw the grids of %(region)s") % {"region": locked.region},
            status=403,
        )
    _require_status(locked, EDITABLE)
    if locked.lock_expires_at > timezone.now():
        raise refuse(
            "locked",
            _("the change set is locked by %(author)s until %(at)s")
            % {
                "author": locked.author.username,
                "at": timezone.localtime(locked.lock_expires_at).strftime("%Y-%m-%d %H:%M"),
            },
            field="lock_expires_at",
        )
    if problems := conflicts(locked):
        raise Refused(problems, 409)
    previous = locked.author.username
    locked.author = user
    locked.lock_expires_at = lock_expiry()
    locked.version += 1
    locked.save(update_fields=["author", "lock_expires_at", "version", "updated_at"])
    _event(locked, "taken_over", user, comment=_("taken over from %(user)s") % {"user": previous})
    return locked


def check_current(change_set: ChangeSet, grids=None) -> None:
    """Refuse (409) a change set drawn on boundaries changed since, or that clashes with
    another; (400) one with validation errors. `grids`: its proposed state, when the caller
    has it already."""
    # Imported at call time: validation imports this module.
    from boundaries.services import validation

    problems = validation.validate(change_set, grids)
    if current := [p for p in problems if p.code in CURRENCY_CODES]:
        raise Refused(current, 409)
    if errors := [p for p in problems if p.severity == "error"]:
        raise Refused(errors, 400)


@transaction.atomic
def submit(change_set: ChangeSet, user) -> ChangeSet:
    """The author hands the change set in for approval; it must be current and valid."""
    locked = for_update(change_set)
    _require_author(locked, user)
    _require_status(locked, EDITABLE)
    if not locked.items.exists():
        raise refuse(
            "nothing_changed", _("the change set changes no grid"), status=400, field="items"
        )
    check_current(locked)
    locked.status = Status.SUBMITTED
    locked.submitted_at = timezone.now()
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    _event(locked, "submitted", user)
    return locked


@transaction.atomic
def approve(change_set: ChangeSet, user, comment: str = "") -> ChangeSet:
    """A reviewer approves a submitted change set, checked again as it stands now."""
    locked = for_update(change_set)
    _require_reviewer(locked, user)
    _require_status(locked, [Status.SUBMITTED], code="not_submitted")
    check_current(locked)
    locked.status = Status.APPROVED
    locked.reviewed_by = user
    locked.reviewed_at = timezone.now()
    locked.comment = comment or ""
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "comment", "updated_at"])
    _event(locked, "approved", user, comment=comment or "")
    return locked


@transaction.atomic
def return_for_changes(change_set: ChangeSet, user, comment: str) -> ChangeSet:
    """A reviewer sends the change set back to its author with what to change; the author
    gets the lock again."""
    locked = for_update(change_set)
    _require_reviewer(locked, user)
    _require_status(locked, [Status.SUBMITTED, Status.APPROVED], code="not_submitted")
    comment = (comment or "").strip()
    if not comment:
        raise refuse(
            "comment_required",
            _("say what the author should change"),
            status=400,
            field="comment",
        )
    locked.status = Status.RETURNED
    locked.comment = comment
    locked.reviewed_by = user
    locked.reviewed_at = timezone.now()
    locked.lock_expires_at = lock_expiry()
    locked.save(
        update_fields=[
            "status",
            "comment",
            "reviewed_by",
            "reviewed_at",
            "lock_expires_at",
            "updated_at",
        ]
    )
    _event(locked, "returned", user, comment=comment)
    return locked


@transaction.atomic
def withdraw(change_set: ChangeSet, user, comment: str = "") -> ChangeSet:
    """The author or a reviewer abandons an open change set; it holds no grid any more."""
    locked = for_update(change_set)
    if not (is_author(user, locked) or can_review(user, locked)):
        raise refuse(
            "not_allowed",
            _("only the author or a reviewer may withdraw the change set"),
            status=403,
        )
    _require_status(locked, OPEN, code="not_open")
    locked.status = Status.WITHDRAWN
    locked.save(update_fields=["status", "updated_at"])
    _event(locked, "withdrawn", user, comment=comment or "")
    return locked
