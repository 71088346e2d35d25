from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """一表通: indicators, department templates, ledgers, reminders, one-click reports (#5)."""

    name = "reports"
    verbose_name = _("Reports (one form for all)")
