"""Arguments and report printing shared by the import commands."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError

from grids.services.imports import ImportReport


def add_common_arguments(parser) -> None:
    parser.add_argument(
        "path", help="Shapefile, GeoPackage, GeoJSON, KML (households: also CSV/XLSX)"
    )
    parser.add_argument("--layer", help="layer of a multi-layer file, or sheet of a workbook")
    parser.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="map a field to the file's column, e.g. --field name=MC --field code=BM",
    )
    parser.add_argument(
        "--source-crs",
        help="coordinate system of the file when it is missing or wrong: EPSG code, CGCS2000 "
        "(EPSG:4490), GCJ-02 or BD-09",
    )
    parser.add_argument("--encoding", help="attribute encoding, e.g. GBK (default: detected)")
    parser.add_argument(
        "--commit",
        action="store_true",
        help="write (all or nothing); without it, a dry run that writes nothing",
    )


def parse_fields(pairs: list[str]) -> dict[str, str]:
    fields = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours or not theirs:
            raise CommandError(f"--field takes OURS=THEIRS, got {pair!r}")
        fields[ours.strip()] = theirs.strip()
    return fields


def parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"dates are YYYY-MM-DD, got {value!r}") from exc


def print_report(command, report: ImportReport) -> None:
    for problem in report.problems:
        stream = command.stderr if problem.severity == "error" else command.stdout
        stream.write(str(problem))
    summary = (
        f"{report.kind}: {report.total:,} read, {len(report.errors):,} errors, "
        f"{len(report.warnings):,} warnings, {report.flagged:,} flagged, "
        f"{report.skipped_existing:,} already present"
    )
    if report.errors:
        raise CommandError(f"{summary}. Nothing was written.")
    if report.committed:
        command.stdout.write(command.style.SUCCESS(f"{summary}; {report.written:,} written."))
    else:
        command.stdout.write(
            f"{summary}; {report.written:,} would be written. Dry run: add --commit to write."
        )
