from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    """Needs and services (需求清单 · 服务清单 · 微心愿): residents' needs matched with who can
    serve them, dispatched and confirmed (#20)."""

    name = "needs"
    verbose_name = _("Needs and services")
    default_auto_field = "django.db.models.BigAutoField"
