from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    """The core: jurisdiction tree, boundary versions, households, residents, users, scoping.

    It imports no other app; the others import it.
    """

    name = "grids"
    verbose_name = _("Grids and jurisdiction")
