from django.urls import include, path

from screen import views

urlpatterns = [
    path("screen/", views.screen_page, name="screen"),
    path("screen/kiosks/", views.kiosk_page, name="screen-kiosks-page"),
    # The kiosk link: /screen/kiosk/#<secret> (the secret never reaches the server's logs).
    path("screen/kiosk/", views.kiosk_open, name="screen-kiosk-open"),
    # Links issued with the secret in the path: forwarded to the fragment form, no login.
    path("screen/kiosk/<str:secret>", views.kiosk_link, name="screen-kiosk"),
    path("api/screen/", include("screen.api.urls")),
]
