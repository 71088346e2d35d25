"""The values of a resident row as a community's 实有人口 spreadsheet writes them, each
checked and brought to the form the Resident model stores: the ID number (GB 11643, with
the birth date and sex it encodes), phone, dates, sex and tags.

Each check returns the stored value and, when the value cannot be used, a (code, reason)
pair. The reasons never quote the personal value itself: messages go to the terminal,
and the value (masked) travels separately in the problem."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from django.utils.translation import gettext as _

from grids import scoping
from grids.models import Sex, today
from grids.problems import Problem

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
EARLIEST_BIRTH = dt.date(1900, 1, 1)

# How the value of each field is shown anywhere outside the file: masked as the API masks it.
MASKS = {**scoping.MASKS}

SEXES = {
    "男": Sex.MALE,
    "男性": Sex.MALE,
    "m": Sex.MALE,
    "male": Sex.MALE,
    "1": Sex.MALE,  # GB/T 2261.1
    "女": Sex.FEMALE,
    "女性": Sex.FEMALE,
    "f": Sex.FEMALE,
    "female": Sex.FEMALE,
    "2": Sex.FEMALE,
}
SEX_WORDS = {Sex.MALE: "男", Sex.FEMALE: "女"}

# The words 社区 spreadsheets use for the resident tags; some words carry two tags.
TAG_SPELLINGS: dict[str, tuple[str, ...]] = {
    "老年人": ("elderly",),
    "老人": ("elderly",),
    "高龄老人": ("elderly",),
    "60岁以上老人": ("elderly",),
    "儿童": ("child",),
    "未成年人": ("child",),
    "留守儿童": ("child", "left_behind_child"),
    "困境儿童": ("child",),
    "残疾": ("disabled",),
    "残疾人": ("disabled",),
    "残障": ("disabled",),
    "残障人士": ("disabled",),
    "低保": ("low_income",),
    "低保户": ("low_income",),
    "低保对象": ("low_income",),
    "低收入": ("low_income",),
    "低收入户": ("low_income",),
    "特困": ("extreme_poverty",),
    "特困人员": ("extreme_poverty",),
    "特困供养": ("extreme_poverty",),
    "重点人员": ("key_population",),
    "重点人群": ("key_population",),
    "重点人口": ("key_population",),
    "独居": ("living_alone",),
    "独居人员": ("living_alone",),
    "独居老人": ("elderly", "living_alone"),
    "空巢老人": ("elderly", "empty_nest"),
    "退役军人": ("veteran",),
    "退伍军人": ("veteran",),
    "复员军人": ("veteran",),
    "转业军人": ("veteran",),
}
TAG_WORDS = {
    "elderly": "老年人",
    "child": "儿童",
    "disabled": "残疾人",
    "low_income": "低保",
    "key_population": "重点人员",
    "living_alone": "独居",
    "veteran": "退役军人",
}
# A code is its own spelling.
TAG_SPELLINGS.update({code: (code,) for code in TAG_WORDS})
# Cells of a yes/no column (是否低保, 是否独居 …).
YES = {"是", "y", "yes", "true", "1", "√", "✓", "✔", "有"}
NO = {"否", "n", "no", "false", "0", "×", "无", ""}
TAG_SEPARATORS = re.compile(r"[、,，;；/|\s]+")
SPACES = re.compile(r"[\s\u3000]+")
HAN = re.compile(r"[\u3400-\u9fff]")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^(0\d{2,3}-?)?[2-9]\d{6,7}(-\d{1,6})?$")
ID_AS_NUMBER = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")

Checked = tuple[object, tuple[str, str] | None]


def plain(value: str) -> str:
    """Full-width digits and letters (１２３, ＸＸ) as ASCII; spaces kept."""
    return unicodedata.normalize("NFKC", value).strip()


def mask(field: str, value: str | None) -> str | None:
    if not value:
        return value
    return MASKS[field](value) if field in MASKS else value


def tag_names() -> str:
    """The tags for messages: one Chinese name each, and the codes."""
    return _(
        "%(names)s (or other usual names such as 独居老人、空巢老人、低保户、特困人员; or the "
        "codes %(codes)s)"
    ) % {"names": "、".join(TAG_WORDS.values()), "codes": ", ".join(TAG_WORDS)}


def check_name(value: str, limit: int) -> Checked:
    name = plain(value)
    if HAN.search(name):
        # Spreadsheets pad two-character names to line them up: 张  三.
        name = SPACES.sub("", name)
    if not name:
        return None, ("missing_value", _("the name is empty"))
    if len(name) > limit:
        return None, (
            "too_long",
            _("the name has %(n)d characters, at most %(max)d") % {"n": len(name), "max": limit},
        )
    return name, None


def upgrade_15(number: str) -> str:
    """A 15-digit ID number (issued before 1999, GB 11643-1989) as its 18-digit form."""
    body = number[:6] + "19" + number[6:]
    return body + check_digit(body)


def check_digit(body: str) -> str:
    return ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def check_id_number(
    value: str, *, day: dt.date | None = None
) -> tuple[dict | None, tuple[str, str] | None]:
    """{"id_number", "birth_date", "sex", "upgraded"} from an ID number cell, or a problem.
    `day`: today, given once by an import (reading the clock per row costs more than the
    check)."""
    number = SPACES.sub("", plain(value)).upper()
    if not number:
        return None, ("missing_value", _("the ID number is empty"))
    if ID_AS_NUMBER.match(number):
        return None, (
            "id_number_as_number",
            _(
                "the ID number was stored as a number and has lost its last digits (a "
                "spreadsheet keeps 15 digits of a number): format the column as text and enter "
                "it again"
            ),
        )
    upgraded = bool(re.fullmatch(r"\d{15}", number))
    if upgraded:
        number = upgrade_15(number)
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return None, (
            "bad_id_number",
            _(
                "not an ID number: 18 characters (17 digits and a check digit 0-9 or X) are "
                "needed, it has %(n)d"
            )
            % {"n": len(number)},
        )
    expected = check_digit(number[:17])
    if number[17] != expected:
        if number.endswith("000") or number.endswith("00X"):
            message = _(
                "the check digit (the 18th character) does not match the first 17 digits "
                "(GB 11643): a digit is wrong (it ends in 000: a spreadsheet that stored it as "
                "a number rounded it; format the column as text and enter it again)"
            )
        else:
            message = _(
                "the check digit (the 18th character) does not match the first 17 digits "
                "(GB 11643): a digit is wrong"
            )
        return None, ("id_checksum", message)
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None, ("id_birth_date", _("digits 7-14 of the ID number are no birth date"))
    if not EARLIEST_BIRTH <= birth <= (day or today()):
        return None, (
            "id_birth_date",
            _(
                "the birth date the ID number holds (year %(year)d) is in the future or before "
                "%(earliest)d"
            )
            % {"year": birth.year, "earliest": EARLIEST_BIRTH.year},
        )
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return {"id_number": number, "birth_date": birth, "sex": sex, "upgraded": upgraded}, None


def parse_date(value: str) -> dt.date | None:
    """A date as spreadsheets write it: 1949-12-31, 1949/12/31, 19491231, 1949年12月31日, or
    a date cell read as 1949-12-31 00:00:00."""
    if ISO_DATE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    text = SPACES.sub("", plain(value))
    if len(text) > 10 and re.fullmatch(r"\d{4}-\d{2}-\d{2}\d{2}:\d{2}:\d{2}(\.\d+)?", text):
        text = text[:10]  # an Excel date cell (the space went with SPACES)
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def check_birth_date(value: str, from_id: dt.date | None, *, day: dt.date | None = None) -> Checked:
    """A given birth date: a date, and the one the ID number holds."""
    date = parse_date(value)
    if date is None:
        return None, ("bad_date", _("the birth date is no date (use YYYY-MM-DD)"))
    if not EARLIEST_BIRTH <= date <= (day or today()):
        return None, (
            "bad_date",
            _("the birth date is in the future or before %(earliest)d")
            % {"earliest": EARLIEST_BIRTH.year},
        )
    if from_id is not None and date != from_id:
        return None, (
            "birth_date_mismatch",
            _("the birth date differs from the one the ID number holds (its digits 7-14)"),
        )
    return date, None


def check_sex(value: str, from_id: str | None) -> Checked:
    sex = SEXES.get(plain(value).lower())
    if sex is None:
        return None, (
            "bad_sex",
            _("sex '%(value)s' is not 男 or 女 (or M/F, 1/2)") % {"value": plain(value)},
        )
    if from_id is not None and sex != from_id:
        return None, (
            "sex_mismatch",
            _("sex %(given)s, but the ID number (its 17th digit) says %(from_id)s")
            % {"given": SEX_WORDS[sex], "from_id": SEX_WORDS[from_id]},
        )
    return sex, None


def check_phone(value: str, limit: int) -> Checked:
    """A mobile (11 digits, +86 dropped) or a landline with its area code (023-12345678,
    extension allowed); empty is allowed."""
    phone = SPACES.sub("", plain(value)).replace("—", "-")
    if not phone:
        return "", None
    if phone.endswith(".0"):
        phone = phone[:-2]  # a number cell
    phone = re.sub(r"^(\+86|0086)-?", "", phone)
    if re.fullmatch(r"86\d{11}", phone):
        phone = phone[2:]
    if re.fullmatch(r"1\d{2}-?\d{4}-?\d{4}", phone):
        phone = phone.replace("-", "")
    if not (MOBILE.match(phone) or LANDLINE.match(phone)) or len(phone) > limit:
        return None, (
            "bad_phone",
            _(
                "not a phone number: one mobile number (11 digits, starting 13-19) or a "
                "landline with its area code (023-12345678)"
            ),
        )
    return phone, None


def check_tags(value: str) -> tuple[list[str], list[str]]:
    """(tags, words that are no tag) from a 标签/人员类别 cell: 独居老人、低保."""
    tags: list[str] = []
    unknown = []
    for word in TAG_SEPARATORS.split(plain(value)):
        if not word:
            continue
        found = TAG_SPELLINGS.get(word) or TAG_SPELLINGS.get(word.lower())
        if found is None:
            unknown.append(word)
            continue
        tags += [str(tag) for tag in found if str(tag) not in tags]
    return tags, unknown


def yes_no_tags(column: str) -> tuple[str, ...] | None:
    """The tags of a yes/no column: 是否低保 → low_income; None for any other column."""
    name = plain(str(column))
    if not name.startswith("是否") or len(name) < 3:
        return None
    return TAG_SPELLINGS.get(name[2:])


def check_yes_no(value: str) -> bool | None:
    word = SPACES.sub("", plain(value)).lower()
    if word in YES:
        return True
    if word in NO:
        return False
    return None


def add_problem(report, row, field, code, message, value=None, severity="error") -> None:
    report.problems.append(
        Problem(
            code,
            message,
            row=row,
            field=field,
            value=mask(field, value) if value else None,
            severity=severity,
        )
    )
