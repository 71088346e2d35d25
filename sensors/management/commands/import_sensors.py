from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids.management.importing import ImportCommand, print_report, problem_line
from sensors.services.imports import ImportAborted, import_sensors


class Command(ImportCommand):
    help = gettext_lazy(
        "Register devices from a GeoPackage, GeoJSON or Shapefile of points, or CSV/XLSX with "
        "lon/lat columns (columns code, type, name, department, gateway, installed_on, status, "
        "prop_<name> or properties). All or nothing; codes already registered are updated."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=_("the device file"))
        parser.add_argument(
            "--layer", help=_("layer of a multi-layer file, or sheet of a workbook")
        )
        parser.add_argument(
            "--crs",
            help=_(
                "coordinate system of the file when it is missing or wrong: EPSG code, "
                "CGCS2000, GCJ-02 or BD-09"
            ),
        )
        parser.add_argument(
            "--encoding", help=_("attribute encoding, e.g. GBK (default: detected)")
        )
        parser.add_argument("--district", help=_("district code the devices must lie in"))
        parser.add_argument(
            "--dry-run", action="store_true", help=_("check everything, write nothing")
        )

    def handle(self, *args, **o):
        try:
            report = import_sensors(
                o["path"],
                district=o["district"],
                layer=o["layer"],
                encoding=o["encoding"],
                source_crs=o["crs"],
                dry_run=o["dry_run"],
            )
        except ImportAborted as aborted:
            print_report(self, aborted.report)  # lists every problem, raises CommandError
            raise CommandError(_("nothing was written")) from aborted
        for problem in report.problems:
            self.stdout.write(problem_line(problem))
        values = {
            "read": f"{report.total:,}",
            "new": f"{report.written:,}",
            "updated": f"{report.updated:,}",
            "flagged": f"{report.flagged:,}",
        }
        if report.committed:
            line = _(
                "sensors: %(read)s read, %(new)s new and %(updated)s updated written, "
                "%(flagged)s in no grid"
            )
        else:
            line = _(
                "sensors: %(read)s read, %(new)s new and %(updated)s updated would be written "
                "(dry run), %(flagged)s in no grid"
            )
        self.stdout.write(self.style.SUCCESS(line % values))
