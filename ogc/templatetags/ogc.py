"""Template filters of the OGC pages."""

from django import template

register = template.Library()


@register.filter
def property(properties: dict | None, name: str):
    """A feature's property by name (names may hold characters a template cannot)."""
    return (properties or {}).get(name)
