from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from grids.management.importing import ImportCommand, check_options, parse_fields, print_report
from grids.management.progress import TqdmProgress
from grids.services.imports import RESIDENT_FIELDS, import_residents


class Command(ImportCommand):
    help = gettext_lazy(
        "Import residents (实有人口) from CSV/XLSX, one row per person, into the households "
        "already imported: found by household key (户编号) or standard address. Name, ID "
        "number (checked with the birth date and sex it holds), phone, birth date, sex, tags. "
        "Member counts follow the residents. Personal data is shown masked."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=_("CSV or XLSX, one row per person (a title row is fine)"))
        parser.add_argument("--layer", help=_("sheet of a workbook (default: the first)"))
        parser.add_argument(
            "--field",
            action="append",
            default=[],
            metavar="OURS=THEIRS",
            help=_("map one of our fields (%(fields)s) to the file's column, e.g. %(example)s")
            % {
                "fields": ", ".join(RESIDENT_FIELDS),
                "example": "--field client_key=户编号 --field tags=人员类别",
            },
        )
        parser.add_argument(
            "--encoding", help=_("encoding of a CSV file, e.g. GBK or UTF-8 (default: detected)")
        )
        parser.add_argument(
            "--fill-down",
            action="store_true",
            help=_("an empty household key or address cell takes the one above (merged cells)"),
        )
        parser.add_argument(
            "--ignore-unknown-tags",
            action="store_true",
            help=_("leave out words of the tags column that are no tag (a warning, not an error)"),
        )
        parser.add_argument(
            "--report",
            metavar="FILE.csv",
            help=_("write every problem found (row, field, masked value, reason) to this CSV file"),
        )
        parser.add_argument(
            "--commit",
            action="store_true",
            help=_("write (all or nothing); without it, a dry run that writes nothing"),
        )

    def handle(self, *args, **o):
        fields = parse_fields(o["field"], RESIDENT_FIELDS)
        check_options({**o, "source_crs": None})
        progress = TqdmProgress()
        report = import_residents(
            o["path"],
            layer=o["layer"],
            fields=fields,
            encoding=o["encoding"],
            fill_down=o["fill_down"],
            ignore_unknown_tags=o["ignore_unknown_tags"],
            commit=o["commit"],
            progress=progress,
        )
        progress.close()
        print_report(self, report, o["report"])
        values = {"n": f"{report.households:,}"}
        if report.committed:
            line = _(
                "%(n)s households had their residents added; member counts follow the residents."
            )
        else:
            line = _(
                "%(n)s households would have their residents added; member counts follow the "
                "residents."
            )
        self.stdout.write(line % values)
