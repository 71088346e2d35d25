# The catalogues' first entries (grids.catalogue): the resident tag kinds and unit types.

from django.db import migrations

from grids.catalogue import seed as seed_catalogue


def seed(apps, schema_editor):
    seed_catalogue(apps.get_model("grids", "ResidentTagKind"), apps.get_model("grids", "UnitType"))


class Migration(migrations.Migration):
    dependencies = [("grids", "0010_basedata")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
