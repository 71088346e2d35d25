"""Seeds the default catalogue (incidents/catalogue.py) with the historical models."""

from django.db import migrations

from incidents.catalogue import SUB, TOP, WHISTLE
from incidents.catalogue import seed as seed_catalogue


def seed(apps, schema_editor):
    seed_catalogue(apps.get_model("incidents", "Category"), apps.get_model("incidents", "WhistleClass"))


def unseed(apps, schema_editor):
    Category = apps.get_model("incidents", "Category")
    Incident = apps.get_model("incidents", "Incident")
    WhistleClass = apps.get_model("incidents", "WhistleClass")
    used = set(Incident.objects.values_list("category__code", flat=True).distinct())
    used |= set(Incident.objects.values_list("whistle_class__code", flat=True).distinct())
    Category.objects.filter(code__in=[c for c, *_ in SUB if c not in used]).delete()
    Category.objects.filter(
        code__in=[c for c, *_ in TOP if c not in used], children__isnull=True
    ).delete()
    WhistleClass.objects.filter(code__in=[c for c, *_ in WHISTLE if c not in used]).delete()


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_loop_clocks_tasks")]

    operations = [migrations.RunPython(seed, unseed)]
