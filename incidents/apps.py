from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    """Incidents and tasks: report, dispatch, escalate (吹哨), handle, verify, close, rate (#4)."""

    name = "incidents"
    verbose_name = _("Incidents and tasks")

    def ready(self) -> None:
        from grids import keyed
        from grids.signals import grid_area_changed, grids_retired

        # The incidents layer on the command-centre map (maps.registry), incident and visit
        # figures as derived indicators of 一表通 (reports.derived), and incidents, tasks and
        # visits as subjects of indicators defined as data (reports.subjects).
        from incidents import indicators, layers, subjects  # noqa: F401
        from incidents.signals import on_grid_area_changed, on_grids_retired

        # Boundary changes (issue #7): open incidents and tasks move with the grids, and the
        # boundary editor's impact preview counts them (grids.keyed).
        grid_area_changed.connect(on_grid_area_changed, dispatch_uid="incidents_rekey")
        grids_retired.connect(on_grids_retired, dispatch_uid="incidents_retired")
        from incidents.sql import OPEN_INCIDENTS

        keyed.register(OPEN_INCIDENTS)
        keyed.register(
            keyed.KeyedToGrid("tasks", _("open tasks"), "incidents_task", where="done_at IS NULL")
        )
        # Photos (incidents.models.photo_path) are served with the incident's scope.
        from grids import media
        from incidents.media import may_see_photo

        media.register("incidents", may_see_photo)
        # Pillow's own decompression-bomb guard at our photo limit (it warns above it and
        # refuses twice it), for any image opened anywhere; check_photos names the file.
        from PIL import Image

        from incidents.services.reporting import photo_max_pixels

        Image.MAX_IMAGE_PIXELS = photo_max_pixels()
        # The incidents collection of OGC API – Features (ogc.registry), read-only.
        from incidents import ogc  # noqa: F401

    def build_demo(self, scale, progress=None):
        """Called by `manage.py demo` once the demo district is built: a year of incidents
        with their timelines, and visit tasks (incidents.services.demo)."""
        from incidents.services import demo

        return demo.build(scale, progress=progress)
