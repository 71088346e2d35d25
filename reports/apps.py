from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """一表通: indicators, department templates, ledgers, reminders, one-click reports (#5)."""

    name = "reports"
    verbose_name = _("Reports (one form for all)")

    def ready(self) -> None:
        from grids.changes import data_changed

        # The foundation's figures as derived indicators (grids imports no other app), and
        # its subjects of indicators defined as data (reports.subjects).
        from reports import (
            grid_indicators,  # noqa: F401
            grid_subjects,  # noqa: F401
        )
        from reports.models import Indicator
        from reports.services import snapshots
        from reports.services.indicators import sync_derived_after_migrate

        post_migrate.connect(sync_derived_after_migrate, sender=self)
        # Past figures kept (daily snapshots) are dropped by back-dated changes and edits.
        data_changed.connect(snapshots.on_data_changed, dispatch_uid="reports-snapshots")
        post_save.connect(
            snapshots.on_indicator_saved, sender=Indicator, dispatch_uid="reports-snapshots"
        )

    def build_demo(self, scale, progress=None):
        """Called by `manage.py demo` once the demo district is built (after incidents, whose
        figures the reports use): the 一表通 catalogue, the departments' templates and a year
        of ledger values and submissions (reports.services.demo)."""
        import datetime as dt

        from reports.services import demo, snapshots

        # The district's data were just (re)written without announcing it: nothing kept of
        # past periods can stand.
        snapshots.drop_since(dt.date.min)
        return demo.build(scale, progress=progress)
