"""Two needs figures were named for something other than what they count (review of #20, F7):
PROVIDER_UNITS 共建单位数 counts units (实有单位) and co-building units together, and
NEEDS_DISPATCHED 派单数 counts dispatches, where the figures' `dispatched` counts needs.
needs/indicators.py now registers 驻区及共建单位数 and 派单次数, but sync_derived leaves an
existing indicator as the district edited it, so databases made before keep the old words:
they are renamed here where they are still as created (a name a district chose stays), the
alias that meant co-building units alone is dropped, and the organisation department's form
(organisation-needs-monthly) gets the same words in its headings and Excel layout. Nothing
to undo: the old names were wrong."""

from django.db import migrations

RENAMED = {
    # derivation: (old name, new name, aliases dropped, aliases added)
    "provider_units": (
        "共建单位数",
        "驻区及共建单位数",
        ["结对共建单位数"],
        ["驻区单位及共建单位数"],
    ),
    "needs_dispatched": (
        "派单数",
        "派单次数",
        ["派单次数", "需求派单数"],
        ["社区派单次数", "派单数"],
    ),
}
TEMPLATE = "organisation-needs-monthly"
# The form's headings and the texts its layout prints them with (heading and unit, as
# reports.services.demo.layout writes them).
HEADINGS = {"社区派单数": "社区派单次数", "共建单位数": "驻区及共建单位数"}
LAYOUT_TEXTS = {"社区派单数（次）": "社区派单次数", "共建单位数（个）": "驻区及共建单位数（个）"}


def rename(apps, schema_editor):
    Indicator = apps.get_model("reports", "Indicator")
    ReportTemplate = apps.get_model("reports", "ReportTemplate")
    TemplateColumn = apps.get_model("reports", "TemplateColumn")
    for derivation, (old, new, dropped, added) in RENAMED.items():
        for indicator in Indicator.objects.filter(derivation=derivation):
            aliases = [a for a in indicator.aliases if a not in dropped]
            aliases += [a for a in added if a not in aliases]
            fields = []
            if aliases != indicator.aliases:
                indicator.aliases = aliases
                fields.append("aliases")
            if indicator.name == old:
                indicator.name = new
                fields.append("name")
            if fields:
                # An update, no post_save: the values are the same, only the words change,
                # so what reports keep of them stands.
                Indicator.objects.filter(pk=indicator.pk).update(
                    **{f: getattr(indicator, f) for f in fields}
                )
    for template in ReportTemplate.objects.filter(code=TEMPLATE):
        for old, new in HEADINGS.items():
            TemplateColumn.objects.filter(template=template, heading=old).update(heading=new)
        header = template.layout.get("header", []) if isinstance(template.layout, dict) else []
        changed = False
        for cell in header:
            if cell.get("text") in LAYOUT_TEXTS:
                cell["text"] = LAYOUT_TEXTS[cell["text"]]
                changed = True
        if changed:
            ReportTemplate.objects.filter(pk=template.pk).update(layout=template.layout)


class Migration(migrations.Migration):
    dependencies = [
        ("needs", "0005_number_label"),
        ("reports", "0004_drop_joining_aliases"),
    ]

    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
