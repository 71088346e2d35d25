from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NeedsConfig(AppConfig):
    """Needs and services (需求清单 · 服务清单 · 微心愿): residents' needs matched with who can
    serve them, dispatched and confirmed (#20)."""

    name = "needs"
    verbose_name = _("Needs and services")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from grids import keyed, media
        from grids.signals import grid_area_changed, grids_retired
        from needs.media import may_see_photo
        from needs.signals import on_grid_area_changed, on_grids_retired
        from needs.sql import OPEN_NEEDS, PROVIDERS

        # Boundary changes (issue #7): open needs and providers move with their points, the
        # needs of a retired grid with it; the boundary editor's preview counts them.
        keyed.register(OPEN_NEEDS)
        keyed.register(PROVIDERS)
        grid_area_changed.connect(on_grid_area_changed, dispatch_uid="needs_rekey")
        grids_retired.connect(on_grids_retired, dispatch_uid="needs_retired")
        # Photos (needs.models.photo_path: needs/<need id>/...) are as private as the need.
        media.register("needs", may_see_photo)
        # The needs and providers layers of the command-centre map (maps.registry) and the
        # needs' figures as derived indicators of 一表通 (reports.derived).
        from needs import indicators, layers  # noqa: F401

    def demo_missing(self) -> bool:
        """`manage.py demo --if-empty`: the demo district is there but its needs are not."""
        from needs.services import demo

        return demo.missing()

    def build_demo(self, scale, progress=None):
        """Called by `manage.py demo` once the demo district is built: a month of needs,
        providers and their offers, dispatches and confirmations (needs.services.demo)."""
        from needs.services import demo

        return demo.build(scale, progress=progress)
