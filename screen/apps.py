from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreenConfig(AppConfig):
    """The wall screen (一屏统揽大屏) and its kiosk logins: a top-level leaf that reads the
    other apps' public names and is imported by none."""

    name = "screen"
    verbose_name = _("wall screen")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from screen import signals

        signals.connect()
