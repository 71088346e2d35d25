from django.urls import path

from field.api import devices, sync

urlpatterns = [
    path("devices/", devices.DevicesView.as_view(), name="field-devices"),
    path("devices/wiped/", devices.WipedView.as_view(), name="field-device-wiped"),
    path("devices/<int:pk>/revoke/", devices.RevokeView.as_view(), name="field-device-revoke"),
    path("sync/", sync.SyncView.as_view(), name="field-sync"),
]

# OUTBOX: the push and the patrols (field/api/outbox.py, field/api/patrols.py).
from field.api import outbox, patrols  # noqa: E402

urlpatterns += [
    path("outbox/", outbox.OutboxView.as_view(), name="field-outbox"),
    path("patrols/", patrols.PatrolsView.as_view(), name="field-patrols"),
    path("patrols/figures/", patrols.PatrolFiguresView.as_view(), name="field-patrol-figures"),
]
