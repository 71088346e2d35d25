from django.urls import path

from reports import views

urlpatterns = [
    path("reports/", views.hub, name="report-hub"),
    path("reports/ledger/", views.ledger_page, name="report-ledger"),
    path("reports/completeness/", views.completeness_page, name="report-completeness"),
    path("reports/burden/", views.burden_page, name="report-burden"),
    path("reports/forms/import/", views.form_import, name="report-form-import"),
    path("reports/indicators/", views.indicators_page, name="report-indicators"),
    path("reports/definitions/", views.definitions_page, name="report-definitions"),
]
