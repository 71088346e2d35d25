from django.urls import path

from screen.api import views

urlpatterns = [
    path("figures/", views.FiguresView.as_view(), name="screen-figures"),
    path("kiosks/", views.KiosksView.as_view(), name="screen-kiosks"),
    path("kiosks/<int:pk>/", views.KioskView.as_view(), name="screen-kiosk-detail"),
]
