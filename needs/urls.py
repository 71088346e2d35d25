from django.urls import include, path

app_name = "needs"

urlpatterns = [
    path("", include("needs.urls_board")),
    path("", include("needs.urls_phone")),
]
