"""Arguments and report printing shared by the import commands. Each command adds only the
options it reads: the file options (add_file_arguments) are common; the household fields
are listed by import_households alone."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from grids.problems import Problem
from grids.services import crs as crs_service
from grids.services.imports import ImportReport
from grids.services.imports.reading import Unreadable, check_encoding

# What a summary line counts, in the reader's language (report.kind; boundary levels included).
KIND_NAMES = {
    "district": gettext_lazy("districts"),
    "street": gettext_lazy("streets"),
    "community": gettext_lazy("communities"),
    "grid": gettext_lazy("grids"),
    "household": gettext_lazy("households"),
    "resident": gettext_lazy("residents"),
    "building": gettext_lazy("buildings"),
    "unit": gettext_lazy("units"),
    "address": gettext_lazy("standard addresses"),
    "sensor": gettext_lazy("sensors"),
}


class ImportCommand(BaseCommand):
    """An import command speaks the platform's language (LANGUAGE_CODE, Chinese) unless
    --language asks for another; Django runs commands in LANGUAGE_CODE and the language is
    only switched for the run, so that a call from a test leaves the thread as it was."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        # argparse needs the description as a plain string (the class holds a lazy one).
        self.help = str(self.help)
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help=_("language of the messages (default: LANGUAGE_CODE, zh-hans)"),
        )
        return parser

    def execute(self, *args, **options):
        language = options.get("language")
        if not language:
            return super().execute(*args, **options)
        with translation.override(language):
            return super().execute(*args, **options)


def problem_line(problem: Problem) -> str:
    """One problem as a terminal line, in the active language: where, what, and its code."""
    where = []
    if problem.row is not None:
        where.append(_("row %(row)d") % {"row": problem.row})
    if problem.feature:
        where.append(problem.feature)
    if problem.field:
        where.append(_("field %(field)s") % {"field": problem.field})
    if problem.location:
        lon, lat = problem.location
        where.append(_("at %(lon).6f,%(lat).6f") % {"lon": lon, "lat": lat})
    severity = {"error": _("error"), "warning": _("warning")}.get(
        problem.severity, pgettext("import problem", "info")
    )
    values = {
        "severity": severity,
        "where": _(", ").join(where),
        "message": problem.message,
        "code": problem.code,
    }
    if where:
        return _("%(severity)s: %(where)s: %(message)s [%(code)s]") % values
    return _("%(severity)s: %(message)s [%(code)s]") % values


def add_file_arguments(parser, *, path_help: str, fields: tuple[str, ...], example: str) -> None:
    parser.add_argument("path", help=path_help)
    parser.add_argument(
        "--layer",
        help=_(
            "layer of a multi-layer file (required when it has several), or sheet of a workbook"
        ),
    )
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help=_("map one of our fields (%(fields)s) to the file's column, e.g. %(example)s")
        % {"fields": ", ".join(fields), "example": example},
    )
    parser.add_argument(
        "--source-crs",
        help=_("coordinate system of the file when it is missing or wrong: %(spellings)s")
        % {"spellings": crs_service.SPELLINGS},
    )
    parser.add_argument(
        "--encoding", help=_("attribute encoding, e.g. GBK or UTF-8 (default: detected)")
    )
    parser.add_argument(
        "--report",
        metavar="FILE.csv",
        help=_(
            "write every problem found (row, field, value, reason, lon/lat in the file's "
            "coordinates) to this CSV file"
        ),
    )
    parser.add_argument(
        "--commit",
        action="store_true",
        help=_("write (all or nothing); without it, a dry run that writes nothing"),
    )


def parse_fields(pairs: list[str], known: tuple[str, ...] | None = None) -> dict[str, str]:
    fields = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise CommandError(_("--field takes OURS=THEIRS, got '%(pair)s'") % {"pair": pair})
        ours = ours.strip()
        if known is not None and ours not in known:
            raise CommandError(
                _("--field %(pair)s: there is no field '%(ours)s'; the fields are %(known)s")
                % {"pair": pair, "ours": ours, "known": ", ".join(known)}
            )
        fields[ours] = theirs.strip()
    return fields


def check_options(options: dict) -> None:
    """Refuse an unknown encoding or coordinate system before the file is read."""
    try:
        check_encoding(options["encoding"])
        crs_service.normalise(options["source_crs"])
    except (Unreadable, crs_service.UnknownCRS) as exc:
        raise CommandError(str(exc)) from None


def parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("dates are YYYY-MM-DD, got '%(value)s'") % {"value": value}) from exc


def print_report(command, report: ImportReport, report_path: str | None = None) -> None:
    if report.total == 0 and len(report.errors) == 1 and report.errors[0].row is None:
        # The file could not be read as asked: one line saying why.
        raise CommandError(report.errors[0].message)
    shown, left_out = report.shown()
    for problem in shown:
        stream = command.stderr if problem.severity == "error" else command.stdout
        stream.write(problem_line(problem))
    errors, warnings = report.counts("error"), report.counts("warning")
    for code, n in left_out.items():
        total = errors.get(code) or warnings.get(code) or report.counts()[code]
        values = {"n": f"{n:,}", "code": code, "total": f"{total:,}", "path": report_path}
        if report_path:
            line = _(
                "… and %(n)s more %(code)s (%(total)s in all; --report %(path)s lists every one)"
            )
        else:
            line = _(
                "… and %(n)s more %(code)s (%(total)s in all; --report FILE.csv lists every one)"
            )
        command.stderr.write(line % values)
    if report_path:
        written = report.write_csv(report_path)
        command.stdout.write(
            _("%(n)s problems written to %(path)s") % {"n": f"{written:,}", "path": report_path}
        )
    summary = _summary(report, errors, warnings)
    if errors:
        raise CommandError(
            _("%(summary)s. %(good)s of %(total)s rows have no error. Nothing was written.")
            % {"summary": summary, "good": f"{report.good:,}", "total": f"{report.total:,}"}
        )
    values = {"summary": summary, "written": f"{report.written:,}"}
    if report.committed:
        command.stdout.write(command.style.SUCCESS(_("%(summary)s; %(written)s written.") % values))
    else:
        command.stdout.write(
            _("%(summary)s; %(written)s would be written. Dry run: add --commit to write.") % values
        )


def _summary(report: ImportReport, errors, warnings) -> str:
    values = {
        "kind": KIND_NAMES.get(report.kind, report.kind),
        "read": f"{report.total:,}",
        "errors": f"{sum(errors.values()):,}",
        "warnings": f"{sum(warnings.values()):,}",
        "flagged": f"{report.flagged or warnings.get('outside_grid', 0):,}",
        "present": f"{report.skipped_existing:,}",
        "updated": f"{report.updated:,}",
        "unchanged": f"{report.unchanged:,}",
    }
    if report.updated or report.unchanged:
        return (
            _(
                "%(kind)s: %(read)s read, %(errors)s errors, %(warnings)s warnings, "
                "%(flagged)s flagged, %(present)s already present, %(updated)s updated, "
                "%(unchanged)s unchanged"
            )
            % values
        )
    return (
        _(
            "%(kind)s: %(read)s read, %(errors)s errors, %(warnings)s warnings, "
            "%(flagged)s flagged, %(present)s already present"
        )
        % values
    )
