"""Seeds the built-in sensor types and the analytics alert categories (sensors/catalogue.py)."""

from django.db import migrations

from sensors.catalogue import seed as seed_catalogue


def seed(apps, schema_editor):
    seed_catalogue(apps.get_model("sensors", "SensorType"), apps.get_model("incidents", "Category"))


class Migration(migrations.Migration):
    dependencies = [
        ("sensors", "0002_readings_partitioned_fire_indexes"),
        ("incidents", "0003_default_catalogue"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
