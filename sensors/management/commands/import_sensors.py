from django.core.management.base import BaseCommand, CommandError

from grids.management.importing import print_report
from sensors.services.imports import ImportAborted, import_sensors


class Command(BaseCommand):
    help = (
        "Register devices from a GeoPackage, GeoJSON or Shapefile of points, or CSV/XLSX with "
        "lon/lat columns (columns code, type, name, department, gateway, installed_on, status, "
        "prop_<name> or properties). All or nothing; codes already registered are updated."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--layer", help="layer of a multi-layer file, or sheet of a workbook")
        parser.add_argument(
            "--crs",
            help="coordinate system of the file when it is missing or wrong: EPSG code, "
            "CGCS2000, GCJ-02 or BD-09",
        )
        parser.add_argument("--encoding", help="attribute encoding, e.g. GBK (default: detected)")
        parser.add_argument("--district", help="district code the devices must lie in")
        parser.add_argument(
            "--dry-run", action="store_true", help="check everything, write nothing"
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
            raise CommandError("nothing was written") from aborted
        for problem in report.problems:
            self.stdout.write(str(problem))
        verb = "written" if report.committed else "would be written (dry run)"
        self.stdout.write(
            self.style.SUCCESS(
                f"sensors: {report.total:,} read, {report.written:,} new and "
                f"{report.updated:,} updated {verb}, {report.flagged:,} in no grid"
            )
        )
