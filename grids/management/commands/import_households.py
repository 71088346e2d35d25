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
from grids.services.imports import HOUSEHOLD_FIELDS, import_households


class Command(ImportCommand):
    help = gettext_lazy(
        "Import households from a point layer, or from CSV/XLSX with lon/lat columns: "
        "address, point, client key, member count, registered and removed dates."
    )

    def add_arguments(self, parser):
        add_file_arguments(
            parser,
            path_help=_(
                "point layer (Shapefile, GeoPackage, GeoJSON, KML) or CSV/XLSX with lon/lat columns"
            ),
            fields=HOUSEHOLD_FIELDS,
            example="--field address=门牌 --field member_count=人数",
        )

    def handle(self, *args, **o):
        fields = parse_fields(o["field"], HOUSEHOLD_FIELDS)
        check_options(o)
        progress = TqdmProgress()
        report = import_households(
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
