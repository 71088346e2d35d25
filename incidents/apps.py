from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    """Incidents and tasks: report, dispatch, escalate (吹哨), handle, verify, close, rate (#4)."""

    name = "incidents"
    verbose_name = _("Incidents and tasks")

    def ready(self) -> None:
        # The incidents layer on the command-centre map (maps.registry), and incident and
        # visit figures as derived indicators of 一表通 (reports.derived).
        from incidents import indicators, layers  # noqa: F401

    def build_demo(self, scale, progress=None):
        """Called by `manage.py demo` once the demo district is built: a year of incidents
        with their timelines, and visit tasks (incidents.services.demo)."""
        from incidents.services import demo

        return demo.build(scale, progress=progress)
