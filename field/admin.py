"""The admin of the field app (issue #18): phones of grid workers, listed with their last
sync and revoked with an action (the token goes with the device); patrols and outbox
receipts are in field/admin_patrols.py (read-only)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from field import admin_patrols  # noqa: F401  (OUTBOX: patrols and receipts)
from field.models import Device
from field.services import devices


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "created_at", "last_sync_at", "revoked_at", "wiped_at")
    list_filter = ("revoked_at", "last_sync_at")
    search_fields = ("name", "user__username", "user__first_name", "user__last_name")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "token",
        "name",
        "user_agent",
        "created_at",
        "last_sync_at",
        "last_seen_at",
        "revoked_at",
        "revoked_by",
        "wiped_at",
    )
    actions = ["revoke"]
    ordering = ("-created_at",)

    # Scoped as the devices API: staff see the devices of the grid workers they look after.
    def get_queryset(self, request):
        return devices.visible_to(request.user)

    def _staff(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and devices.may_manage(user))

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        # Nothing is edited by hand; the action revokes.
        return False

    def has_add_permission(self, request):
        return False  # devices are registered by the phone's login

    def has_delete_permission(self, request, obj=None):
        return False  # a revoked device is kept: who had access, and when it was wiped

    @admin.action(description=_("Revoke the selected devices (the phones wipe their data)"))
    def revoke(self, request, queryset):
        count = 0
        for device in queryset.filter(revoked_at__isnull=True):
            devices.revoke(device, request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(n)d device revoked.", "%(n)d devices revoked.", count) % {"n": count},
            messages.SUCCESS,
        )

    def get_actions(self, request):
        # Actions show only with a change permission; revoking is this admin's one action.
        actions = super().get_actions(request)
        if self._staff(request) and "revoke" not in actions:
            func, name, description = self.get_action("revoke")
            actions[name] = (func, name, description)
        return actions
