from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grids.models import Region
from reports.models import ReportTemplate
from reports.periods import Period
from reports.services.generate import filename, generate


class Command(BaseCommand):
    help = "Generate a department's report for a period and region as .xlsx or .csv (logged)."

    def add_arguments(self, parser):
        parser.add_argument("template", help="template code")
        parser.add_argument("period", help="2026-10, 2026-Q4, 2026-H2 or 2026")
        parser.add_argument("--region", help="region code (default: the template's district)")
        parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        parser.add_argument("--out", type=Path, default=Path("."), help="directory to write to")

    def handle(self, *args, template, period, region, format, out, **options):
        try:
            chosen = ReportTemplate.objects.select_related("owner__district").get(code=template)
            when = Period.parse(period)
            where = Region.objects.get(code=region) if region else chosen.owner.district
        except (ReportTemplate.DoesNotExist, Region.DoesNotExist, ValueError) as error:
            raise CommandError(str(error)) from error
        table, content = generate(chosen, when, where, format=format)
        path = out / filename(table, format)
        path.write_bytes(content)
        self.stdout.write(f"{len(table.rows)} rows written to {path}")
