"""The admin site's own words in the interface language: its header, the names of
permissions (Django stores "Can add incident" in the database, in English, whatever the
language), and the background queue's pages (procrastinate's admin, which has English
strings that no catalogue can reach: column titles, actions, job states and a summary
template). The queue's admin is replaced by a subclass that says the same things through
gettext; what it does is unchanged."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.models import Group, Permission
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from procrastinate.contrib.django import admin as queue_admin
from procrastinate.contrib.django import models as queue_models

admin.site.site_header = _("Gridline administration")
admin.site.site_title = _("Gridline administration")

PERMISSION = "permission"
# Django's default permissions: "<action>_<model name>".
PERMISSION_ACTIONS = {
    "add": pgettext_lazy(PERMISSION, "add"),
    "change": pgettext_lazy(PERMISSION, "change"),
    "delete": pgettext_lazy(PERMISSION, "delete"),
    "view": pgettext_lazy(PERMISSION, "view"),
}


def permission_label(permission: Permission) -> str:
    """The label of a permission in a choice: "网格与辖区 | 网格 | 可以修改网格" for Django's
    default permissions (their stored name is English); another keeps its own name."""
    action, _sep, model_name = permission.codename.partition("_")
    model = permission.content_type.model_class()
    name = permission.name
    if action in PERMISSION_ACTIONS and model is not None and model_name == model._meta.model_name:
        name = _("Can %(action)s %(model)s") % {
            "action": PERMISSION_ACTIONS[action],
            "model": model._meta.verbose_name,
        }
    return f"{permission.content_type} | {name}"


class PermissionLabels:
    """For a ModelAdmin with a choice of permissions (users, groups)."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.related_model is Permission:
            field.label_from_instance = permission_label
        return field


class GroupAdmin(PermissionLabels, BaseGroupAdmin):
    pass


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)

# States of a job and kinds of its events (procrastinate's values), with a context: the same
# English words name other things elsewhere in the catalogue.
JOB = "background job"
JOB_STATES = {
    "todo": pgettext_lazy(JOB, "todo"),
    "doing": pgettext_lazy(JOB, "doing"),
    "succeeded": pgettext_lazy(JOB, "succeeded"),
    "failed": pgettext_lazy(JOB, "failed"),
    "cancelled": pgettext_lazy(JOB, "cancelled"),
    "aborting": pgettext_lazy(JOB, "aborting"),
    "aborted": pgettext_lazy(JOB, "aborted"),
}
JOB_EVENTS = {
    "deferred": pgettext_lazy(JOB, "deferred"),
    "started": pgettext_lazy(JOB, "started"),
    "deferred_for_retry": pgettext_lazy(JOB, "deferred for retry"),
    "failed": pgettext_lazy(JOB, "failed"),
    "succeeded": pgettext_lazy(JOB, "succeeded"),
    "cancelled": pgettext_lazy(JOB, "cancelled"),
    "abort_requested": pgettext_lazy(JOB, "abort requested"),
    "aborted": pgettext_lazy(JOB, "aborted"),
    "scheduled": pgettext_lazy(JOB, "scheduled"),
}


class JobStateFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return list(JOB_STATES.items())

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class JobEventInline(queue_admin.ProcrastinateEventInline):
    fields = ["event", "at"]
    readonly_fields = ["event", "at"]

    @admin.display(description=_("event"))
    def event(self, instance) -> str:
        return JOB_EVENTS.get(instance.type, instance.type)


class JobAdmin(queue_admin.ProcrastinateJobAdmin):
    list_filter = [
        JobStateFilter,
        "queue_name",
        "task_name",
        "lock",
        "queueing_lock",
        "scheduled_at",
        "priority",
    ]
    inlines = [JobEventInline]
    actions = ["retry", "cancel", "abort"]

    @admin.display(description=_("status"))
    def pretty_status(self, instance) -> str:
        emoji = queue_admin.JOB_STATUS_EMOJI_MAPPING.get(instance.status, "")
        return f"{emoji} {JOB_STATES.get(instance.status, instance.status)}"

    @admin.display(description=_("task name"))
    def short_task_name(self, instance) -> str:
        return super().short_task_name(instance)

    @admin.display(description=_("args"))
    def pretty_args(self, instance) -> str:
        return super().pretty_args(instance)

    @admin.display(description=_("summary"))
    def summary(self, instance) -> str:
        last_event = instance.procrastinateevent_set.first()
        if last_event is None:
            return ""
        return mark_safe(
            render_to_string(
                "admin/background_job_summary.html",
                {
                    "event": JOB_EVENTS.get(last_event.type, last_event.type),
                    "last_event": last_event,
                    "job": instance,
                    "now": timezone.now(),
                },
            ).strip()
        )

    @admin.action(description=_("Retry the failed or running jobs"))
    def retry(self, request, queryset):
        return super().retry(request, queryset)

    @admin.action(description=_("Cancel the jobs still to do"))
    def cancel(self, request, queryset):
        return super().cancel(request, queryset)

    @admin.action(description=_("Abort the jobs to do or running"))
    def abort(self, request, queryset):
        return super().abort(request, queryset)


# procrastinate's admin module registered its own on import (above); this one replaces it.
if admin.site.is_registered(queue_models.ProcrastinateJob):
    admin.site.unregister(queue_models.ProcrastinateJob)
admin.site.register(queue_models.ProcrastinateJob, JobAdmin)
