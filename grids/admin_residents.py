"""Residents in their household's admin form: personal data masked for roles that do not
need them, tags and their levels checked against the catalogue held as data."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from grids import scoping
from grids.models import Resident
from grids.services.basedata import TagCatalogue

WRITERS = {"grid_worker", "community_staff", "street_centre", "administrator"}


def raise_problems(problems) -> None:
    """A service's problems as form errors on their fields (tag_levels.disabled → tag_levels)."""
    if not problems:
        return
    errors: dict[str | None, list[str]] = {}
    for problem in problems:
        field = (problem.field or "").split(".")[0] or None
        errors.setdefault(field, []).append(problem.message)
    raise ValidationError(errors)


class ResidentForm(forms.ModelForm):
    """Tags checked against the catalogue as it stands: an administrator's new kind is
    accepted at once, an unknown code or level refused by name."""

    class Meta:
        model = Resident
        fields = [
            "name",
            "id_number",
            "phone",
            "birth_date",
            "sex",
            "relation",
            "registration",
            "residence_since",
            "origin",
            "tags",
            "tag_levels",
        ]

    def clean(self):
        cleaned = super().clean()
        if "tags" not in self.fields:
            return cleaned
        carried = self.instance.tags if self.instance.pk else ()
        raise_problems(
            TagCatalogue().check(
                cleaned.get("tags") or [], cleaned.get("tag_levels") or {}, carried=carried
            )
        )
        return cleaned


class ResidentInline(admin.TabularInline):
    model = Resident
    form = ResidentForm
    extra = 0
    fields = [
        "name",
        "id_number",
        "phone",
        "birth_date",
        "sex",
        "relation",
        "registration",
        "residence_since",
        "origin",
        "tags",
        "tag_levels",
    ]

    def get_readonly_fields(self, request, obj=None):
        if scoping.sees_personal_data(request.user):
            return []
        return ["masked_name", "masked_id_number", "masked_phone", "masked_birth_date"]

    def get_fields(self, request, obj=None):
        if scoping.sees_personal_data(request.user):
            return self.fields
        return [
            "masked_name",
            "masked_id_number",
            "masked_phone",
            "masked_birth_date",
            "sex",
            "relation",
            "registration",
            "residence_since",
            "origin",
            "tags",
            "tag_levels",
        ]

    @admin.display(description=_("birth date"))
    def masked_birth_date(self, obj):
        return scoping.mask_birth_date(obj.birth_date)

    @admin.display(description=_("full name"))
    def masked_name(self, obj):
        return scoping.mask_name(obj.name)

    @admin.display(description=_("ID card number"))
    def masked_id_number(self, obj):
        return scoping.mask_id_number(obj.id_number)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return scoping.mask_phone(obj.phone)

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None):
        user = request.user
        return scoping.sees_personal_data(user) and (user.is_superuser or user.role in WRITERS)

    has_add_permission = has_change_permission

    def has_delete_permission(self, request, obj=None):
        return self.has_change_permission(request, obj)
