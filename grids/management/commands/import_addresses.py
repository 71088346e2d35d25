from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids.management.importing import (
    ImportCommand,
    add_file_arguments,
    check_options,
    parse_fields,
    print_report,
)
from grids.management.progress import TqdmProgress
from grids.services.imports import ADDRESS_FIELDS, import_addresses


class Command(ImportCommand):
    help = gettext_lazy(
        "Import standard addresses (标准地址) from CSV/XLSX (address text, optional lon/lat "
        "and building code) or a point layer: each text read into its parts and "
        "normalised."
    )

    def add_arguments(self, parser):
        add_file_arguments(
            parser,
            path_help=_("CSV/XLSX with an address column (lon/lat optional) or a point layer"),
            fields=ADDRESS_FIELDS,
            example="--field address=标准地址",
        )

    def handle(self, *args, **o):
        fields = parse_fields(o["field"], ADDRESS_FIELDS)
        check_options(o)
        progress = TqdmProgress()
        report = import_addresses(
            o["path"],
            layer=o["layer"],
            fields=fields,
            source_crs=o["source_crs"],
            encoding=o["encoding"],
            commit=o["commit"],
            progress=progress,
        )
        progress.close()
        print_report(self, report, o["report"])
