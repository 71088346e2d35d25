"""Who sees a need's contact and a provider's name and phone as they are (decision 4's masks):
roles that see personal data; a provider's users only for the needs they have accepted (接单),
never before. Unmasked reads are audited, as residents' are."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from grids import scoping
from grids.services import audit
from needs.models import Dispatch, DispatchStatus

# A provider has the resident's contact from its 接单 on (it has to call or visit), and for a
# week after the need is confirmed done (a follow-up call); after that it is masked again.
UNDER_WAY = (DispatchStatus.ACCEPTED, DispatchStatus.REPORTED)
CONTACT_AFTER_DONE = dt.timedelta(days=7)


class Masks:
    """Built once per request (one query for a provider, none for anyone else)."""

    def __init__(self, user):
        self.user = user
        self.personal = scoping.sees_personal_data(user)
        self.accepted: frozenset[int] = frozenset()
        if not self.personal and getattr(user, "role", "") == "provider":
            since = timezone.now() - CONTACT_AFTER_DONE
            self.accepted = frozenset(
                Dispatch.objects.filter(provider__users=user)
                .filter(
                    Q(status__in=UNDER_WAY)
                    | Q(status=DispatchStatus.CONFIRMED, need__confirmed_at__gte=since)
                )
                .values_list("need_id", flat=True)
            )

    def sees_contact(self, need) -> bool:
        return self.personal or need.pk in self.accepted

    def contact(self, need) -> dict:
        if self.sees_contact(need):
            return {"contact_name": need.contact_name, "contact_phone": need.contact_phone}
        return {
            "contact_name": scoping.mask_name(need.contact_name),
            "contact_phone": scoping.mask_phone(need.contact_phone),
        }

    def provider_name(self, provider) -> str:
        if provider.is_person and not self.personal and not self._own(provider):
            return scoping.mask_name(provider.name)
        return provider.name

    def provider_phone(self, provider) -> str:
        if self.personal or self._own(provider):
            return provider.phone
        return scoping.mask_phone(provider.phone)

    def username(self, account) -> str | None:
        """Who took a step. A 双报到 account's user name is its phone: roles without personal
        data (and other providers) read a provider's account masked."""
        if account is None:
            return None
        if self.personal or account.pk == self.user.pk or account.role != "provider":
            return account.username
        return scoping.mask_phone(account.username)

    def sees_event(self, event) -> bool:
        """A provider reads a need's history without other providers' steps (their names,
        reasons and accounts are not its business)."""
        if getattr(self.user, "role", "") != "provider" or event.provider_id is None:
            return True
        return event.provider_id in self.own_ids

    def _own(self, provider) -> bool:
        # A provider's users see their own registration as they wrote it.
        return getattr(self.user, "role", "") == "provider" and provider.pk in self.own_ids

    @property
    def own_ids(self) -> frozenset[int]:
        if not hasattr(self, "_own_ids"):
            self._own_ids = frozenset(self.user.providers.values_list("pk", flat=True))
        return self._own_ids


def audit_needs(request, needs, masks: Masks) -> None:
    """Needs whose contact was read unmasked: who, which, where."""
    ids = [n.pk for n in needs if masks.sees_contact(n) and (n.contact_name or n.contact_phone)]
    audit.log_personal_read(request.user, "need", ids, channel="api", path=request.get_full_path())


def audit_providers(request, providers, masks: Masks) -> None:
    if not masks.personal:
        return
    ids = [p.pk for p in providers if p.is_person or p.phone]
    audit.log_personal_read(
        request.user, "provider", ids, channel="api", path=request.get_full_path()
    )
