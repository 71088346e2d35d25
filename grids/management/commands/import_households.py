from django.core.management.base import BaseCommand

from grids.management.importing import add_common_arguments, parse_fields, print_report
from grids.management.progress import TqdmProgress
from grids.services.imports import import_households


class Command(BaseCommand):
    help = "Import households from a point layer, or from CSV/XLSX with lon/lat columns."

    def add_arguments(self, parser):
        add_common_arguments(parser)

    def handle(self, *args, **o):
        progress = TqdmProgress()
        report = import_households(
            o["path"],
            layer=o["layer"],
            fields=parse_fields(o["field"]),
            source_crs=o["source_crs"],
            encoding=o["encoding"],
            commit=o["commit"],
            progress=progress,
        )
        progress.close()
        print_report(self, report)
