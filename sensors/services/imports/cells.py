"""Reading an import's cells: the columns people use for our fields, text cells coerced to
the JSON types of a sensor type's properties schema, and the problems collected per row."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from grids import limits
from grids.problems import Problem
from grids.services.imports import ImportReport
from sensors.models import Sensor, SensorType

PROPERTY_PREFIX = "prop_"
# Our fields beyond the foundation's guesses (code, name, lon, lat), with the column names
# people use for them.
COLUMN_GUESSES = {
    "type": ["type", "类型", "type_code", "lx"],
    "department": ["department", "部门", "dept", "bm"],
    "gateway": ["gateway", "网关"],
    "installed_on": ["installed_on", "installed", "安装日期"],
    "status": ["status", "状态", "zt"],
    "properties": ["properties", "属性"],
}
# Problems of one check listed per import; the count beyond is summed up.
LIST_LIMIT = 200
CODE_LENGTH = Sensor._meta.get_field("code").max_length
NAME_LENGTH = Sensor._meta.get_field("name").max_length
TRUE = {"true", "1", "yes", "y", "t", "是", "有"}
FALSE = {"false", "0", "no", "n", "f", "否", "无"}


@dataclass
class SensorImportReport(ImportReport):
    """The foundation's report, with the devices updated in place."""

    updated: int = 0

    def as_dict(self) -> dict:
        return {**super().as_dict(), "updated": self.updated}


class RowProblems:
    """Collects problems, at most LIST_LIMIT per code, and marks their rows bad."""

    def __init__(self, report: ImportReport, n: int):
        self.report = report
        self.bad = np.zeros(n, dtype=bool)
        self.counts: dict[str, int] = {}

    def add(self, i: int, row: int, code: str, message: str, field: str, feature=None) -> None:
        self.bad[i] = True
        self.counts[code] = self.counts.get(code, 0) + 1
        if self.counts[code] <= LIST_LIMIT:
            self.report.problems.append(
                Problem(code, message, row=int(row), field=field, feature=feature or None)
            )

    def summarise(self) -> None:
        for code, count in self.counts.items():
            if count > LIST_LIMIT:
                self.report.problems.append(
                    Problem(
                        code,
                        _("%(n)d more rows with this problem") % {"n": count - LIST_LIMIT},
                    )
                )


def column_for(columns, name: str) -> str | None:
    lower = {str(c).lower(): c for c in columns if c != "geometry"}
    for guess in COLUMN_GUESSES[name]:
        if guess.lower() in lower:
            return lower[guess.lower()]
    return None


def is_empty(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def coerce(value, kind: str | list | None):
    """A cell as the JSON type the schema asks for; raises ValueError with the reason."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(kind, list):  # ["number", "null"]: the first non-null
        kind = next((k for k in kind if k != "null"), None)
    if kind in ("number", "integer"):
        if isinstance(value, bool):
            raise ValueError(_("expected a number"))
        if isinstance(value, str):
            try:
                value = float(value.strip().replace(",", ""))
            except ValueError as exc:
                raise ValueError(_("'%(value)s' is not a number") % {"value": value}) from exc
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(_("'%(value)s' is not a number") % {"value": value})
        if kind == "integer":
            if float(value) != int(value):
                raise ValueError(_("'%(value)s' is not a whole number") % {"value": value})
            return int(value)
        return int(value) if float(value).is_integer() and isinstance(value, int) else value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text.endswith(".0"):
            text = text[:-2]
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(_("'%(value)s' is not yes or no") % {"value": value})
    if kind == "string":
        return str(value).strip() if not isinstance(value, str) else value.strip()
    return value.strip() if isinstance(value, str) else value


def row_properties(
    sensor_type: SensorType, raw_json, cells: dict[str, object], i: int, row: int, problems
) -> dict | None:
    properties: dict = {}
    if not is_empty(raw_json):
        try:
            parsed = limits.load_json(raw_json) if isinstance(raw_json, str) else raw_json
        except ValueError as exc:
            message = _("properties is not JSON: %(reason)s") % {"reason": exc}
            problems.add(i, row, "bad_json", message, "properties")
            return None
        if not isinstance(parsed, dict):
            message = _("properties is not a JSON object")
            problems.add(i, row, "not_an_object", message, "properties")
            return None
        properties.update(parsed)
    declared = sensor_type.properties_schema.get("properties", {})
    ok = True
    for name, value in cells.items():
        if is_empty(value):
            continue
        try:
            properties[name] = coerce(value, declared.get(name, {}).get("type"))
        except ValueError as exc:
            problems.add(i, row, "bad_value", str(exc), f"properties.{name}")
            ok = False
    return properties if ok else None
