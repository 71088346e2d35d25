"""Template filters of the OGC pages: values as a person reads them (JSON keeps them raw)."""

import datetime as dt
import json

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def property(properties: dict | None, name: str):
    """A feature's property by name (names may hold characters a template cannot)."""
    return (properties or {}).get(name)


@register.filter
def show(value, kind: str = "string"):
    """A property value for a page: local time to the minute, yes/no, objects as JSON text,
    "–" for nothing."""
    if value is None or value == "" or value == {} or value == []:
        return "–"
    if kind == "date-time" and isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value
