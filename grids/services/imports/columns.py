"""Which column of the file holds which of our fields: the --field mapping first, then the
column names people use. A mapping to a field we do not have is refused, with the list."""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext as _

from grids.problems import Problem
from grids.services.imports.options import api_parameters
from grids.services.imports.report import ImportReport

# Column names people use for each field, tried in order when no mapping is given.
FIELD_GUESSES = {
    "name": ["name", "名称", "mc", "grid_name", "wgmc"],
    "code": ["code", "编码", "代码", "dm", "grid_code", "wgbm"],
    "parent_code": ["parent_code", "parent", "上级编码", "sjbm", "pcode"],
    "address": ["address", "地址", "标准地址", "addr", "dz"],
    "lon": ["lon", "lng", "longitude", "经度", "x"],
    "lat": ["lat", "latitude", "纬度", "y"],
    "client_key": ["client_key", "key", "编号", "户编号", "户号", "fwbm"],
    "member_count": ["member_count", "members", "人数", "户人数", "家庭人口", "人口数", "rks"],
    "registered_on": ["registered_on", "registered", "登记日期"],
    "removed_on": ["removed_on", "removed", "注销日期"],
    "building_code": ["building_code", "房屋编码", "楼栋编码", "所在房屋"],
}

BOUNDARY_FIELDS = ("code", "name", "parent_code")
HOUSEHOLD_FIELDS = (
    "address",
    "lon",
    "lat",
    "client_key",
    "member_count",
    "registered_on",
    "removed_on",
    "building_code",
)


def check_targets(fields: dict[str, str] | None, known: tuple[str, ...], report: ImportReport):
    """A --field OURS=THEIRS whose OURS is no field of ours would be ignored: refuse it."""
    for ours in fields or {}:
        if ours not in known:
            report.problems.append(
                Problem(
                    "unknown_field",
                    _("--field %(ours)s=…: there is no field '%(ours)s'; the fields are %(known)s")
                    % {"ours": ours, "known": ", ".join(known)},
                    field=ours,
                )
            )


def text(column: pd.Series, *, number: bool = False) -> pd.Series:
    """Cell values as stripped text; a missing value is "" (not "nan"), and a code read as a
    number loses its ".0"."""
    out = column.astype(object).where(column.notna(), "").astype(str).str.strip()
    return out.str.replace(r"\.0$", "", regex=True) if number else out


def resolve_fields(
    columns,
    wanted: dict[str, str | None],
    required: tuple[str, ...],
    report: ImportReport,
    guesses: dict[str, list[str]] | None = None,
) -> dict[str, str]:
    """Map our field names to the file's columns: given mapping first, then guesses (an
    import whose fields share names with the boundaries' passes its own)."""
    guesses = FIELD_GUESSES if guesses is None else guesses
    lower = {str(c).lower(): c for c in columns if c != "geometry"}
    resolved = {}
    for name in wanted:
        given = wanted[name]
        if given:
            if given in columns:
                resolved[name] = given
            elif given.lower() in lower:
                resolved[name] = lower[given.lower()]
            else:
                report.problems.append(
                    Problem(
                        "missing_field",
                        _(
                            "column '%(column)s' (for %(field)s) is not in the file; "
                            "columns are %(columns)s"
                        )
                        % {
                            "column": given,
                            "field": name,
                            "columns": ", ".join(map(str, lower.values())),
                        },
                        field=given,
                    )
                )
            continue
        for guess in guesses.get(name, []):
            if guess.lower() in lower:
                resolved[name] = lower[guess.lower()]
                break
        else:
            if name in required:
                report.problems.append(
                    Problem(
                        "missing_field",
                        _no_column(name, ", ".join(map(str, lower.values()))),
                        field=name,
                    )
                )
    return resolved


def _no_column(name: str, columns: str) -> str:
    """A required field without a column, with how to name one: --field on the command
    line, the API's own field where it has one, else no hint."""
    values = {"field": name, "columns": columns}
    api = api_parameters()
    if api is None:
        message = _(
            "no column for %(field)s; map one with --field %(field)s=COLUMN (columns are "
            "%(columns)s)"
        )
    elif parameter := api.columns.get(name):
        values["parameter"] = parameter
        message = _(
            "no column for %(field)s; name it in the field %(parameter)s (columns are %(columns)s)"
        )
    else:
        message = _("no column for %(field)s (columns are %(columns)s)")
    return message % values
