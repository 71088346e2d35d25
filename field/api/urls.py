from django.urls import path

from field.api import devices, outbox, patrols, sync

urlpatterns = [
    path("devices/", devices.DevicesView.as_view(), name="field-devices"),
    path("devices/wiped/", devices.WipedView.as_view(), name="field-device-wiped"),
    path("devices/<int:pk>/revoke/", devices.RevokeView.as_view(), name="field-device-revoke"),
    path("sync/", sync.SyncView.as_view(), name="field-sync"),
    path("outbox/", outbox.OutboxView.as_view(), name="field-outbox"),
    path("patrols/", patrols.PatrolsView.as_view(), name="field-patrols"),
    path("patrols/figures/", patrols.PatrolFiguresView.as_view(), name="field-patrol-figures"),
]
