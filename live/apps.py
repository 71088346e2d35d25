from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    """Live events: an event log kept a day or more, published inside the writer's
    transaction and streamed to open pages (Server-Sent Events at /events/), scoped per user.

    It imports grids only; the feature apps (incidents, sensors) call `live.services.publish`.
    """

    name = "live"
    verbose_name = _("Live events")
    default_auto_field = "django.db.models.BigAutoField"
