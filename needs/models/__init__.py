"""The needs app's models, one module per idea: the catalogue of service kinds, needs (with
their photos and history), providers and their offers (the services list), dispatches."""

# isort: off
from needs.models.catalogue import ServiceKind
from needs.models.needs import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Need,
    NeedAction,
    NeedEvent,
    NeedPhoto,
    NeedQuerySet,
    NeedSource,
    NeedStatus,
    PhotoStage,
    Urgency,
    next_number,
)
from needs.models.providers import (
    PERSON_KINDS,
    Provider,
    ProviderKind,
    ProviderQuerySet,
    ProviderStatus,
    ServiceOffer,
)
from needs.models.dispatch import OPEN_DISPATCH, Dispatch, DispatchQuerySet, DispatchStatus
# isort: on

__all__ = [
    "CLOSED_STATUSES",
    "OPEN_DISPATCH",
    "OPEN_STATUSES",
    "PERSON_KINDS",
    "Dispatch",
    "DispatchQuerySet",
    "DispatchStatus",
    "Need",
    "NeedAction",
    "NeedEvent",
    "NeedPhoto",
    "NeedQuerySet",
    "NeedSource",
    "NeedStatus",
    "PhotoStage",
    "Provider",
    "ProviderKind",
    "ProviderQuerySet",
    "ProviderStatus",
    "ServiceKind",
    "ServiceOffer",
    "Urgency",
    "next_number",
]
