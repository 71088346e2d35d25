from django.urls import path

from grids.api.routers import DefaultRouter
from reports.api.views import (
    burden,
    completeness,
    definitions,
    forms,
    indicators,
    ledger,
    templates,
)

router = DefaultRouter()
router.register(
    "reports/indicator-groups", indicators.IndicatorGroupViewSet, basename="indicator-group"
)
router.register("reports/indicators", indicators.IndicatorViewSet, basename="indicator")
router.register("reports/rules", indicators.RuleViewSet, basename="rule")
router.register("reports/templates", templates.TemplateViewSet, basename="report-template")
router.register("reports/runs", templates.ReportRunViewSet, basename="report-run")
router.register("reports/form-imports", forms.FormImportViewSet, basename="form-import")

urlpatterns = [
    path("reports/ledger/", ledger.LedgerView.as_view(), name="ledger"),
    path("reports/ledger/submit/", ledger.LedgerSubmitView.as_view(), name="ledger-submit"),
    path("reports/ledger/reopen/", ledger.LedgerReopenView.as_view(), name="ledger-reopen"),
    path("reports/ledger/history/", ledger.LedgerHistoryView.as_view(), name="ledger-history"),
    path("reports/completeness/", completeness.CompletenessView.as_view(), name="completeness"),
    path("reports/burden/", burden.BurdenView.as_view(), name="burden"),
    path("reports/subjects/", definitions.SubjectsView.as_view(), name="definition-subjects"),
    path(
        "reports/definitions/preview/",
        definitions.PreviewView.as_view(),
        name="definition-preview",
    ),
    *router.urls,
]
