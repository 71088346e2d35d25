"""The field app's checks on the phone are the server's (issue #18): rules.js and
ledger-rules.js evaluated in Debian's Chromium, value by value, against the Python functions
they mirror — ID numbers (GB 11643), phones, credit codes (GB 32100) and ledger values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from grids.services.basedata.units import credit_code_valid
from grids.services.imports import people
from grids.services.imports.people import check_digit
from reports.models import Indicator
from reports.services.indicators import parse_value, value_problem
from tests.browser_support import browser, needs_chromium  # noqa: F401
from tests.test_field_browser_base import PHONE, id_number

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]


IDS = [
    id_number("11010519491231002"),
    id_number("50011819900101123"),
    id_number("50011819900101123")[:17] + "0",
    id_number("11010519491231002").lower(),
    " ".join(id_number("50011819900101123")),  # spaced as read aloud
    "110105491231002",  # 15 digits (before 1999)
    id_number("11010519490230002"),  # 30 February
    id_number("11010530001231002"),  # born in the year 3000
    "11010519491231002",
    "1101051949123100XX",
    "",
    "１１０１０５１９４９１２３１００２" + check_digit("11010519491231002"),  # full width
]
PHONES = [
    "13812345678",
    "+86 138 1234 5678",
    "8613812345678",
    "0086-13812345678",
    "138-1234-5678",
    "023-62345678",
    "023-12345678",
    "62345678",
    "023-62345678-801",
    "12345",
    "１３８１２３４５６７８",
    "",
]
CREDIT_CODES = ["91350100M000100Y43", "91350100M000100Y44", "91350100M000100I43", "9135"]
VALUES = [
    ("integer", "12"),
    ("integer", "1,200"),
    ("integer", "1.5"),
    ("integer", "1e3"),
    ("integer", "-3"),
    ("integer", "abc"),
    ("decimal", "2.00005"),
    ("decimal", "2.00015"),
    ("decimal", "1e17"),
    ("decimal", " 7.25 "),
    ("percentage", "99.5%"),
    ("percentage", "101"),
    ("boolean", "是"),
    ("boolean", "no"),
    ("boolean", "也许"),
    ("choice", "好"),
    ("choice", "坏"),
    ("text", "x" * 501),
]


def test_the_phone_checks_as_the_server_does(browser, live_server, tree):  # noqa: F811
    """rules.js and ledger-rules.js against the server's own functions, value by value."""
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{live_server.url}/field/#/login", timeout=90000)
    page.wait_for_selector("form.login", timeout=60000)
    phone = page.evaluate(
        """async ([ids, phones, codes, values]) => {
          const r = await import("/static/field/rules.js");
          const l = await import("/static/field/ledger-rules.js");
          const item = (type) => ({indicator: "X", name: "项", value_type: type,
            choices: ["好", "中"], min_value: type === "integer" ? "-5" : null, max_value: null});
          return {
            ids: ids.map((v) => {
              const c = r.checkIdNumber(v, "2026-12-07");
              return c.problem ? c.problem.code
                : [c.value.id_number, c.value.birth_date, c.value.sex];
            }),
            phones: phones.map((v) => {
              const c = r.checkPhone(v);
              return c.problem ? c.problem.code : c.value;
            }),
            codes: codes.map((v) => r.creditCodeValid(v)),
            values: values.map(([type, v]) => { const c = l.parseValue(item(type), v);
              return c.error ? c.error.code : (c.number ? l.decText(c.number) : c.text); }),
          };
        }""",
        [IDS, PHONES, CREDIT_CODES, VALUES],
    )
    page.close()

    day = dt.date(2026, 12, 7)
    server_ids = []
    for value in IDS:
        found, problem = people.check_id_number(value, day=day)
        server_ids.append(
            problem[0] if problem else [found["id_number"], str(found["birth_date"]), found["sex"]]
        )
    assert phone["ids"] == server_ids
    assert phone["phones"] == [
        (lambda found: found[1][0] if found[1] else found[0])(people.check_phone(v, 20))
        for v in PHONES
    ]
    assert phone["codes"] == [credit_code_valid(code) for code in CREDIT_CODES]

    def server_value(kind, raw):
        indicator = Indicator(
            code="X",
            name="项",
            value_type=kind,
            choices=["好", "中"],
            min_value=Decimal(-5) if kind == "integer" else None,
        )
        try:
            number, text = parse_value(indicator, raw)
        except ValueError as error:
            return value_problem(indicator, raw, error).code
        return text if number is None else f"{number.normalize():f}"

    assert phone["values"] == [server_value(kind, raw) for kind, raw in VALUES]
