"""Residents (实有人口) from a community's spreadsheet: one row per person, with the
household's key (户编号) or standard address; the households are already there (from
import_households or the app). Every value is checked (people.py) and each problem names
row, field and the masked value; nothing is written unless `commit` is set and no error was
found. Member counts follow the residents, as the resident services keep them."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path

import pandas as pd
from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from grids import sql
from grids.models import Household, Resident, today
from grids.problems import Problem
from grids.services.households import refresh_member_counts
from grids.services.imports import people, placing
from grids.services.imports.attributes import TagWords, check_attributes
from grids.services.imports.columns import check_targets, resolve_fields, text
from grids.services.imports.people import add_problem
from grids.services.imports.reading import TABLE_SUFFIXES, Unreadable, read_table
from grids.services.imports.report import ImportReport, NullProgress, Progress
from grids.signals import announce

RESIDENT_FIELDS = (
    "client_key",
    "address",
    "name",
    "id_number",
    "phone",
    "birth_date",
    "sex",
    "tags",
    "registration",
    "residence_since",
    "origin",
    "relation",
)
RESIDENT_GUESSES = {
    "client_key": ["client_key", "户编号", "户号", "户籍编号", "household_key", "hbh"],
    "address": [
        "address",
        "标准地址",
        "门牌地址",
        "地址",
        "住址",
        "现住址",
        "居住地址",
        "家庭住址",
        "addr",
        "dz",
    ],
    "name": ["name", "姓名", "xm"],
    "id_number": [
        "id_number",
        "身份证号",
        "身份证号码",
        "公民身份号码",
        "证件号码",
        "身份证",
        "sfzh",
    ],
    "phone": ["phone", "手机", "手机号", "手机号码", "联系电话", "电话", "联系方式", "lxdh"],
    "birth_date": ["birth_date", "出生日期", "出生年月日", "生日", "csrq"],
    "sex": ["sex", "性别", "xb"],
    "tags": ["tags", "标签", "人员类别", "人员类型", "人群类别", "特殊人群", "人员属性"],
    "registration": [
        "registration",
        "户籍类型",
        "户籍性质",
        "人口类型",
        "人口类别",
        "居住类型",
        "户籍状态",
        "hjlx",
    ],
    "residence_since": [
        "residence_since",
        "来本地日期",
        "来本地时间",
        "来本地居住日期",
        "居住起始日期",
        "入住日期",
        "lbdrq",
    ],
    "origin": ["origin", "户籍地", "户籍地址", "户籍所在地", "籍贯", "来自何处", "来源地", "hjd"],
    "relation": ["relation", "与户主关系", "与户主的关系", "家庭关系", "关系", "yhzgx"],
}
HOUSEHOLD_KEYS = ("client_key", "address")
RESIDENT_COLUMNS = (
    "household_id",
    "name",
    "id_number",
    "phone",
    "birth_date",
    "sex",
    "tags",
    "tag_levels",
    "registration",
    "residence_since",
    "origin",
    "relation",
)
# Rows searched for the header below a title (XX社区实有人口登记表) or a note.
HEADER_SEARCH_ROWS = 10


def import_residents(
    path: str | Path,
    *,
    layer: str | None = None,
    fields: dict[str, str] | None = None,
    encoding: str | None = None,
    fill_down: bool = False,
    ignore_unknown_tags: bool = False,
    commit: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Residents from CSV/XLSX, one row per person, attached to existing households."""
    path = Path(path)
    progress = progress or NullProgress()
    report = ImportReport(kind="resident", source=str(path))
    check_targets(fields, RESIDENT_FIELDS, report)
    if path.suffix.lower() not in TABLE_SUFFIXES:
        report.problems.append(
            Problem(
                "unreadable",
                _("%(file)s: residents are read from a table (CSV or XLSX), one row per person")
                % {"file": path.name},
                field="file",
            )
        )
    if report.errors:
        return report
    progress.stage("reading", None)
    try:
        frame = read_table(path, layer=layer, encoding=encoding)
    except Unreadable as exc:
        report.problems.append(Problem("unreadable", str(exc), field="file"))
        return report
    except (OSError, ValueError) as exc:
        report.problems.append(
            Problem(
                "unreadable",
                _("cannot read %(file)s: %(reason)s") % {"file": path.name, "reason": exc},
            )
        )
        return report
    frame, header_row = find_header(frame, fields or {})
    wanted = {**dict.fromkeys(RESIDENT_FIELDS), **(fields or {})}
    columns = resolve_fields(
        frame.columns, wanted, ("name", "id_number"), report, guesses=RESIDENT_GUESSES
    )
    if not any(key in columns for key in HOUSEHOLD_KEYS):
        listed = ", ".join(map(str, frame.columns))
        report.problems.append(
            Problem(
                "missing_field",
                _(
                    "no column for the household: map its key with --field client_key=COLUMN "
                    "(户编号) or its standard address with --field address=COLUMN (columns are "
                    "%(columns)s)"
                )
                % {"columns": listed},
                field="client_key/address",
            )
        )
    if report.errors:
        return report
    cells = {
        name: text(frame[column], number=name == "client_key") for name, column in columns.items()
    }
    words = TagWords()
    day = today()
    flag_columns = {
        column: tags
        for column in frame.columns
        if column not in columns.values() and (tags := words.yes_no(column))
    }
    _unused_columns(frame, columns, flag_columns, report)
    rows = pd.Series(range(header_row + 1, header_row + 1 + len(frame)), index=frame.index)
    # Blank lines at the end or between blocks of a sheet are no residents.
    filled = pd.concat([text(frame[c]) for c in frame.columns], axis=1).ne("").any(axis=1)
    rows = rows[filled]
    cells = {name: values[filled] for name, values in cells.items()}
    flag_cells = {column: text(frame[column])[filled] for column in flag_columns}
    if fill_down:
        # Merged cells: the household's key or address is written once for its members.
        for name in HOUSEHOLD_KEYS:
            if name in cells:
                cells[name] = cells[name].replace("", pd.NA).ffill().fillna("")
    report.total = len(rows)
    progress.stage("checking", report.total)
    records = []
    # Plain lists: a row at a time through pandas would cost more than the checks.
    names, flag_names = list(cells), list(flag_cells)
    columns_of_rows = zip(*(cells[n].tolist() for n in names), strict=True)
    flags_of_rows = zip(*(flag_cells[c].tolist() for c in flag_names), strict=True)
    for row, values, flags in zip(
        rows.tolist(),
        columns_of_rows,
        flags_of_rows if flag_names else itertools.repeat(()),
        strict=False,
    ):
        record = _check_row(
            row,
            dict(zip(names, values, strict=True)),
            dict(zip(flag_names, flags, strict=True)),
            flag_columns,
            ignore_unknown_tags,
            report,
            words,
            day,
        )
        records.append(record)
    progress.advance(report.total)
    placing.mark_duplicates(records, report)
    households = placing.find_households(records, report)
    placing.drop_present(records, households, report)
    records = [r for r in records if r["ok"]]
    if report.errors:
        return report
    return _write(records, households, commit=commit, progress=progress, report=report)


def find_header(frame: pd.DataFrame, fields: dict[str, str]) -> tuple[pd.DataFrame, int]:
    """The table below its header row, and the header's row number in the sheet (1-based).
    A sheet often starts with a title (XX社区实有人口登记表) above the header; the header is
    the first row naming at least two of our columns."""
    names = {g.lower() for guesses in RESIDENT_GUESSES.values() for g in guesses}
    names |= {v.lower() for v in fields.values()}

    def hits(values) -> int:
        return sum(str(v).strip().lower() in names for v in values)

    if hits(frame.columns) >= 2:
        return frame, 1
    for i in range(min(HEADER_SEARCH_ROWS, len(frame))):
        row = frame.iloc[i]
        if hits(row) >= 2:
            body = frame.iloc[i + 1 :].copy()
            header = [str(v).strip() or f"column {j + 1}" for j, v in enumerate(row)]
            # Two columns of one name (备注, 备注) would be read as one: number the later.
            body.columns = [
                name if name not in header[:j] else f"{name}.{header[:j].count(name)}"
                for j, name in enumerate(header)
            ]
            return body.reset_index(drop=True), i + 2
    return frame, 1


def _unused_columns(frame, columns, flag_columns, report: ImportReport) -> None:
    used = set(columns.values()) | set(flag_columns)
    unused = [
        str(c)
        for c in frame.columns
        if c not in used and not str(c).startswith(("Unnamed:", "column ")) and str(c) != "序号"
    ]
    if unused:
        report.problems.append(
            Problem(
                "unused_columns",
                _(
                    "columns %(columns)s are not read: no resident field holds them "
                    "(the fields are %(fields)s; yes/no columns 是否低保 … give tags)"
                )
                % {"columns": ", ".join(unused), "fields": ", ".join(RESIDENT_FIELDS)},
                severity="warning",
            )
        )


def _check_row(  # noqa: PLR0913 (one row's values and how to read them)
    row, values, flags, flag_columns, ignore_unknown_tags, report, words, day
) -> dict | None:
    """The resident of one row; "ok" is False when one of its values is wrong (each
    reported). A wrong row still goes through the household and person checks, so that all
    its problems are named at once."""
    record = {
        "row": row,
        "client_key": values.get("client_key", ""),
        "address": values.get("address", ""),
    }
    ok = True
    if not record["client_key"] and not record["address"]:
        field = "client_key" if "client_key" in values else "address"
        add_problem(
            report,
            row,
            field,
            "missing_value",
            _("the household is not given (merged cells? --fill-down takes the one above)"),
        )
        ok = False
    name, problem = people.check_name(values["name"], _limit("name"))
    if problem:
        add_problem(report, row, "name", *problem, value=values["name"])
    record["name"] = name
    ok &= problem is None
    identity, problem = people.check_id_number(values["id_number"], day=day)
    if problem:
        add_problem(report, row, "id_number", *problem, value=values["id_number"])
        ok = False
        identity = {"birth_date": None, "sex": None}
    elif identity["upgraded"]:
        add_problem(
            report,
            row,
            "id_number",
            "id_number_upgraded",
            _("a 15-digit ID number (before 1999): stored as its 18-digit form"),
            value=identity["id_number"],
            severity="warning",
        )
    record["id_number"] = identity.get("id_number")
    record["birth_date"], record["sex"] = identity["birth_date"], identity["sex"]
    for field, check in (("birth_date", people.check_birth_date), ("sex", people.check_sex)):
        given = values.get(field, "")
        if given:
            extra = {"day": day} if field == "birth_date" else {}
            checked, problem = check(given, identity[field], **extra)
            if problem:
                add_problem(report, row, field, *problem, value=given)
                ok = False
            record[field] = checked or record[field]
    phone, problem = people.check_phone(values.get("phone", ""), _limit("phone"))
    if problem:
        add_problem(report, row, "phone", *problem, value=values["phone"])
        ok = False
    record["phone"] = phone
    tags, levels, unknown = words.read(values.get("tags", ""))
    if unknown:
        add_problem(
            report,
            row,
            "tags",
            "unknown_tag",
            (
                _("%(words)s is no resident tag; the tags are %(tags)s")
                if ignore_unknown_tags
                else _(
                    "%(words)s is no resident tag; the tags are %(tags)s "
                    "(--ignore-unknown-tags leaves such words out)"
                )
            )
            % {"words": "、".join(unknown), "tags": words.names()},
            value=values["tags"],
            severity="warning" if ignore_unknown_tags else "error",
        )
        ok &= ignore_unknown_tags
    for column, value in flags.items():
        answer = people.check_yes_no(value)
        if answer is None:
            add_problem(
                report, row, str(column), "bad_yes_no", _("is neither 是 nor 否"), value=value
            )
            ok = False
        elif answer:
            tags += [str(t) for t in flag_columns[column] if str(t) not in tags]
    record["tags"] = tags
    record["tag_levels"] = levels
    for problem in words.catalogue.check(tags, levels, row=row):
        report.problems.append(problem)
        ok = False
    ok &= check_attributes(row, values, record, report)
    record["ok"] = ok
    return record


def _limit(field: str) -> int:
    return Resident._meta.get_field(field).max_length


def _write(records, households, *, commit, progress, report: ImportReport) -> ImportReport:
    """Insert the residents and bring their households' member counts up to date; a dry run
    counts without inserting (no ids used up)."""
    before = {
        household: n
        for batch in placing.batches(households)
        for household, n in Resident.objects.filter(household__in=batch)
        .order_by()
        .values("household")
        .annotate(n=Count("pk"))
        .values_list("household", "n")
    }
    added = defaultdict(int)
    first_row = {}
    for record in records:
        added[record["household"]] += 1
        first_row.setdefault(record["household"], record["row"])
    for pk, n in added.items():
        household, now = households[pk], before.get(pk, 0)
        if household.member_count not in (now, now + n):
            # The count came from elsewhere (a household file's 人数): the residents win.
            add_problem(
                report,
                first_row[pk],
                "member_count",
                "member_count_changed",
                _(
                    "the household at %(address)s has member count %(count)d; with its "
                    "residents registered it becomes %(new)d"
                )
                % {"address": household.address, "count": household.member_count, "new": now + n},
                severity="warning",
            )
    report.households = len(added)
    report.written = len(records)
    progress.stage("writing", len(records))
    if commit:
        staged = pd.DataFrame(
            {
                "household_id": [r["household"] for r in records],
                "name": [r["name"] for r in records],
                "id_number": [r["id_number"] for r in records],
                "phone": [r["phone"] for r in records],
                "birth_date": [r["birth_date"].isoformat() for r in records],
                "sex": [str(r["sex"]) for r in records],
                # Tag codes are plain words: the array literal needs no quoting.
                "tags": ["{" + ",".join(r["tags"]) + "}" for r in records],
                "tag_levels": [json.dumps(r["tag_levels"], ensure_ascii=False) for r in records],
                "registration": [r["registration"] for r in records],
                "residence_since": [
                    r["residence_since"].isoformat() if r["residence_since"] else None
                    for r in records
                ],
                "origin": [r["origin"] for r in records],
                "relation": [r["relation"] for r in records],
            },
            columns=RESIDENT_COLUMNS,
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # Lock the households: a concurrent resident write cannot skew their counts.
            for batch in placing.batches(added):
                list(
                    Household.objects.select_for_update()
                    .filter(pk__in=batch)
                    .order_by("pk")
                    .values("pk")
                )
            # COPY, as the household import and the demo load: bulk_create is ten times
            # slower at a district's hundreds of thousands of people. The figure triggers
            # still mark the grids stale.
            sql.copy_frame(
                cursor, "grids_resident", staged, RESIDENT_COLUMNS, progress=progress.advance
            )
            refresh_member_counts(list(added))
            announce(Household)
        report.committed = True
    return report
