from django.urls import path

from field import pages, pages_patrols, views

app_name = "field"

urlpatterns = [
    # The phone app: one shell for every user (cacheable), its service worker and manifest.
    path("field/", views.shell, name="shell"),
    path("field/sw.js", views.service_worker, name="sw"),
    path("field/manifest.webmanifest", views.manifest, name="manifest"),
    path("field/offline/", views.offline, name="offline"),
    # Pages of the main site for community staff and above: patrols, and the workers' phones.
    path("field/patrols/", pages_patrols.patrols_page, name="patrols"),
    path("field/devices/", pages.devices_page, name="devices"),
    path("field/devices/<int:pk>/revoke/", pages.revoke_device, name="device-revoke"),
]
