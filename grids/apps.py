from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridsConfig(AppConfig):
    """The core: jurisdiction tree, boundary versions, households, residents, users, scoping.

    It imports no other app; the others import it.
    """

    name = "grids"
    verbose_name = _("Grids and jurisdiction")

    def ready(self):
        from django.apps import apps
        from django.db.models.signals import post_delete, post_save

        from grids.auth import forget_user
        from grids.i18n import name_derived_labels

        # Every model is loaded before any ready(): the names Django derived go through the
        # catalogue (grids/i18n.py), the other apps' and the background queue's included.
        name_derived_labels(apps.get_app_configs())
        from grids.models import User

        post_save.connect(forget_user, sender=User, dispatch_uid="grids.forget_user.save")
        post_delete.connect(forget_user, sender=User, dispatch_uid="grids.forget_user.delete")
        from grids.services.tokens import revoke_on_password_change

        post_save.connect(
            revoke_on_password_change, sender=User, dispatch_uid="grids.tokens.password"
        )
