"""The community's pages of the needs app (#20): the needs board, one need, the services list
and the QR posters for the grids' notice boards. Paths are under /needs/."""

from django.urls import path

from needs import views_board, views_services

urlpatterns = [
    path("", views_board.board, name="board"),
    path("<int:pk>/", views_board.detail, name="detail"),
    path("services/", views_services.services, name="services"),
    path("posters/", views_services.posters, name="posters"),
]
