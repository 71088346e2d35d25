from django.urls import include, path

from screen import views

urlpatterns = [
    path("screen/", views.screen_page, name="screen"),
    path("screen/kiosks/", views.kiosk_page, name="screen-kiosks-page"),
    path("screen/kiosk/<str:secret>", views.kiosk_login, name="screen-kiosk"),
    path("api/screen/", include("screen.api.urls")),
]
