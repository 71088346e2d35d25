from django.urls import path

from boundaries import views

urlpatterns = [
    path("boundaries/", views.changeset_list, name="boundary-list"),
    path("boundaries/<int:pk>/", views.changeset_editor, name="boundary-editor"),
    path("boundaries/grids/<str:code>/", views.grid_history, name="boundary-grid-history"),
]
