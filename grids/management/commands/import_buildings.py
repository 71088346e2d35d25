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
from grids.services.imports import BUILDING_FIELDS, import_buildings


class Command(ImportCommand):
    help = gettext_lazy(
        "Import buildings (实有房屋) from a polygon layer (footprints), a point layer, or "
        "CSV/XLSX with lon/lat columns: code, name, floors, use, year built, address, "
        "dates."
    )

    def add_arguments(self, parser):
        add_file_arguments(
            parser,
            path_help=_(
                "polygon or point layer (Shapefile, GeoPackage, GeoJSON, KML) or CSV/XLSX with "
                "lon/lat columns"
            ),
            fields=BUILDING_FIELDS,
            example="--field code=房屋编码 --field floors=层数",
        )

    def handle(self, *args, **o):
        fields = parse_fields(o["field"], BUILDING_FIELDS)
        check_options(o)
        progress = TqdmProgress()
        report = import_buildings(
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
