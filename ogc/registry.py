"""The collection registry of OGC API – Features (issue #19): what each app publishes at /ogc/.

A collection names its scoped source queryset (so every read follows the one scoping rule),
the geometry, the feature id (unique, indexed: the keyset the pages follow), the properties
(each an ORM path or expression, optionally queryable through CQL2), how `datetime` narrows
it (a state on a date through the version tables), and, for the collections a role may edit,
an Editor that writes through the app's own services. `ogc` imports no feature app: apps call
`register()` (or `register_family()` for collections made per row, e.g. one per sensor type)
from their AppConfig.ready().
"""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Expression, Model, QuerySet

# JSON Schema types of a property (queryables and the HTML tables use them). "object": a JSON
# object (a sensor's properties), written into the GeoJSON as is and never queryable.
TYPES = frozenset({"string", "integer", "number", "boolean", "date", "date-time", "object"})


@dataclass(frozen=True)
class Property:
    """One attribute of a feature. `source` is an ORM path ("grid__code") or an expression;
    `queryable` properties may be used in CQL2 filters (compiled to the same path)."""

    name: str
    source: str | Expression
    type: str = "string"
    title: Any = ""  # a lazy translation
    queryable: bool = True
    enum: Callable[[object], list] | None = None  # the values a user may see, for queryables
    nullable: bool = True

    def __post_init__(self):
        if self.type not in TYPES:
            raise ValueError(f"property {self.name!r}: unknown type {self.type!r}")


@dataclass(frozen=True)
class Interval:
    """A `datetime` parameter: an instant (start == end) or an interval, either end open."""

    start: dt.datetime | None
    end: dt.datetime | None

    @property
    def instant(self) -> bool:
        return self.start is not None and self.start == self.end


@dataclass(frozen=True)
class Feature:
    """A feature a client sent (create, replace, update): the geometry as GEOS in SRID 4326
    (already transformed from the request's CRS), or None when absent, and its properties."""

    geometry: Any
    properties: dict


@dataclass(frozen=True)
class Editor:
    """Part 4: how a collection's features are written, always through the app's services.

    `create(user, feature) -> obj`, `replace(user, obj, feature) -> obj`,
    `update(user, obj, feature) -> obj` (a merge patch: only what is present changes),
    `delete(user, obj)`. Each raises grids.problems.ProblemsError for bad input or a place
    outside the user's jurisdiction (a refusal of this one object, e.g. a department's hold
    on another's device, carries `status_code` 403). `version(obj)` is what the ETag is
    made from; it must change on every write. The views (ogc/views/edits.py) hold the row
    locked (SELECT ... FOR UPDATE) in the request's transaction while they call these.
    A create that found the feature a resend made already (a client key) marks the object
    `resent = True`: answered 200, not 201.
    """

    roles: frozenset[str]
    create: Callable[[object, Feature], Model] | None
    replace: Callable[[object, Model, Feature], Model] | None
    update: Callable[[object, Model, Feature], Model] | None
    delete: Callable[[object, Model], None] | None
    version: Callable[[Model], str]
    writable: tuple[str, ...] = ()  # property names a client may send
    required: tuple[str, ...] = ()  # property names a create must carry
    # Who may delete, when fewer than `roles` (sensors: the district centre only).
    delete_roles: frozenset[str] | None = None

    def may(self, user, operation: str | None = None) -> bool:
        """Whether the user's role may write (`operation` "delete": may delete)."""
        if not (user.is_authenticated and user.is_active):
            return False
        roles = self.roles
        if operation == "delete" and self.delete_roles is not None:
            roles = self.delete_roles
        return user.is_superuser or user.role in roles


@dataclass(frozen=True)
class Collection:
    id: str  # the URL segment: lower case, digits, "-" and "_"
    title: Any
    description: Any
    queryset: Callable[[object], QuerySet]  # scoped by visible_to(user): the current state
    geometry: str  # ORM path of the geometry column (SRID 4326), e.g. "geom" or "location"
    geometry_type: str  # GeoJSON type: "Point", "MultiPolygon" ...
    id_field: str  # unique and indexed; features are ordered and paged by it
    id_type: str = "integer"  # "integer" or "string"
    properties: tuple[Property, ...] = ()
    # Narrows the queryset to a `datetime` (an instant: the state on that day; an interval:
    # what existed at some time within it), for the user (what the rows say of that time
    # follows the scoping rule too: a household's grid then may be another jurisdiction's).
    # None: the collection has no time.
    temporal: Callable[[QuerySet, Interval, object], QuerySet] | None = None
    # The scoped rows of all times that `temporal` narrows (the current state cannot be
    # narrowed to a past date: what was removed since is not in it). None: `queryset`.
    history: Callable[[object], QuerySet] | None = None
    # (first, last) ISO dates of the rows of all times, over what `user` may see (called with
    # the user: another district's first boundary date is not the user's to learn).
    temporal_extent: Callable[..., tuple[str | None, str | None]] | None = None
    roles: frozenset[str] | None = None  # None: every signed-in user (scoped by queryset)
    # Large tables omit numberMatched (a COUNT(*) per page would cost more than the page).
    large: bool = False
    editor: Editor | None = None
    read_only_note: Any = ""  # e.g. grid boundaries change through change sets
    read_only_link: str = ""  # where edits go instead (a path)
    order: int = 100
    keywords: tuple[str, ...] = ()
    # What a family's member is made from (a sensor collection: {"sensor_type": code}).
    extras: dict = field(default_factory=dict)

    def visible_to(self, user) -> bool:
        if not (user.is_authenticated and user.is_active):
            return False
        return self.roles is None or user.is_superuser or user.role in self.roles

    def property(self, name: str) -> Property | None:
        for prop in self.properties:
            if prop.name == name:
                return prop
        return None

    def rows(self, user, interval: Interval | None = None) -> QuerySet:
        """What the items of `user` are: the current state, or the state `interval` asks for."""
        if interval is None or self.temporal is None:
            return self.queryset(user)
        return self.temporal((self.history or self.queryset)(user), interval, user)

    # `property` is the method above within this class body: the builtin by its full name.
    @builtins.property
    def queryables(self) -> tuple[Property, ...]:
        return tuple(p for p in self.properties if p.queryable)


_collections: dict[str, Collection] = {}
_families: list[Callable[[object], Iterable[Collection]]] = []


def register(collection: Collection) -> Collection:
    if collection.id in _collections:
        raise ValueError(f"OGC collection {collection.id!r} is registered twice")
    _collections[collection.id] = collection
    return collection


def register_family(source: Callable[[object], Iterable[Collection]]) -> None:
    """Collections made per row (one per sensor type): `source(user)` yields those the user
    may see; their ids must not clash with registered ones."""
    _families.append(source)


def collections_for(user) -> list[Collection]:
    found = [c for c in _collections.values() if c.visible_to(user)]
    for source in _families:
        found.extend(c for c in source(user) if c.visible_to(user))
    return sorted(found, key=lambda c: (c.order, c.id))


def get(collection_id: str, user) -> Collection | None:
    """The collection if the user may see it (None otherwise: answered as 404)."""
    found = _collections.get(collection_id)
    if found is not None:
        return found if found.visible_to(user) else None
    for source in _families:
        for candidate in source(user):
            if candidate.id == collection_id and candidate.visible_to(user):
                return candidate
    return None
