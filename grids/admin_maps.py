"""The admin's map widgets (django-leaflet's), in the interface language: both render with
the admin widget template (templates/leaflet/admin/widget.html), which carries the draw
toolbar's and Leaflet's words; the plain widget template has none."""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from leaflet.admin import LeafletAdminWidget


class BoundaryMapWidget(LeafletAdminWidget):
    """A boundary to draw on, in a form of our own (BoundaryForm)."""

    template_name = "leaflet/admin/widget.html"


class ReadonlyMapWidget(LeafletAdminWidget):
    """The boundary on a map for those who may only look (the form has no map widget then,
    so the widget brings Leaflet with it)."""

    modifiable = False
    template_name = "leaflet/admin/widget.html"

    @property
    def media(self):
        return super().media + forms.Media(
            css={"screen": ["leaflet/leaflet.extras.css", "gridline/admin-map.css"]}
        )


def readonly_map(name: str, geom):
    widget = ReadonlyMapWidget()
    # The widget first: leaflet.extras.js reads the marker image path from its markup, and
    # the map itself starts on window load, after the scripts.
    # Leaflet's control words after Leaflet itself (the widget's own copy is for edit maps).
    words = render_to_string("leaflet_words.html")
    return format_html("{}{}{}", widget.render(name, geom), widget.media, mark_safe(words))
