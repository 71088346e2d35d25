"""Kiosk logins in the admin: administrators issue (the link is shown once, in the message
after saving) and revoke them; the secret and the service user are never editable."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from screen.models import Kiosk
from screen.services import kiosks


@admin.register(Kiosk)
class KioskAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "region",
        "prefix",
        "created_by",
        "created_at",
        "last_seen_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    fields = ["name", "region"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_seen_at", "revoked_at"]
    actions = ["revoke"]

    def get_queryset(self, request):
        return kiosks.visible_kiosks(request.user).select_related("region", "created_by")

    def get_fields(self, request, obj=None):
        return ["name", "region"] if obj is None else ["name", "region", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["region", *self.readonly_fields]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and kiosks.may_issue(request.user)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            return form

        class IssueForm(form):
            def clean(self):
                # What kiosks.issue would refuse is shown on the form, before saving: the
                # admin never reports an object added that was not.
                data = super().clean()
                region = data.get("region")
                if region is not None and data.get("name"):
                    try:
                        kiosks.check(request.user, region.code, data["name"])
                    except kiosks.KioskRefused as refused:
                        field = refused.field if refused.field in self.fields else None
                        raise ValidationError(
                            {field: refused.message} if field else refused.message
                        ) from refused
                return data

        return IssueForm

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            from grids.models import Region

            kwargs["queryset"] = (
                Region.objects.visible_to(request.user)
                .current()
                .filter(level__in=list(kiosks.ROLE_OF_LEVEL))
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            Kiosk.objects.filter(pk=obj.pk).update(name=obj.name)
            return
        try:
            kiosk, secret = kiosks.issue(request.user, obj.region.code, obj.name)
        except kiosks.KioskRefused as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return
        obj.pk = kiosk.pk
        link = kiosks.link(request, secret)
        self.message_user(
            request,
            _("Open this link on the wall screen; it is shown only now: %(link)s") % {"link": link},
            messages.WARNING,
        )

    def has_delete_permission(self, request, obj=None):
        # Revoked, never deleted: the row says who left which screen open, and until when.
        return False

    @admin.action(description=gettext_lazy("Revoke the selected kiosk logins"))
    def revoke(self, request, queryset):
        for kiosk in queryset.filter(revoked_at__isnull=True).select_related("user"):
            kiosks.revoke(kiosk)
