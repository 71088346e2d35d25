# The catalogue's first entries (needs.catalogue): the 15 service kinds.

from django.db import migrations

from needs.catalogue import KINDS
from needs.catalogue import seed as seed_kinds


def seed(apps, schema_editor):
    seed_kinds(apps.get_model("needs", "ServiceKind"))


def unseed(apps, schema_editor):
    apps.get_model("needs", "ServiceKind").objects.filter(
        code__in=[code for code, *_ in KINDS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("needs", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
