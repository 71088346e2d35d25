"""Chinese standard addresses (标准地址) read from typed text, by rules.

Why rules and not a library: the parsers on PyPI that read Chinese addresses (cpca and its
forks, addressparser, jionlp's parse_location, geocodingchn) stop at province / city / county
(jionlp also at town and village) and return the rest as one string; none splits road, door
number, building, unit and room, nor knows rural 村/组 forms, 附/之 numbers or the 5-2-301
spelling. What a grid needs is that rest, so it is read here, left to right:

    [province][city][district][street|town][community|village]
    [road][group][number][estate][building][unit][floor][room]

Every part is optional but something below the community must be there: an address names a
door. `normalise` gives the one canonical spelling (the standard text), so two typings of the
same door (三单元 / 3单元, 幢 / 栋 / 号楼, １８８ / 188, 社 / 组) meet on one Address row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from grids.problems import Problem
from grids.services.addresses.numerals import clean

MAX_LENGTH = 200

HAN = "\u4e00-\u9fff"
MUNICIPALITIES = ("北京", "天津", "上海", "重庆")

# One pattern per administrative level, tried in this order at the current position; a level
# once passed is not tried again. Names are non-greedy, so the first suffix ends the name.
ADMIN_LEVELS = (
    ("province", re.compile(rf"[{HAN}]{{2,7}}?(?:省|自治区|特别行政区)")),
    ("city", re.compile(rf"[{HAN}]{{2,7}}?(?:市|自治州|地区|盟)")),
    # 社区 / 小区 / 园区 / 景区 / 校区 end in 区 but are not districts.
    ("district", re.compile(rf"[{HAN}]{{1,7}}?(?<![社小园景校])(?:区|县)")),
    ("street", re.compile(rf"[{HAN}]{{2,10}}?(?:街道办事处|街道办|街道|镇|乡)")),
    (
        "community",
        re.compile(
            rf"[{HAN}]{{2,10}}?(?:社区居民委员会|社区居委会|社区|居民委员会|居委会"
            r"|村民委员会|村委会|村)"
        ),
    ),
)
# The committee is not the place: 新华社区居委会 is 新华社区, 汉东村村委会 is 汉东村.
OFFICIAL_SUFFIXES = (
    (re.compile(r"(街道办事处|街道办)$"), "街道"),
    (re.compile(r"(社区居民委员会|社区居委会|居民委员会|居委会)$"), "社区"),
    (re.compile(r"(村民委员会|村委会)$"), "村"),
)

COMMITTEE = re.compile(r"村民委员会|村委会|社区居民委员会|社区居委会|居民委员会|居委会")

ROAD = re.compile(
    rf"[{HAN}]{{1,15}}?(?:大道|大街|路|街|巷|弄|胡同)(?:[东西南北中]段|\d+段)?(?:\d+(?:巷|弄))?"
)
# 村民小组: 组, and in Chongqing 社 or 队.
GROUP = re.compile(r"(\d+)(?:组|社|队)")
NUMBER = re.compile(r"(附?\d+[A-Z]?(?:-\d+)?)(号院|号)?(?:([附之])(\d+)号?)?")
ESTATE = re.compile(rf"[{HAN}]+(?:\d+期|[A-Z]区|\d+区)?|[A-Z]区|\d+期")
# Words that say where near the door, not which door: notes, not parts of the address.
NEAR = re.compile(r"(附近|旁边|对面|背后|后面|隔壁|楼下|一带)")
# What an estate name (小区, 花园, 世界城 …) ends with, to tell a place from a stray word when
# the estate is the only part below the community.
ESTATE_ENDINGS = re.compile(
    r"(小区|花园|苑|园|城|府|公寓|大厦|广场|家园|新村|山庄|公馆|中心|里|庭|湾|郡|居|阁|院|楼|坊"
    r"|宿舍|村|区|期|湖|岸|邸|庄|寓|舍|厦|座)$"
)
BUILDING = re.compile(r"([A-Z]?\d+[A-Z]?|[A-Z])(?:号楼|号栋|号幢|栋|幢|座|#楼?|号(?=\d+单元))")
DASHED = re.compile(r"([A-Z]?\d+[A-Z]?)-(\d+)(?:-(\d+(?:-\d+)?))?")
UNIT = re.compile(r"(\d+)单元")
FLOOR = re.compile(r"(-?\d+)(?:楼|层)(?!\d*(?:单元|栋|幢))")
ROOM = re.compile(r"([A-Z]?\d+(?:-\d+)*[A-Z]?)(?:室|号|户)?")


class AddressError(ValueError):
    """Text that cannot be read as an address; `code` is stable, `message` in the user's
    language."""

    def __init__(self, code: str, message: str, value: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.value = value

    def problem(self, field: str = "address", row: int | None = None) -> Problem:
        return Problem(self.code, self.message, row=row, field=field, value=self.value[:200])


@dataclass(frozen=True)
class ParsedAddress:
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""  # 街道, or 镇 / 乡 in the countryside
    community: str = ""  # 社区, or 村
    road: str = ""  # 街路巷
    group: str = ""  # 村民小组 number (rural: XX村3组12号)
    number: str = ""  # 门牌号, with 附/之 sub-number: "188附3", "98之1"
    yard: bool = False  # 号院: the number names a courtyard
    estate: str = ""  # 小区 name
    building_no: str = ""  # 楼栋号
    unit_no: str = ""  # 单元
    floor: str = ""
    room: str = ""  # 户室号
    unparsed: str = ""  # text left over after the parts (kept in the standard text)
    notes: tuple[str, ...] = field(default_factory=tuple)  # bracketed remarks, not the address

    @property
    def number_text(self) -> str:
        if not self.number:
            return ""
        main, link, sub = re.fullmatch(r"(.+?)(?:([附之])(.+))?", self.number).groups()
        text = f"{main}号院" if self.yard else f"{main}号"
        if link == "附":
            text += f"附{sub}号"
        elif link == "之":
            text += f"之{sub}"
        return text

    @property
    def locality(self) -> str:
        """The standard text below the community: what tells doors of one community apart."""
        parts = [self.road]
        if self.group:
            parts.append(f"{self.group}组")
        # A door numbered on its road comes before the estate (人民大道188号金科世界城); one
        # numbered on the estate or square after it (渝西广场5号).
        door = [self.number_text, self.estate] if self.road else [self.estate, self.number_text]
        parts.extend(door)
        if self.building_no:
            parts.append(f"{self.building_no}栋")
        if self.unit_no:
            parts.append(f"{self.unit_no}单元")
        if self.floor:
            parts.append(f"{self.floor}层")
        parts.extend([self.room, self.unparsed])
        return "".join(parts)

    @property
    def text(self) -> str:
        """The standard address: district down to the room. Province and city are left out
        so that 重庆市永川区… and 永川区… are one address (a platform serves one district)."""
        return f"{self.district}{self.street}{self.community}{self.locality}"

    def address_fields(self) -> dict:
        """Values for the Address model's columns. A rural address has no road: its 村民小组
        stands in the road's place (XX村3组12号), as standard addresses write it."""
        return {
            "road": self.road or (f"{self.group}组" if self.group else ""),
            "number": self.number_text,
            "building_no": self.building_no,
            "unit_no": self.unit_no,
            "room": f"{self.floor}层{self.room}" if self.floor and not self.room else self.room,
            "text": self.text,
        }


def normalise(text: str) -> str:
    """The canonical standard-address text of a typed address (raises AddressError)."""
    return parse_address(text).text


def parse_address(text: str) -> ParsedAddress:
    """Read typed address text into its parts (raises AddressError with a code: `empty`,
    `too_long`, `no_place`, `incomplete`, `unrecognised`)."""
    raw = text if isinstance(text, str) else ""
    if not raw.strip():
        raise AddressError("empty", _("The address is empty."))
    if len(raw.strip()) > MAX_LENGTH:
        raise AddressError(
            "too_long",
            _("The address is %(length)d characters long; at most %(limit)d are accepted.")
            % {"length": len(raw.strip()), "limit": MAX_LENGTH},
            raw,
        )
    cleaned, notes = clean(raw)
    if not re.search(f"[{HAN}]", cleaned):
        raise AddressError(
            "no_place",
            _(
                "The address has no place names, only numbers or signs: "
                "name at least the road, village or estate."
            ),
            raw,
        )
    parts, rest = _administrative(cleaned)
    parts.update(_locality(rest, parts))
    if notes and not parts.get("estate"):
        # An estate written in brackets after the door: 人民大道188号（金科世界城）.
        estates = [note for note in notes if ESTATE_ENDINGS.search(note) and _is_name(note)]
        if estates and not parts.get("building_no"):
            parts["estate"] = estates[0]
            notes = [note for note in notes if note != estates[0]]
    for name in ("estate", "unparsed"):
        if NEAR.fullmatch(parts.get(name, "")):
            notes.append(parts.pop(name))
    parsed = ParsedAddress(**parts, notes=tuple(notes))
    _check(parsed, raw)
    return parsed


def _is_name(text: str) -> bool:
    return bool(re.fullmatch(f"[{HAN}A-Z0-9]+", text))


def _administrative(text: str) -> tuple[dict, str]:
    parts: dict = {}
    position = 0
    level = 0
    while level < len(ADMIN_LEVELS):
        for index in range(level, len(ADMIN_LEVELS)):
            name, pattern = ADMIN_LEVELS[index]
            match = pattern.match(text, position)
            if match and _accept(name, match.group(), text[match.end() :], parts):
                parts[name] = _official(match.group())
                position = match.end()
                if committee := COMMITTEE.match(text, position):
                    # 石梯村村民委员会: the village's name, then its committee.
                    position = committee.end()
                level = index + 1
                break
        else:
            break
    district = parts.get("district", "")
    for city in MUNICIPALITIES:
        # 重庆永川区: the municipality typed without 市.
        if district.startswith(city) and len(district) > len(city) + 1 and "city" not in parts:
            parts["city"] = f"{city}市"
            parts["district"] = district[len(city) :]
    return parts, text[position:]


def _accept(level: str, name: str, rest: str, parts: dict) -> bool:
    if rest.startswith(("路", "大道", "大街", "街", "巷")):
        # 新区大道, 镇南路: the name of a road, not of a district or town.
        return False
    if level == "community" and name.endswith("村") and not name.endswith(("村委会",)):
        # 电力新村5栋 is an urban estate; 汉东村3组 and a village under a town are villages.
        rural_street = parts.get("street", "").endswith(("镇", "乡"))
        if COMMITTEE.match(rest):
            return True
        if not rural_street and not re.match(r"(\d+(组|社|队)|\d+号|$)", rest):
            return False
    # 永川市 alone would be a city with nothing in it; as a whole address it names no door.
    return not (level == "city" and not rest)


def _official(name: str) -> str:
    for pattern, replacement in OFFICIAL_SUFFIXES:
        name = pattern.sub(replacement, name)
    return name


def _locality(text: str, admin: dict) -> dict:
    parts: dict = {}
    position = 0

    def take(pattern: re.Pattern) -> re.Match | None:
        nonlocal position
        match = pattern.match(text, position)
        if match and match.end() > position:
            position = match.end()
            return match
        return None

    if road := take(ROAD):
        parts["road"] = road.group()
    if group := take(GROUP):
        parts["group"] = group.group(1)
    number = NUMBER.match(text, position)
    if number and number.end() > position and _is_door_number(number, text, parts):
        position = number.end()
        _door_number(number, parts)
    if estate := take(ESTATE):
        parts["estate"] = estate.group()
        number = NUMBER.match(text, position)
        numbered = number and (number.group(2) or number.group(3))
        # 渝西广场5号: a door numbered on the estate or square, not on a road.
        if (
            "number" not in parts
            and numbered
            and (not BUILDING.match(text, position) or number.group(2) == "号院")
        ):
            position = number.end()
            _door_number(number, parts)
    if building := take(BUILDING):
        parts["building_no"] = building.group(1)
    elif dashed := take(DASHED):
        _dashed(dashed, parts)
    if unit := take(UNIT):
        parts["unit_no"] = unit.group(1)
    if "unit_no" in parts and "room" not in parts and (dashed := take(DASHED)):
        # After 单元, 15-2 is Chongqing's floor-room spelling.
        parts["room"] = dashed.group()
    elif "building_no" in parts and "unit_no" not in parts and (dashed := take(DASHED)):
        _dashed_after_building(dashed, parts)
    if "room" not in parts:
        if floor := take(FLOOR):
            parts["floor"] = floor.group(1)
        if room := take(ROOM):
            parts["room"] = room.group(1)
    leftover = text[position:]
    if leftover:
        parts["unparsed"] = leftover
    return parts


def _door_number(match: re.Match, parts: dict) -> None:
    main, marker, link, sub = match.groups()
    parts["number"] = f"{main}{link}{sub}" if link else main
    parts["yard"] = marker == "号院"


def _is_door_number(match: re.Match, text: str, parts: dict) -> bool:
    main, marker, link, _sub = match.groups()
    after = text[match.end() :]
    if BUILDING.match(text, match.start()) and marker != "号院":
        # 3号楼 / 3号2单元: a building, not a door.
        building = BUILDING.match(text, match.start())
        if building.end() > match.start() + len(main):
            return "road" in parts and marker == "号" and not after.startswith(("楼", "栋"))
    if marker or link:
        return True
    # A bare number right after the road is its door number (人民大道188金科世界城).
    return "road" in parts and "-" not in main and (not after or bool(ESTATE.match(after)))


def _dashed(match: re.Match, parts: dict) -> None:
    first, second, third = match.groups()
    if third:
        # 5-2-301 is building-unit-room; 5-2-3-1 building-unit-(floor-room).
        parts.update(building_no=first, unit_no=second, room=third)
    elif len(second) >= 3 and ("number" in parts or "estate" in parts or "group" in parts):
        # 5-301 after a door or an estate: building 5, room 301.
        parts.update(building_no=first, room=second)
    else:
        parts["room"] = match.group()


def _dashed_after_building(match: re.Match, parts: dict) -> None:
    first, second, third = match.groups()
    if third is None and len(second) >= 3:
        parts.update(unit_no=first, room=second)  # 3栋2-301
    else:
        parts["room"] = match.group()  # 3栋15-2: floor 15, door 2


def _check(parsed: ParsedAddress, raw: str) -> None:
    below_community = (
        parsed.road or parsed.group or parsed.number or parsed.building_no or parsed.room
    )
    if below_community or (parsed.estate and ESTATE_ENDINGS.search(parsed.estate)):
        return
    if parsed.street or parsed.community or parsed.district:
        raise AddressError(
            "incomplete",
            _(
                "The address stops at the community or village (%(place)s): add the road and "
                "door number, the group, or the building."
            )
            % {"place": parsed.district + parsed.street + parsed.community},
            raw,
        )
    raise AddressError(
        "unrecognised",
        _("No road, door number, village group, estate or building could be read in it."),
        raw,
    )
