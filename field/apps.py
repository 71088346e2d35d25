from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FieldConfig(AppConfig):
    """Grid workers' phone app (/field/): devices, the working set they pull, the outbox they
    push and patrols. A top-level leaf that uses the other apps' public services and is
    imported by none."""

    name = "field"
    verbose_name = _("field app")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Task photos under field/ are served by grids.media to those who see the task.
        from field import media

        media.register()
