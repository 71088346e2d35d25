from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.translation import gettext as _

from grids import limits
from grids.api import errors


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Simplified Chinese unless the user chose another language (decision 10).

    Django's LocaleMiddleware would follow the browser's Accept-Language; government
    workstations often run English-language browsers, so only an explicit choice (the
    language cookie set by /i18n/setlang/) switches the interface.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class RequestLimitsMiddleware:
    """Refuses, before any view runs, what no view could store or parse safely (grids.limits):
    a body over its size limit (413, judged by Content-Length, before a byte is read), a NUL
    in a query parameter, a path part or a page's form field (400 naming it). The API's
    bodies are checked by its parsers (grids.api.parsers), which know their format. Under
    /api/ the answer is the API's JSON error, elsewhere a short page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            limits.check_body_size(
                request.META.get("CONTENT_TYPE", ""), request.META.get("CONTENT_LENGTH")
            )
            limits.refuse_bad_form(request.GET)
        except limits.InputRefused as refused:
            return errors.refusal(request, refused)
        response = self.get_response(request)
        if (
            response.status_code == 405
            and errors.is_api(request)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            # A plain Django view's require_GET answers an empty HTML 405.
            allowed = response.get("Allow")
            response = errors.error_response(
                405, [{"code": "method_not_allowed", "message": _("Method not allowed.")}]
            )
            if allowed:
                response["Allow"] = allowed
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        try:
            for name, value in view_kwargs.items():
                limits.refuse_bad_text(value, name)
            for value in view_args:
                limits.refuse_bad_text(value, "path")
            if request.method == "POST" and not errors.is_api(request):
                # A page's form (the API's parsers check their own): the CSRF check reads
                # request.POST next anyway, so reading it here costs nothing.
                limits.refuse_bad_form(request.POST, request.FILES)
        except limits.InputRefused as refused:
            return errors.refusal(request, refused)
        return None

    def process_exception(self, request, exception):
        # Django's own body limits, met by a view reading the body.
        refused = errors.refused_by_django(exception)
        return errors.refusal(request, refused) if refused is not None else None
