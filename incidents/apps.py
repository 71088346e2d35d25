from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    """Incidents and tasks: report, dispatch, escalate (吹哨), handle, verify, close, rate (#4)."""

    name = "incidents"
    verbose_name = _("Incidents and tasks")

    def ready(self) -> None:
        # The incidents layer on the command-centre map (maps.registry).
        from incidents import layers  # noqa: F401
