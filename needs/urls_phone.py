"""The phone pages of the needs app (#20): the provider's inbox and the public doors a QR on
a grid's notice board opens (a need; 双报到 registration). Paths are under /needs/."""

from django.urls import path

from needs import views_lookup, views_phone, views_public

urlpatterns = [
    path("inbox/", views_phone.inbox, name="inbox"),
    path("inbox/<int:pk>/", views_phone.detail, name="inbox-detail"),
    path(
        "inbox/<int:pk>/<str:action>/",
        views_phone.act,
        name="inbox-act",
    ),
    path("p/<str:key>/", views_public.need_form, name="public"),
    path("p/<str:key>/status/", views_lookup.status, name="public-status"),
    path("join/<str:key>/", views_public.join_form, name="join"),
]
