"""The services list (服务清单, /needs/services/) and the QR posters for the grids' notice boards
(/needs/posters/), issue #20.

The services list shows the providers registered with the user's communities and what each
offers; pending 双报到 registrations come first, each confirmed with a point on the map (a
provider needs a location before it can be dispatched to). Changes go through the JSON API
(needs/static/needs/services.js). The posters are printed: one A4 page per grid with a QR of
the public need form and one of the registration form, as inline SVG (segno), so printing
needs nothing but the page."""

from __future__ import annotations

import segno
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Sum
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from grids import scoping
from grids.models import Grid, Level, Region, Role
from grids.services import audit
from needs.models import (
    OPEN_DISPATCH,
    DispatchStatus,
    Provider,
    ProviderKind,
    ProviderStatus,
    ServiceKind,
    ServiceOffer,
)
from needs.services import access
from needs.services.public import intake_key
from needs.views_board import gate, id_param, provider_name

PROVIDERS_PER_PAGE = 40


def _reviewer(user) -> bool:
    return scoping.sees_everything(user) or user.role in access.REVIEWER_ROLES


def _shown_phone(provider: Provider, personal: bool) -> str:
    return provider.phone if personal else scoping.MASKS["phone"](provider.phone)


@login_required
def services(request):
    """服务清单: providers with their offers, load and contributions; pending registrations
    to confirm (reviewers) with a map to set where each serves from."""
    user = request.user
    if user.role == Role.PROVIDER:
        return redirect("needs:inbox")
    gate(user)
    personal = scoping.sees_personal_data(user)
    get = request.GET
    f = {
        "kind": get.get("kind") if get.get("kind") in ProviderKind.values else "",
        "status": get.get("status") if get.get("status") in ProviderStatus.values else "",
        "service": (get.get("service") or "").strip()[:32],
        "community": id_param(get.get("community")),
        "q": (get.get("q") or "").strip()[:60],
    }
    providers = Provider.objects.visible_to(user)
    if f["kind"]:
        providers = providers.filter(kind=f["kind"])
    if f["status"]:
        providers = providers.filter(status=f["status"])
    if f["service"]:
        providers = providers.filter(
            Exists(
                ServiceOffer.objects.filter(
                    provider=OuterRef("pk"), kind__code=f["service"], active=True
                )
            )
        )
    if f["community"] is not None:
        providers = providers.filter(community=f["community"])
    if f["q"]:
        providers = providers.filter(Q(name__icontains=f["q"]) | Q(organisation__icontains=f["q"]))
    pending = list(
        providers.filter(status=ProviderStatus.PENDING)
        .select_related("community")
        .order_by("registered_at", "pk")[:50]
    )
    listed = (
        providers.exclude(status=ProviderStatus.PENDING)
        .select_related("community", "grid")
        .annotate(
            load=Count("dispatches", filter=Q(dispatches__status__in=OPEN_DISPATCH)),
            served=Count("dispatches", filter=Q(dispatches__status=DispatchStatus.CONFIRMED)),
            hours=Sum("dispatches__hours", filter=Q(dispatches__status=DispatchStatus.CONFIRMED)),
        )
        .prefetch_related(
            Prefetch(
                "offers",
                ServiceOffer.objects.select_related("kind")
                .prefetch_related("area")
                .order_by("kind__order", "pk"),
            )
        )
        .order_by("community__code", "kind", "name", "pk")
    )
    page = Paginator(listed, PROVIDERS_PER_PAGE).get_page(get.get("page"))
    shown = [*pending, *page]
    for p in shown:
        p.shown_name = provider_name(p, personal)
        p.shown_phone = _shown_phone(p, personal)
    if personal:
        audit.log_personal_read(
            user,
            "provider",
            [p.pk for p in shown if p.is_person],
            channel="page",
            path=request.get_full_path(),
        )
    communities = list(
        Region.objects.visible_to(user)
        .current()
        .filter(level=Level.COMMUNITY)
        .order_by("code")
        .values_list("pk", "name")
    )
    query = {k: v for k, v in f.items() if v not in (None, "")}
    reviewer = _reviewer(user)
    config = {
        "urls": {
            "providers": "/api/needs/providers/",
            "offers": "/api/needs/offers/",
            "style": reverse("map-style") + "?theme=light",
        },
        "communities": communities,
    }
    return render(
        request,
        "needs/services.html",
        {
            "pending": pending if reviewer else [],
            "page": page,
            "filters": f,
            "query": urlencode(query),
            "provider_kinds": ProviderKind.choices,
            "provider_statuses": ProviderStatus.choices,
            "kinds": ServiceKind.objects.filter(active=True).values_list("code", "name"),
            "communities": communities if len(communities) > 1 else [],
            "reviewer": reviewer,
            "config": config,
        },
    )


def qr_svg(url: str) -> str:
    """A QR of `url` as inline SVG scaled by its box (a viewBox, no fixed size), error
    correction M at least (segno raises it when the size allows): a poster outdoors gets
    scratched."""
    code = segno.make(url, error="m", micro=False)
    return code.svg_inline(scale=1, border=2, omitsize=True, dark="#000", light="#fff")


@login_required
def posters(request):
    """One printable A4 poster per grid: the community and grid, a QR of the public need form
    (扫码提交微心愿 / 需求) with its address printed under it, and a QR of the 双报到
    registration. A user who sees several communities picks one first."""
    user = request.user
    if user.role == Role.PROVIDER:
        return redirect("needs:inbox")
    gate(user)
    communities = list(
        Region.objects.visible_to(user)
        .current()
        .filter(level=Level.COMMUNITY)
        .select_related("parent")
        .order_by("code")
    )
    chosen = id_param(request.GET.get("community"))
    if len(communities) == 1:
        chosen = communities[0].pk
    grids = Grid.objects.visible_to(user).current().select_related("community").order_by("code")
    if user.role == Role.GRID_WORKER:
        grids = grids.filter(pk=user.grid_id)
    elif chosen is not None:
        grids = grids.filter(community=chosen)
    else:
        grids = grids.none()
    # The address the page was opened at: print from the address residents' phones reach.
    base = request.build_absolute_uri("/").rstrip("/")
    sheets = []
    for grid in grids:
        key = intake_key(grid)
        need_url = base + reverse("needs:public", args=[key])
        join_url = base + reverse("needs:join", args=[key])
        sheets.append(
            {
                "grid": grid,
                "need_url": need_url,
                "join_url": join_url,
                "need_qr": mark_safe(qr_svg(need_url)),  # noqa: S308 - segno's own markup
                "join_qr": mark_safe(qr_svg(join_url)),  # noqa: S308 - segno's own markup
            }
        )
    return render(
        request,
        "needs/posters.html",
        {
            "communities": communities if len(communities) > 1 else [],
            "chosen": chosen,
            "sheets": sheets,
            "base": base,
        },
    )
