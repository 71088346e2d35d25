from django.urls import path

from sensors import views

urlpatterns = [
    path("sensors/", views.sensor_list, name="sensor-list"),
    path("sensors/<int:pk>/", views.sensor_detail, name="sensor-detail"),
    path("sensors/broadcasts/<int:pk>/", views.broadcast_detail, name="sensor-broadcast-detail"),
]
