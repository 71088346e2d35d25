"""The public doors as pages (#20), for a phone that scanned the QR on a grid's notice board:
`/needs/p/<key>/` raises a need (需求 / 微心愿) and `/needs/join/<key>/` registers a volunteer,
party member or unit with the grid's community (双报到). No login.

Plain HTML forms posted to the page itself, so they work in an old phone's webview with
script off or broken; the page's module only adds "use my location" and checks before
sending. The rules are the services' (needs.services.intake, providers, public: keys, rate
and size limits), the same ones the public API endpoints call."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.gis.geos import Point
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from needs.models import ProviderKind, ServiceKind, Urgency
from needs.services import public, public_posts
from needs.services.errors import Refused

PHOTO_TYPES = "image/jpeg,image/png,image/webp"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


def _kinds():
    return ServiceKind.objects.filter(active=True).order_by("order", "code")


class NeedForm(forms.Form):
    kind = forms.ModelChoiceField(
        queryset=ServiceKind.objects.none(),
        to_field_name="code",
        label=gettext_lazy("What kind of help"),
        empty_label=gettext_lazy("— choose —"),
    )
    title = forms.CharField(
        label=gettext_lazy("In one sentence"), max_length=public.TITLE_MAX, strip=True
    )
    description = forms.CharField(
        label=gettext_lazy("Details (optional)"),
        max_length=public.DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    urgency = forms.ChoiceField(
        label=gettext_lazy("How urgent"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
    )
    address = forms.CharField(
        label=gettext_lazy("Address (building, unit, room)"),
        max_length=public.ADDRESS_MAX,
        strip=True,
    )
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)
    contact_name = forms.CharField(
        label=gettext_lazy("Your name"), max_length=public.CONTACT_NAME_MAX, strip=True
    )
    contact_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=30, strip=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].queryset = _kinds()
        self.fields["contact_phone"].widget.attrs.update(inputmode="tel", autocomplete="tel")
        self.fields["contact_name"].widget.attrs.update(autocomplete="name")

    def clean_contact_phone(self):
        phone = public.normalise_phone(self.cleaned_data["contact_phone"])
        if phone is None:
            raise forms.ValidationError(
                _("Not a phone number: a mobile or a landline with its area code.")
            )
        return phone

    def clean(self):
        data = super().clean()
        if (data.get("lon") is None) != (data.get("lat") is None):
            raise forms.ValidationError(
                _("The position came incomplete; tap 'use my location' again.")
            )
        return data


# Who registers through the public door: people and co-building units (as the API's). A 实有
# 单位 is a unit of the base data, added by the community.
JOIN_KINDS = (
    (ProviderKind.PARTY_MEMBER, ProviderKind.PARTY_MEMBER.label),
    (ProviderKind.VOLUNTEER, ProviderKind.VOLUNTEER.label),
    (ProviderKind.CO_BUILDING, ProviderKind.CO_BUILDING.label),
)


class JoinForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("I register as"),
        choices=JOIN_KINDS,
        initial=ProviderKind.PARTY_MEMBER,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=gettext_lazy("Name (a person's or the unit's)"), max_length=100)
    organisation = forms.CharField(
        label=gettext_lazy("Party organisation or workplace"), max_length=100, required=False
    )
    phone = forms.CharField(label=gettext_lazy("Mobile phone (your login)"), max_length=30)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        min_length=8,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=gettext_lazy("Password again"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    offers = forms.ModelMultipleChoiceField(
        queryset=ServiceKind.objects.none(),
        to_field_name="code",
        label=gettext_lazy("What I can offer"),
        widget=forms.CheckboxSelectMultiple,
    )
    availability = forms.CharField(
        label=gettext_lazy("When (e.g. weekends)"), max_length=100, required=False
    )
    lon = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-180, max_value=180)
    lat = forms.FloatField(required=False, widget=forms.HiddenInput, min_value=-90, max_value=90)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offers"].queryset = _kinds()
        self.fields["phone"].widget.attrs.update(inputmode="tel", autocomplete="tel")

    def clean_phone(self):
        phone = public.normalise_phone(self.cleaned_data["phone"])
        if phone is None or not phone.isdigit():
            raise forms.ValidationError(_("A mobile number: it is the name you log in with."))
        return phone

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


def _grid(key: str):
    grid = public.grid_for_key(key)
    if grid is None:
        raise Http404(_("This code is not valid any more. Ask the community for a new one."))
    return grid


def _too_large(request) -> bool:
    multipart = request.content_type == "multipart/form-data"
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > public.body_limit(multipart)


def _point(data: dict) -> Point | None:
    if data.get("lon") is None:
        return None
    return Point(data["lon"], data["lat"], srid=4326)


def _refused(request, template: str, grid, form: forms.Form, error: Exception):
    """The form again with why: 429 and Retry-After for the rate, 400 for a refusal."""
    if isinstance(error, public.RateLimited):
        form.add_error(None, error.message)
        response = _page(request, template, grid, form, status=429, rate_limited=True)
        response["Retry-After"] = str(error.retry_after)
        return response
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))
    return _page(request, template, grid, form, status=400)


def _page(request, template: str, grid, form, *, status: int = 200, **extra):
    context = {
        "grid": grid,
        "community": grid.community,
        "form": form,
        "photos_max": settings.GRIDLINE_NEEDS_PHOTOS_MAX,
        "photo_types": PHOTO_TYPES,
        **extra,
    }
    return render(request, template, context, status=status)


# Posted from a phone that has no session with us: a CSRF cookie is one more thing an old
# webview may drop, and there is nothing to forge (the post acts for no one; the API's public
# endpoints are exempt for the same reason). Rate limits per address stand in.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def need_form(request, key: str):
    grid = _grid(key)
    template = "needs/public.html"
    if request.method == "GET":
        return _page(request, template, grid, NeedForm())
    if _too_large(request):
        form = NeedForm()
        form.add_error(None, _("The photos are too large together; send fewer or smaller ones."))
        return _page(request, template, grid, form, status=413)
    form = NeedForm(request.POST)
    photos = request.FILES.getlist("photos")
    if len(photos) > settings.GRIDLINE_NEEDS_PHOTOS_MAX:
        form.add_error(
            None,
            _("At most %(n)d photos.") % {"n": settings.GRIDLINE_NEEDS_PHOTOS_MAX},
        )
    if not form.is_valid():
        return _page(request, template, grid, form, status=400)
    data = dict(form.cleaned_data)
    data["kind"] = data["kind"].code
    data["location"] = _point(data)
    data.pop("lon"), data.pop("lat")
    try:
        need = public_posts.raise_public_need(public.submitter_key(request), data, photos, grid)
    except (public.RateLimited, Refused) as error:
        return _refused(request, template, grid, form, error)
    return _page(request, template, grid, None, number=need.number)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def join_form(request, key: str):
    grid = _grid(key)
    template = "needs/join.html"
    if request.method == "GET":
        return _page(request, template, grid, JoinForm())
    if _too_large(request):
        form = JoinForm()
        form.add_error(None, _("The form is too large."))
        return _page(request, template, grid, form, status=413)
    form = JoinForm(request.POST)
    if not form.is_valid():
        return _page(request, template, grid, form, status=400)
    data = dict(form.cleaned_data)
    # One offer per kind ticked, each with the same availability (the community edits them).
    availability = data.pop("availability")
    data["offers"] = [{"kind": k.code, "availability": availability} for k in data["offers"]]
    data["location"] = _point(data)
    data.pop("lon"), data.pop("lat"), data.pop("password_again")
    try:
        provider = public_posts.register_public(public.submitter_key(request), data, grid)
    except (public.RateLimited, Refused) as error:
        return _refused(request, template, grid, form, error)
    return _page(request, template, grid, None, provider=provider, phone=data["phone"])
