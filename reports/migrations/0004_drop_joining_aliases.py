"""Aliases that joined different things (issue #17: "an alias merges registered with resident
population"). reports/grid_indicators.py no longer registers them, but sync_derived leaves
an existing indicator's aliases as the district edited them, so databases made before keep
them; each is removed here from exactly the indicator that had it (other aliases a district
added stay). Nothing to undo: the aliases were wrong."""

from django.db import migrations

WRONG = {
    "POP_RESIDENTS": ["户籍人口"],
    "POP_LOW_INCOME": ["低收入人口"],
    "POP_CHILDREN": ["18岁以下人口", "儿童数"],
    "POP_VETERANS": ["退役军人及其他优抚对象"],
    "POP_ALONE": ["空巢独居老人", "独居人员数"],
    "GOV_INCIDENTS_REPORTED": ["矛盾纠纷排查数"],
    "SAFE_FIRE_FIXED": ["已整改隐患数"],
}


def drop(apps, schema_editor):
    Indicator = apps.get_model("reports", "Indicator")
    for indicator in Indicator.objects.filter(code__in=list(WRONG)):
        kept = [a for a in indicator.aliases if a not in WRONG[indicator.code]]
        if kept != indicator.aliases:
            indicator.aliases = kept
            indicator.save(update_fields=["aliases"])


class Migration(migrations.Migration):
    dependencies = [("reports", "0003_derived_snapshots")]

    operations = [migrations.RunPython(drop, migrations.RunPython.noop)]
