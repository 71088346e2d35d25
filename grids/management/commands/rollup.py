from django.core.management.base import BaseCommand

from grids.management.importing import parse_date
from grids.models import Level, Region
from grids.services.stats import rollup


class Command(BaseCommand):
    help = "Print households and residents per region of one level, for any date."

    def add_arguments(self, parser):
        parser.add_argument("--level", default=Level.STREET, choices=Level.values)
        parser.add_argument("--on", help="date (YYYY-MM-DD), default today")

    def handle(self, *args, level, on, **options):
        result = rollup(parse_date(on))
        names = dict(Region.objects.filter(level=level).values_list("pk", "name"))
        codes = dict(Region.objects.filter(level=level).values_list("pk", "code"))
        for pk in sorted(names, key=codes.get):
            figures = result["regions"].get(pk)
            if figures is None:
                continue
            tags = " ".join(f"{k}={v}" for k, v in sorted(figures.tags.items()))
            self.stdout.write(
                f"{codes[pk]} {names[pk]}: {figures.households} households, "
                f"{figures.residents} residents; {tags}"
            )
        self.stdout.write(f"outside every grid: {result['unassigned'].households} households")
