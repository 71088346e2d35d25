from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids.management.importing import (
    ImportCommand,
    add_file_arguments,
    check_options,
    parse_date,
    parse_fields,
    print_report,
)
from grids.management.progress import TqdmProgress
from grids.models import Theme
from grids.services.imports import BOUNDARY_FIELDS, LEVELS, import_boundaries


class Command(ImportCommand):
    help = gettext_lazy("Import districts, streets, communities or grids from a boundary file.")

    def add_arguments(self, parser):
        add_file_arguments(
            parser,
            path_help=_("Shapefile (loose or zipped), GeoPackage, GeoJSON, KML"),
            fields=BOUNDARY_FIELDS,
            example="--field name=MC --field code=BM",
        )
        parser.add_argument(
            "--level", required=True, choices=LEVELS, help=_("the level the file holds")
        )
        parser.add_argument(
            "--theme",
            default=Theme.GOVERNANCE,
            choices=Theme.values,
            help=_("grid theme (grids only)"),
        )
        parser.add_argument(
            "--valid-from",
            help=_(
                "first day the boundaries (and, with --update, their new versions) hold "
                "(YYYY-MM-DD, default today)"
            ),
        )
        parser.add_argument(
            "--repair",
            action="store_true",
            help=_("repair invalid geometries (GEOS MakeValid) instead of refusing"),
        )
        parser.add_argument(
            "--generate-codes",
            action="store_true",
            help=_(
                "give features without a code the next free codes under the parent they lie "
                "in, numbered west to east by centroid (north to south at equal longitude)"
            ),
        )
        parser.add_argument(
            "--update",
            action="store_true",
            help=_(
                "codes already in the platform get a new boundary version from --valid-from "
                "(and the file's name) instead of an error; unchanged ones are left as they are"
            ),
        )

    def handle(self, *args, **o):
        fields = parse_fields(o["field"], BOUNDARY_FIELDS)
        check_options(o)
        progress = TqdmProgress()
        report = import_boundaries(
            o["path"],
            level=o["level"],
            layer=o["layer"],
            fields=fields,
            source_crs=o["source_crs"],
            encoding=o["encoding"],
            theme=o["theme"],
            valid_from=parse_date(o["valid_from"]),
            repair=o["repair"],
            generate_codes=o["generate_codes"],
            update=o["update"],
            commit=o["commit"],
            progress=progress,
        )
        progress.close()
        print_report(self, report, o["report"])
