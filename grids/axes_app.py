"""django-axes under a Chinese name in the admin (its package has no zh_Hans catalogue; the
model and field names are translated in locale/)."""

from axes.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoginAttemptsConfig(AppConfig):
    verbose_name = _("Login attempts")
