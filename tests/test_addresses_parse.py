"""The standard-address parser (grids.services.addresses): real-style addresses of a Chongqing
district, urban and rural, each read into its parts and one canonical text."""

import pytest
from django.utils import translation

from grids.services.addresses import MAX_LENGTH, AddressError, normalise, parse_address

# typed text → the standard text, and the parts it must read (others must be empty).
CASES = [
    # Urban, full chain from the city down.
    (
        "重庆市永川区中山路街道新华社区人民大道188号3栋2单元301",
        "永川区中山路街道新华社区人民大道188号3栋2单元301",
        dict(
            city="重庆市",
            district="永川区",
            street="中山路街道",
            community="新华社区",
            road="人民大道",
            number="188",
            building_no="3",
            unit_no="2",
            room="301",
        ),
    ),
    (
        "永川区胜利路街道萱花社区萱花路256号附3号",
        "永川区胜利路街道萱花社区萱花路256号附3号",
        dict(
            district="永川区",
            street="胜利路街道",
            community="萱花社区",
            road="萱花路",
            number="256附3",
        ),
    ),
    (
        "永川区中山路街道兴龙大道1999号金科世界城12幢1单元15-2",
        "永川区中山路街道兴龙大道1999号金科世界城12栋1单元15-2",
        dict(
            district="永川区",
            street="中山路街道",
            road="兴龙大道",
            number="1999",
            estate="金科世界城",
            building_no="12",
            unit_no="1",
            room="15-2",
        ),
    ),
    (
        "汇龙大道333号1号楼2单元1001室",
        "汇龙大道333号1栋2单元1001",
        dict(road="汇龙大道", number="333", building_no="1", unit_no="2", room="1001"),
    ),
    (
        "昌州大道西段666号A座1801",
        "昌州大道西段666号A栋1801",
        dict(road="昌州大道西段", number="666", building_no="A", room="1801"),
    ),
    ("红河中路98号之一", "红河中路98号之1", dict(road="红河中路", number="98之1")),
    (
        "棠城大道北段288号附1号",
        "棠城大道北段288号附1号",
        dict(road="棠城大道北段", number="288附1"),
    ),
    ("胜利路188-1号", "胜利路188-1号", dict(road="胜利路", number="188-1")),
    ("人民南路一段10号", "人民南路1段10号", dict(road="人民南路1段", number="10")),
    ("红旗路二巷3号", "红旗路2巷3号", dict(road="红旗路2巷", number="3")),
    ("胜利路2巷5号", "胜利路2巷5号", dict(road="胜利路2巷", number="5")),
    # 5-2-301 spellings: building-unit-room, and Chongqing's floor-room after a unit.
    (
        "人民大道188号5-2-301",
        "人民大道188号5栋2单元301",
        dict(road="人民大道", number="188", building_no="5", unit_no="2", room="301"),
    ),
    (
        "永川区兴龙湖街道凤凰湖社区凤凰湖大道88号5-2-3-1",
        "永川区兴龙湖街道凤凰湖社区凤凰湖大道88号5栋2单元3-1",
        dict(
            district="永川区",
            street="兴龙湖街道",
            community="凤凰湖社区",
            road="凤凰湖大道",
            number="88",
            building_no="5",
            unit_no="2",
            room="3-1",
        ),
    ),
    (
        "萱花小区5#2-301",
        "萱花小区5栋2单元301",
        dict(estate="萱花小区", building_no="5", unit_no="2", room="301"),
    ),
    ("3#楼2单元301", "3栋2单元301", dict(building_no="3", unit_no="2", room="301")),
    ("萱花小区15-2", "萱花小区15-2", dict(estate="萱花小区", room="15-2")),
    (
        "北山路12号7栋15-2",
        "北山路12号7栋15-2",
        dict(road="北山路", number="12", building_no="7", room="15-2"),
    ),
    (
        "北山路12号7栋2-301",
        "北山路12号7栋2单元301",
        dict(road="北山路", number="12", building_no="7", unit_no="2", room="301"),
    ),
    # Chinese numerals before markers; names with numerals stay names.
    (
        "金科世界城二期十二栋一单元二十一楼",
        "金科世界城2期12栋1单元21层",
        dict(estate="金科世界城2期", building_no="12", unit_no="1", floor="21"),
    ),
    ("五一路一百零八号", "五一路108号", dict(road="五一路", number="108")),
    (
        "二环路十号三单元三〇一室",
        "二环路10号3单元301",
        dict(road="二环路", number="10", unit_no="3", room="301"),
    ),
    ("三峡广场两栋", "三峡广场2栋", dict(estate="三峡广场", building_no="2")),
    # Full-width digits, spaces and punctuation; the municipality typed without 市.
    (
        "重庆永川区 中山路街道，人民大道 １８８ 号 三单元 ５０２",
        "永川区中山路街道人民大道188号3单元502",
        dict(
            city="重庆市",
            district="永川区",
            street="中山路街道",
            road="人民大道",
            number="188",
            unit_no="3",
            room="502",
        ),
    ),
    (
        "萱花路　１０号院　３号楼　２单元　５０１",
        "萱花路10号院3栋2单元501",
        dict(road="萱花路", number="10", yard=True, building_no="3", unit_no="2", room="501"),
    ),
    ("ａ座１２０３，渝西广场", None, None),  # checked separately below
    # Committees are not places.
    (
        "中山路街道办事处新华社区居委会人民大道18号",
        "中山路街道新华社区人民大道18号",
        dict(street="中山路街道", community="新华社区", road="人民大道", number="18"),
    ),
    (
        "永川区胜利路街道办萱花社区居民委员会萱花路1号",
        "永川区胜利路街道萱花社区萱花路1号",
        dict(
            district="永川区", street="胜利路街道", community="萱花社区", road="萱花路", number="1"
        ),
    ),
    # Estates and squares.
    (
        "永川区中山路街道电力新村5栋2单元3-1",
        "永川区中山路街道电力新村5栋2单元3-1",
        dict(
            district="永川区",
            street="中山路街道",
            estate="电力新村",
            building_no="5",
            unit_no="2",
            room="3-1",
        ),
    ),
    (
        "南大街街道渝西广场5号",
        "南大街街道渝西广场5号",
        dict(street="南大街街道", estate="渝西广场", number="5"),
    ),
    (
        "昌州大道东段8号B区3栋",
        "昌州大道东段8号B区3栋",
        dict(road="昌州大道东段", number="8", estate="B区", building_no="3"),
    ),
    (
        "人民大道188金科世界城3栋",
        "人民大道188号金科世界城3栋",
        dict(road="人民大道", number="188", estate="金科世界城", building_no="3"),
    ),
    (
        "永川区中山路街道新华社区和顺花园3号楼1单元1-1",
        "永川区中山路街道新华社区和顺花园3栋1单元1-1",
        dict(
            district="永川区",
            street="中山路街道",
            community="新华社区",
            estate="和顺花园",
            building_no="3",
            unit_no="1",
            room="1-1",
        ),
    ),
    # Notes in brackets and words of nearness are not the address.
    ("人民大道188号（永川中学对面）", "人民大道188号", dict(road="人民大道", number="188")),
    ("人民大道188号附近", "人民大道188号", dict(road="人民大道", number="188")),
    (
        "人民大道188号(金科世界城)",
        "人民大道188号金科世界城",
        dict(road="人民大道", number="188", estate="金科世界城"),
    ),
    # Rural: town, village, group (组, Chongqing's 社 and 队), door.
    (
        "朱沱镇汉东村3组12号",
        "朱沱镇汉东村3组12号",
        dict(street="朱沱镇", community="汉东村", group="3", number="12"),
    ),
    (
        "永川区卫星湖街道南华村五组28号",
        "永川区卫星湖街道南华村5组28号",
        dict(district="永川区", street="卫星湖街道", community="南华村", group="5", number="28"),
    ),
    (
        "来苏镇观音井村7社",
        "来苏镇观音井村7组",
        dict(street="来苏镇", community="观音井村", group="7"),
    ),
    (
        "永川区大安街道云雾村1组",
        "永川区大安街道云雾村1组",
        dict(district="永川区", street="大安街道", community="云雾村", group="1"),
    ),
    (
        "松溉镇松江村第三组二十一号",
        "松溉镇松江村3组21号",
        dict(street="松溉镇", community="松江村", group="3", number="21"),
    ),
    (
        "永川区青峰镇三元村4社附12号",
        "永川区青峰镇三元村4组附12号",
        dict(district="永川区", street="青峰镇", community="三元村", group="4", number="附12"),
    ),
    (
        "何埂镇石梯村村民委员会8队",
        "何埂镇石梯村8组",
        dict(street="何埂镇", community="石梯村", group="8"),
    ),
    (
        "永川区板桥镇大沟村十一组",
        "永川区板桥镇大沟村11组",
        dict(district="永川区", street="板桥镇", community="大沟村", group="11"),
    ),
    ("汉东村3组", "汉东村3组", dict(community="汉东村", group="3")),
    (
        "吉安镇五间村12号",
        "吉安镇五间村12号",
        dict(street="吉安镇", community="五间村", number="12"),
    ),
    # Province and county-level names.
    (
        "四川省成都市武侯区浆洗街街道人民南路四段27号",
        "武侯区浆洗街街道人民南路4段27号",
        dict(
            province="四川省",
            city="成都市",
            district="武侯区",
            street="浆洗街街道",
            road="人民南路4段",
            number="27",
        ),
    ),
    (
        "重庆市荣昌县昌元街道海棠大道9号",
        "荣昌县昌元街道海棠大道9号",
        dict(city="重庆市", district="荣昌县", street="昌元街道", road="海棠大道", number="9"),
    ),
    # A road called after a district or town is a road.
    ("新区大道18号", "新区大道18号", dict(road="新区大道", number="18")),
]

FIELDS = (
    "province",
    "city",
    "district",
    "street",
    "community",
    "road",
    "group",
    "number",
    "estate",
    "building_no",
    "unit_no",
    "floor",
    "room",
    "unparsed",
)


@pytest.mark.parametrize(("typed", "text", "parts"), [case for case in CASES if case[1]])
def test_real_addresses_read_into_their_parts(typed, text, parts):
    parsed = parse_address(typed)
    assert parsed.text == text
    for name in FIELDS:
        assert getattr(parsed, name) == parts.get(name, ""), name
    assert parsed.yard == parts.get("yard", False)


@pytest.mark.parametrize("typed", [case[0] for case in CASES])
def test_the_standard_text_is_a_fixed_point(typed):
    # Reading the standard text again gives the same text: stored addresses never drift.
    assert normalise(normalise(typed)) == normalise(typed)


def test_enough_real_addresses():
    assert len(CASES) >= 40


@pytest.mark.parametrize(
    "spellings",
    [
        [
            "人民大道188号3栋2单元301",
            "人民大道188号3幢2单元301室",
            "人民大道188号3号楼二单元301",
            "人民大道 １８８号 ３座 ２单元 ３０１",
            "人民大道188号3-2-301",
            "人民大道188号3#2单元301户",
        ],
        ["汉东村3组12号", "汉东村三社12号", "汉东村第3队十二号", "汉东村村委会3组12号"],
    ],
)
def test_spellings_of_one_door_meet(spellings):
    assert len({normalise(typed) for typed in spellings}) == 1


def test_a_bracketed_note_is_kept_apart():
    parsed = parse_address("人民大道188号（永川中学对面）")
    assert parsed.notes == ("永川中学对面",)


def test_letters_are_upper_case_and_full_width_read():
    parsed = parse_address("渝西广场ａ座１２０３")
    assert (parsed.estate, parsed.building_no, parsed.room) == ("渝西广场", "A", "1203")


def test_fields_for_the_address_model():
    urban = parse_address("萱花路10号院3号楼2单元501").address_fields()
    assert urban == {
        "road": "萱花路",
        "number": "10号院",
        "building_no": "3",
        "unit_no": "2",
        "room": "501",
        "text": "萱花路10号院3栋2单元501",
    }
    rural = parse_address("朱沱镇汉东村3组12号").address_fields()
    assert (rural["road"], rural["number"]) == ("3组", "12号")
    floor_only = parse_address("金科世界城12栋1单元21楼").address_fields()
    assert floor_only["room"] == "21层"
    assert parse_address("红河中路98号之一").address_fields()["number"] == "98号之1"


def test_locality_is_the_part_below_the_community():
    parsed = parse_address("永川区中山路街道新华社区人民大道188号3栋2单元301")
    assert parsed.locality == "人民大道188号3栋2单元301"


def test_unread_text_is_kept_in_the_standard_text():
    # What the rules cannot place stays in the text (two such doors never merge) and is
    # named, so an import can warn about it.
    parsed = parse_address("人民大道188号3栋2单元301旁小卖部")
    assert parsed.unparsed == "旁小卖部"
    assert parsed.text.endswith("301旁小卖部")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("   　 ", "empty"),
        ("12345", "no_place"),
        ("5-2-301", "no_place"),
        ("１２-３", "no_place"),
        ("，。；", "no_place"),
        ("你好世界", "unrecognised"),
        ("永川区中山路街道新华社区", "incomplete"),
        ("朱沱镇汉东村", "incomplete"),
        ("人民大道" * 60, "too_long"),
    ],
)
def test_what_is_not_an_address_is_refused_with_a_reason(typed, code):
    with pytest.raises(AddressError) as refused:
        parse_address(typed)
    assert refused.value.code == code
    problem = refused.value.problem(field="address", row=7)
    assert (problem.code, problem.field, problem.row) == (code, "address", 7)
    assert problem.message


def test_the_refusals_speak_chinese():
    with translation.override("zh-hans"):
        with pytest.raises(AddressError) as refused:
            parse_address("12345")
        assert "门牌" in refused.value.message or "地名" in refused.value.message
        with pytest.raises(AddressError) as refused:
            parse_address("人" * (MAX_LENGTH + 1))
        assert str(MAX_LENGTH) in refused.value.message
        assert "字" in refused.value.message


def test_not_text_is_refused():
    with pytest.raises(AddressError) as refused:
        parse_address(None)
    assert refused.value.code == "empty"
