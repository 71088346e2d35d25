"""The steps a user may take on a need now, for the pages' buttons (`allowed_actions`). The
services decide (needs.services.access and each step's own checks); this only asks them, so
a button is never shown for a step the service would refuse for the role or the status."""

from __future__ import annotations

from needs.models import OPEN_DISPATCH, DispatchStatus, NeedStatus
from needs.services import access

EDITABLE = (NeedStatus.SUBMITTED, NeedStatus.ACCEPTED)


def _open_dispatch(need):
    found = getattr(need, "open_dispatches", None)
    if found is not None:
        return found[0] if found else None
    return need.dispatches.filter(status__in=OPEN_DISPATCH).first()


def allowed_actions(user, need) -> list[str]:
    actions = []
    reviewer = access.is_reviewer(user, need.community)
    # As needs.services.review: reviewers edit, decline and merge until dispatch; the grid's
    # worker edits while the need awaits review.
    if (reviewer and need.status in EDITABLE) or (
        need.status == NeedStatus.SUBMITTED and access.may_confirm(user, need)
    ):
        actions.append("edit")
    if reviewer and need.status == NeedStatus.SUBMITTED:
        actions.append("accept")
    if reviewer and need.status in EDITABLE:
        actions += ["decline", "merge"]
    if reviewer and need.status == NeedStatus.ACCEPTED:
        actions.append("dispatch")
    if need.status == NeedStatus.REPORTED and access.may_confirm(user, need):
        actions.append("confirm")
    dispatch = _open_dispatch(need)
    if dispatch is None:
        return actions
    own = access.acts_for_provider(user, dispatch.provider)
    if dispatch.status == DispatchStatus.SENT and own:
        actions.append("dispatch_accept")
    # 退单 before or after 接单 (needs.services.dispatch.decline).
    if dispatch.status in (DispatchStatus.SENT, DispatchStatus.ACCEPTED) and own:
        actions.append("dispatch_decline")
    # The community may record a service on the provider's behalf, accepted in the app or not.
    if (dispatch.status == DispatchStatus.ACCEPTED and own) or (
        reviewer and dispatch.status in (DispatchStatus.SENT, DispatchStatus.ACCEPTED)
    ):
        actions.append("dispatch_report")
    if reviewer and dispatch.status in (DispatchStatus.SENT, DispatchStatus.ACCEPTED):
        actions.append("dispatch_withdraw")
    return actions
