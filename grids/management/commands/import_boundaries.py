from django.core.management.base import BaseCommand

from grids.management.importing import add_common_arguments, parse_date, parse_fields, print_report
from grids.management.progress import TqdmProgress
from grids.models import Theme
from grids.services.imports import LEVELS, import_boundaries


class Command(BaseCommand):
    help = "Import districts, streets, communities or grids from a boundary file."

    def add_arguments(self, parser):
        add_common_arguments(parser)
        parser.add_argument("--level", required=True, choices=LEVELS)
        parser.add_argument(
            "--theme",
            default=Theme.GOVERNANCE,
            choices=Theme.values,
            help="grid theme (grids only)",
        )
        parser.add_argument("--valid-from", help="first day the boundaries hold (YYYY-MM-DD)")
        parser.add_argument(
            "--repair",
            action="store_true",
            help="repair invalid geometries (GEOS MakeValid) instead of refusing",
        )

    def handle(self, *args, **o):
        progress = TqdmProgress()
        report = import_boundaries(
            o["path"],
            level=o["level"],
            layer=o["layer"],
            fields=parse_fields(o["field"]),
            source_crs=o["source_crs"],
            encoding=o["encoding"],
            theme=o["theme"],
            valid_from=parse_date(o["valid_from"]),
            repair=o["repair"],
            commit=o["commit"],
            progress=progress,
        )
        progress.close()
        print_report(self, report)
