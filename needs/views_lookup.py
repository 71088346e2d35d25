"""查询进度 on the public door (#20): `/needs/p/<key>/status/`, where a resident who sent a
need through the QR form finds it again with its number and the last four digits of the phone
they gave (needs.services.lookup: status, kind and dates only; limited per address). A plain
form posted to the page itself (the phone digits stay out of the address bar and the logs);
`?number=` fills the number in, as the thank-you page's link and the form's "您提交过" do."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from needs.services import lookup, public
from needs.views_public import _grid


class LookupForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Request number"), max_length=20, strip=True)
    last4 = forms.CharField(
        label=gettext_lazy("Last 4 digits of the phone you gave"),
        min_length=4,
        max_length=4,
        strip=True,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.update(
            autocapitalize="characters", autocomplete="off", placeholder="XQ…"
        )
        self.fields["last4"].widget.attrs.update(
            inputmode="numeric", pattern="[0-9]{4}", autocomplete="off"
        )

    def clean_last4(self):
        value = self.cleaned_data["last4"]
        if not value.isascii() or not value.isdigit():
            raise forms.ValidationError(_("Four digits."))
        return value


# Nothing to forge (it reads, for no one); see needs.views_public for why the doors are exempt.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def status(request, key: str):
    grid = _grid(key)
    context = {"grid": grid, "community": grid.community, "key": key}
    template = "needs/public_status.html"
    if request.method == "GET":
        number = request.GET.get("number", "")[:20]
        context["form"] = LookupForm(initial={"number": number})
        return render(request, template, context)
    form = LookupForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        lookup.check_rate(public.submitter_key(request))
    except public.RateLimited as limited:
        form.add_error(None, limited.message)
        response = render(request, template, {**context, "rate_limited": True}, status=429)
        response["Retry-After"] = str(limited.retry_after)
        return response
    found = lookup.find(form.cleaned_data["number"], form.cleaned_data["last4"])
    if found is None:
        form.add_error(
            None,
            _("No request found with this number and these digits. Check both and try again."),
        )
        return render(request, template, context, status=404)
    return render(request, template, {**context, "found": found})
