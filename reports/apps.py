from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """一表通: indicators, department templates, ledgers, reminders, one-click reports (#5)."""

    name = "reports"
    verbose_name = _("Reports (one form for all)")

    def ready(self) -> None:
        # The foundation's figures as derived indicators (grids imports no other app).
        from reports import grid_indicators  # noqa: F401
        from reports.services.indicators import sync_derived_after_migrate

        post_migrate.connect(sync_derived_after_migrate, sender=self)

    def build_demo(self, scale, progress=None):
        """Called by `manage.py demo` once the demo district is built (after incidents, whose
        figures the reports use): the 一表通 catalogue, the departments' templates and a year
        of ledger values and submissions (reports.services.demo)."""
        from reports.services import demo

        return demo.build(scale, progress=progress)
