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
from grids.services.imports import UNIT_FIELDS, import_units


class Command(ImportCommand):
    help = gettext_lazy(
        "Import units (实有单位) from a point layer or CSV/XLSX with lon/lat columns: name, "
        "type, credit code, legal person, phone, employees, building code, dates."
    )

    def add_arguments(self, parser):
        add_file_arguments(
            parser,
            path_help=_(
                "point layer (Shapefile, GeoPackage, GeoJSON, KML) or CSV/XLSX with lon/lat columns"
            ),
            fields=UNIT_FIELDS,
            example="--field name=单位名称 --field type=单位类型",
        )

    def handle(self, *args, **o):
        fields = parse_fields(o["field"], UNIT_FIELDS)
        check_options(o)
        progress = TqdmProgress()
        report = import_units(
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
