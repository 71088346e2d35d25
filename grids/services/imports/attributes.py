"""The 实有人口 attributes beyond identity, as community spreadsheets write them: registration
(户籍 / 流动 / 境外, in words or codes), the relation to the household head (户主, 配偶, 长子
…), and tags from the catalogue held as data, by Chinese name or code, with levels where the
kind has them: 残疾(二级), 残疾：二级, 严重精神障碍（三级）."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from grids.models import Registration, Relation, Resident, today
from grids.services.basedata import TagCatalogue
from grids.services.imports.people import (
    SPACES,
    TAG_SPELLINGS,
    add_problem,
    parse_date,
    plain,
)

ORIGIN_LIMIT = Resident._meta.get_field("origin").max_length
REGISTRATION_WORDS = {
    **{word: Registration.REGISTERED for word in ("户籍", "户籍人口", "本地户籍", "常住户籍")},
    **{word: Registration.REGISTERED for word in ("户籍居民", "本地", "本地人口", "常住")},
    **{word: Registration.FLOATING for word in ("流动", "流动人口", "外来", "外来人口")},
    **{word: Registration.FLOATING for word in ("暂住", "暂住人口", "非户籍", "寄住")},
    **{word: Registration.OVERSEAS for word in ("境外", "境外人员", "境外人口", "外籍")},
    **{word: Registration.OVERSEAS for word in ("外籍人员", "外国人", "港澳台")},
    **{value: value for value in Registration.values},
}
RELATION_WORDS = {
    **{word: Relation.HEAD for word in ("户主", "本人", "户主本人")},
    **{word: Relation.SPOUSE for word in ("配偶", "妻", "妻子", "夫", "丈夫", "之妻", "之夫")},
    **{
        word: Relation.CHILD
        for word in ("子女", "子", "女", "儿子", "女儿", "长子", "次子", "长女", "次女")
    },
    **{word: Relation.CHILD for word in ("三子", "三女", "养子", "养女", "继子", "继女")},
    **{word: Relation.PARENT for word in ("父母", "父亲", "母亲", "父", "母", "公公", "婆婆")},
    **{word: Relation.PARENT for word in ("岳父", "岳母")},
    **{word: Relation.GRANDCHILD for word in ("孙辈", "孙子", "孙女", "外孙", "外孙女")},
    **{word: Relation.GRANDCHILD for word in ("孙子女", "外孙子女")},
    **{word: Relation.SIBLING for word in ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥")},
    **{word: Relation.SIBLING for word in ("弟弟", "姐姐", "妹妹")},
    **{word: Relation.OTHER for word in ("其他", "其它", "儿媳", "女婿", "亲属", "非亲属")},
    **{value: value for value in Relation.values},
}
# A tag with its level: 残疾(二级), 残疾（二级）, 残疾:二级, 残疾：二级.
WITH_LEVEL = re.compile(r"^(?P<tag>[^(（:：]+?)\s*(?:[(（](?P<a>[^)）]+)[)）]|[:：](?P<b>.+))$")
# A tag cell is split on these, but not inside a level's brackets.
TAG_SPLIT = re.compile(r"[、,，;；/|\s]+(?![^(（]*[)）])")


def registration_of(value: str) -> str | None:
    """The registration code of a cell; "" for an empty one, None for one not understood."""
    word = SPACES.sub("", plain(value))
    if not word:
        return ""
    return REGISTRATION_WORDS.get(word) or REGISTRATION_WORDS.get(word.lower())


def relation_of(value: str) -> str | None:
    word = SPACES.sub("", plain(value))
    if not word:
        return ""
    return RELATION_WORDS.get(word) or RELATION_WORDS.get(word.lower())


class TagWords:
    """The words a tag cell may use: the usual spellings (people.TAG_SPELLINGS), then each
    catalogue kind's name and code as they stand at the start of the import, so that a kind
    an administrator added is read by its name."""

    def __init__(self, catalogue: TagCatalogue | None = None):
        self.catalogue = catalogue or TagCatalogue()
        self.words = dict(TAG_SPELLINGS)
        for code, kind in self.catalogue.kinds.items():
            self.words.setdefault(kind.name, (code,))
            self.words.setdefault(code, (code,))

    def read(self, value: str) -> tuple[list[str], dict[str, str], list[str]]:
        """(tags, {tag: level}, words that are no tag) from a cell: 独居老人、残疾(二级)."""
        tags: list[str] = []
        levels: dict[str, str] = {}
        unknown = []
        for part in TAG_SPLIT.split(plain(value)):
            if not part:
                continue
            word, level = part, None
            if (match := WITH_LEVEL.match(part)) is not None:
                word, level = match["tag"].strip(), (match["a"] or match["b"]).strip()
            found = self.words.get(word) or self.words.get(word.lower())
            if found is None:
                unknown.append(part)
                continue
            tags += [tag for tag in found if tag not in tags]
            if level:
                levels[found[0]] = level
        return tags, levels, unknown

    def names(self) -> str:
        """The tags for messages: each kind's name and code, and how levels are written."""
        return _(
            "%(names)s (or usual names such as 独居老人、空巢老人、低保户、留守儿童; a level "
            "as 残疾(二级))"
        ) % {"names": self.catalogue.names()}

    def yes_no(self, column) -> tuple[str, ...] | None:
        """The tags of a yes/no column: 是否低保 → low_income; None for any other column."""
        name = plain(str(column))
        if not name.startswith("是否") or len(name) < 3:
            return None
        return self.words.get(name[2:])


def check_attributes(row: int, values: dict, record: dict, report) -> bool:
    """Registration, residence_since, origin and relation of one row into `record`, each
    bad value reported with the row, field and value; True when all could be read."""
    ok = True
    registration = registration_of(values.get("registration", ""))
    if registration is None:
        add_problem(
            report,
            row,
            "registration",
            "bad_registration",
            _("is not a registration type: 户籍, 流动 or 境外 (or registered/floating/overseas)"),
            value=values["registration"],
        )
        ok = False
    record["registration"] = registration or Registration.REGISTERED
    relation = relation_of(values.get("relation", ""))
    if relation is None:
        add_problem(
            report,
            row,
            "relation",
            "bad_relation",
            _("is not a relation to the head: 户主, 配偶, 子女, 父母, 孙辈, 兄弟姐妹 or 其他"),
            value=values["relation"],
        )
        ok = False
    record["relation"] = relation or ""
    since = values.get("residence_since", "")
    record["residence_since"] = None
    if since:
        day = parse_date(since)
        if day is None or day > today():
            add_problem(
                report,
                row,
                "residence_since",
                "bad_date",
                _("is no date in the past (use YYYY-MM-DD)"),
                value=since,
            )
            ok = False
        record["residence_since"] = day
    origin = plain(values.get("origin", ""))
    if len(origin) > ORIGIN_LIMIT:
        add_problem(
            report,
            row,
            "origin",
            "too_long",
            _("%(n)d characters, at most %(max)d") % {"n": len(origin), "max": ORIGIN_LIMIT},
            value=origin,
        )
        ok = False
    record["origin"] = origin
    return ok
