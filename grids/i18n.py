"""Names that Django derives from identifiers, put through the catalogue.

A field declared without `verbose_name` (`dispatcher_level`) is labelled "dispatcher level",
a model without Meta.verbose_name (`TaskTarget`) "task target", an app without one (the
background queue's `procrastinate`) "Procrastinate", and a row of a model without `__str__`
"Visit object (7)": plain English strings, made once at import, that no catalogue can
translate, so the admin showed them on Chinese pages. At startup each derived name becomes
`gettext_lazy(<the same English>)`, so the zh_Hans catalogue names it like every other label
(and English stays English), and a row without `__str__` is called by its model's name and
id ("走访 7").

Only derived names are touched; a name given in the code is already translatable. Nothing
here changes a migration: `Field.deconstruct()` reads the verbose_name given to the
constructor, and a model's migration state reads the Meta the class
declared (`_meta.original_attrs`), not these attributes.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import AppConfig
from django.db import models
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy


def _model_and_id(instance: models.Model) -> str:
    return f"{capfirst(instance._meta.verbose_name)} {instance.pk}"


def name_derived_labels(app_configs: Iterable[AppConfig]) -> None:
    for app_config in app_configs:
        if not isinstance(app_config.verbose_name, Promise):
            app_config.verbose_name = gettext_lazy(app_config.verbose_name)
        for model in app_config.get_models():
            opts = model._meta
            if model.__str__ is models.Model.__str__:
                model.__str__ = _model_and_id
            if "verbose_name" not in opts.original_attrs:
                name = str(opts.verbose_name)
                opts.verbose_name = gettext_lazy(name)
                if "verbose_name_plural" not in opts.original_attrs:
                    opts.verbose_name_plural = gettext_lazy(f"{name}s")
            for field in [*opts.local_fields, *opts.local_many_to_many]:
                given = field.deconstruct()[3].get("verbose_name")
                if given is None and not isinstance(field.verbose_name, Promise):
                    field.verbose_name = gettext_lazy(field.verbose_name)
