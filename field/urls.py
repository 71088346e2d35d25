from django.urls import path

from field import views

app_name = "field"

# The phone app's pages. SYNC adds /field/devices/ and OUTBOX /field/patrols/ below.
urlpatterns = [
    path("field/", views.shell, name="shell"),
    path("field/sw.js", views.service_worker, name="sw"),
    path("field/manifest.webmanifest", views.manifest, name="manifest"),
    path("field/offline/", views.offline, name="offline"),
]

# OUTBOX: the patrols page of the main site (community staff and above).
from field import pages_patrols  # noqa: E402

urlpatterns += [path("field/patrols/", pages_patrols.patrols_page, name="patrols")]

# SYNC: the devices page of the main site (community staff and above).
from field import pages  # noqa: E402

urlpatterns += [
    path("field/devices/", pages.devices_page, name="devices"),
    path("field/devices/<int:pk>/revoke/", pages.revoke_device, name="device-revoke"),
]
