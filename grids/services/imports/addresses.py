"""Standard addresses (标准地址) from CSV/XLSX (address text, optional lon/lat and building
code) or a point layer: each text read into its parts by the address parser
(grids.services.addresses), normalised to its standard form with the community the point (or
the text) names, one address per standard text. A text that cannot be read is an error
naming the row, the field and the reason; an address already there is left as it is (a
point given for one without a point locates it)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from grids.models import Building
from grids.problems import Problem, ProblemsError
from grids.services.basedata import (
    check_address,
    community_of,
    get_or_create_address,
    standard_text,
)
from grids.services.imports.places import far_outside, read_places
from grids.services.imports.report import ImportReport, NullProgress, Progress

ADDRESS_FIELDS = ("address", "lon", "lat", "building_code")
ADDRESS_GUESSES = {
    "address": ["address", "标准地址", "地址", "门牌地址", "详细地址", "住址", "dz", "bzdz"],
    "lon": ["lon", "lng", "longitude", "经度", "x"],
    "lat": ["lat", "latitude", "纬度", "y"],
    "building_code": ["building_code", "房屋编码", "楼栋编码", "fwbm"],
}


def import_addresses(
    path: str | Path,
    *,
    layer: str | None = None,
    fields: dict[str, str] | None = None,
    source_crs: str | None = None,
    encoding: str | None = None,
    commit: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Standard addresses from a table (lon/lat optional) or a point layer. Dry run unless
    `commit`; all or nothing."""
    progress = progress or NullProgress()
    report = ImportReport(kind="address", source=str(path))
    progress.stage("reading", None)
    read = read_places(
        path,
        kind="address",
        known=ADDRESS_FIELDS,
        guesses=ADDRESS_GUESSES,
        required=("address",),
        layer=layer,
        fields=fields,
        source_crs=source_crs,
        encoding=encoding,
        report=report,
        located=False,
    )
    if read is None:
        return report
    progress.stage("checking", len(read.rows))
    codes = set(read.cells.get("building_code", [])) - {""}
    buildings = {b.code: b for b in Building.objects.filter(code__in=codes)}
    checked = []
    seen: dict[str, int] = {}
    for i, row in enumerate(read.rows.tolist()):
        value = read.cells["address"].iat[i]
        try:
            parsed = check_address(value, row=row)
        except ProblemsError as error:
            report.problems.extend(error.problems)
            continue
        _footprint, location = read.geos(i)
        code = read.cells["building_code"].iat[i] if "building_code" in read.cells else ""
        if code and code not in buildings:
            report.problems.append(
                Problem(
                    "unknown_building",
                    _("no building has the code %(code)s (import the buildings first)")
                    % {"code": code},
                    row=row,
                    field="building_code",
                    value=code,
                )
            )
            continue
        full = standard_text(parsed, community_of(parsed, location))
        first = seen.setdefault(full, row)
        if first != row:
            # The same door written twice (spaces, full-width digits, the district left
            # out): one address, said once.
            report.problems.append(
                Problem(
                    "same_address",
                    _("the same standard address as row %(row)d: %(text)s")
                    % {"row": first, "text": full},
                    row=row,
                    field="address",
                    value=value,
                    severity="warning",
                )
            )
            continue
        fields_ = {"location": location} if location is not None else {}
        checked.append((row, {**fields_, "text": value, "building": buildings.get(code)}))
    progress.advance(len(read.rows))
    located = pd.DataFrame(
        [(row, f["location"].x, f["location"].y) for row, f in checked if "location" in f],
        columns=["row", "lon", "lat"],
    )
    far_outside(located, read, report)
    if report.errors:
        return report
    progress.stage("writing", len(checked))
    with transaction.atomic():
        for row, fields_ in checked:
            try:
                address, created = get_or_create_address(
                    fields_["text"], location=fields_.get("location"), building=fields_["building"]
                )
            except ProblemsError as error:
                report.problems.extend(
                    Problem(p.code, p.message, row=row, field=p.field, value=p.value)
                    for p in error.problems
                )
                continue
            report.written += created
            report.skipped_existing += not created
            if address.location is not None and address.grid_id is None:
                report.flagged += 1
            progress.advance(1)
        report.committed = commit and not report.errors
        if not report.committed:
            # A dry run, or a refusal: nothing of it stays (it ran to count what is new).
            transaction.set_rollback(True)
            if report.errors:
                report.written = report.skipped_existing = report.flagged = 0
    return report
