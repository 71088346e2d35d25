"""The sensors API under /api/sensors/: one module per area owns its views and routes."""

from sensors.api import alerts, broadcast, fire, ingest, registry

urlpatterns = [
    *registry.urlpatterns,
    *ingest.urlpatterns,
    *fire.urlpatterns,
    *broadcast.urlpatterns,
    *alerts.urlpatterns,
]
