"""Hardening (#15), "never a 500 on bad input", the domain's own rules: periods within a
stated range, lost races on unique rows as 409, timestamps a record could have."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import Task, Visit
from reports.models import (
    Indicator,
    LedgerEntry,
    LedgerRevision,
    LedgerSubmission,
    ReportTemplate,
    TemplateColumn,
)
from reports.periods import Period, year_range
from reports.services.indicators import ensure_groups, sync_derived
from sensors.models import Sensor
from tests.conftest import centre_of

THIS_MONTH = Period.containing(timezone.localdate(), "month")
FIRST_YEAR, LAST_YEAR = 2000, 2100  # the documented defaults


# ---- periods ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["9999-12", "9999", "9999-Q4", "9999-H2", "0001-01", "1999"])
def test_a_period_out_of_range_names_the_range(text):
    assert year_range() == (FIRST_YEAR, LAST_YEAR)
    with pytest.raises(ValueError, match=f"{FIRST_YEAR}.*{LAST_YEAR}"):
        Period.parse(text)


def test_the_ends_of_the_range_are_periods_with_an_end():
    assert Period.parse(f"{LAST_YEAR}-12").end.year == LAST_YEAR + 1
    assert Period.parse(f"{FIRST_YEAR}-01").previous().start.year == FIRST_YEAR - 1


@pytest.fixture
def ledger_item(users):
    """One collected grid item that a template of the district needs every month."""
    sync_derived()
    indicator = Indicator.objects.create(
        code="INSURED",
        name="参保人数",
        unit="人",
        group=ensure_groups()["population"],
        value_type="integer",
        aggregation="sum",
        level="grid",
        period_type="month",
        source="collected",
    )
    template = ReportTemplate.objects.create(
        owner=users.department.department,
        code="civil-monthly",
        title="民政基础数据月报表",
        row_level="grid",
        period_type="month",
        due_day=5,
        grace_days=3,
    )
    TemplateColumn.objects.create(template=template, order=1, indicator=indicator)
    return indicator


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/reports/ledger/?unit={unit}&period=9999-12", "period"),
        ("/api/reports/ledger/history/?unit={unit}&period=9999-12", "period"),
        ("/api/reports/completeness/?period=9999-12", "period"),
        ("/api/reports/indicators/INSURED/values/?period=9999-12", "period"),
        ("/api/reports/indicators/INSURED/trend/?end=9999-12", "end"),
        ("/api/reports/burden/?month=9999-12", "month"),
        ("/api/reports/templates/civil-monthly/completeness/?period=9999-12", "period"),
        ("/api/reports/templates/civil-monthly/generate/?period=9999-12", "period"),
    ],
)
def test_an_out_of_range_period_in_the_api_is_a_400_naming_it(
    tree, users, ledger_item, api, path, parameter
):
    answer = api(users.community).get(path.format(unit=tree.grids[(1, 1, 1)].code))
    assert answer.status_code == 400, answer.content
    error = answer.json()["errors"][0]
    assert error["field"] == parameter
    assert str(FIRST_YEAR) in error["message"] and str(LAST_YEAR) in error["message"]


def test_an_out_of_range_period_in_a_body_is_a_400_naming_it(tree, users, ledger_item, api):
    answer = api(users.worker).post(
        "/api/reports/ledger/",
        {"unit": tree.grids[(1, 1, 1)].code, "period": "9999-12", "values": {"INSURED": 1}},
        format="json",
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "period"
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/reports/ledger/?period=9999-12",
        "/reports/completeness/?period=9999-12",
        "/reports/burden/?month=9999-12",
    ],
)
def test_an_out_of_range_period_on_a_page_is_a_400(tree, users, ledger_item, client, path):
    client.force_login(users.community)
    answer = client.get(path)
    assert answer.status_code == 400
    body = answer.content.decode()
    assert "9999-12" in body and str(LAST_YEAR) in body


# ---- races on unique rows -----------------------------------------------------------------


def _race(count: int, work) -> list:
    """Run `work(i)` in `count` threads, each with its own database connection, released
    together; returns what each returned."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_thirty_first_saves_of_one_empty_cell_keep_one_and_answer_409(
    tree, users, ledger_item, api
):
    unit = tree.grids[(1, 1, 1)].code

    def save(i):
        answer = api(users.worker).post(
            "/api/reports/ledger/",
            {
                "unit": unit,
                "period": THIS_MONTH.key,
                "values": {"INSURED": 100 + i},
                "versions": {"INSURED": 0},
            },
            format="json",
        )
        return answer.status_code, answer.json()

    results = _race(30, save)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * 29
    entry = LedgerEntry.objects.get()
    assert LedgerRevision.objects.count() == 1
    for status, body in results:
        if status == 409:
            # The lost race says what is there now.
            assert body["errors"][0]["code"] == "stale"
            assert body["current"]["INSURED"]["version"] == 1
            assert int(body["current"]["INSURED"]["value"]) == entry.number


@pytest.mark.django_db(transaction=True)
def test_first_saves_of_the_same_value_race_harmlessly(tree, users, ledger_item, api):
    unit = tree.grids[(1, 1, 1)].code

    def save(i):
        return (
            api(users.worker)
            .post(
                "/api/reports/ledger/",
                {"unit": unit, "period": THIS_MONTH.key, "values": {"INSURED": 7}},
                format="json",
            )
            .status_code
        )

    assert _race(10, save) == [200] * 10
    assert LedgerEntry.objects.count() == 1
    assert LedgerRevision.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_first_submissions_keep_the_first(tree, users, ledger_item, api):
    unit = tree.grids[(1, 1, 1)].code
    period = THIS_MONTH.previous()
    LedgerEntry.objects.create(
        indicator=ledger_item,
        grid=tree.grids[(1, 1, 1)],
        period_type="month",
        period_start=period.start,
        number=3,
    )

    def submit(i):
        answer = api(users.worker).post(
            "/api/reports/ledger/submit/", {"unit": unit, "period": period.key}, format="json"
        )
        return answer.status_code, answer.json().get("submitted_at")

    results = _race(10, submit)
    assert {status for status, _ in results} == {200}
    assert len({at for _, at in results}) == 1
    assert LedgerSubmission.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_registrations_of_one_sensor_code_keep_one(tree, users, api):
    point = centre_of(tree.grids[(1, 1, 1)])
    body = {
        "code": "CAM-RACE",
        "type": "camera",
        "lon": point.x,
        "lat": point.y,
        "properties": {"bearing": 90, "fov": 60, "range": 200},
    }

    def register(i):
        answer = api(users.district).post("/api/sensors/sensors/", body, format="json")
        return answer.status_code, answer.json()

    results = _race(8, register)
    assert sorted(status for status, _ in results) == [201] + [400] * 7
    for status, answer in results:
        if status == 400:
            assert answer["errors"][0]["code"] == "duplicate_code"
    assert Sensor.objects.filter(code="CAM-RACE").count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_creations_of_one_template_code_are_a_409_not_a_500(tree, users, ledger_item, api):
    """Any unique code written through a serializer that checks first and then inserts: the
    loser of the race is the API's 409 (grids.api.errors), never a 500."""
    body = {
        "code": "race-form",
        "title": "竞争表",
        "owner": "civil-affairs",
        "row_level": "grid",
        "period_type": "month",
        "columns": [{"indicator": "INSURED"}],
    }

    def create(i):
        answer = api(users.department).post("/api/reports/templates/", body, format="json")
        return answer.status_code, answer.json()

    results = _race(8, create)
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 400, 409}, statuses
    for status, answer in results:
        if status == 409:
            assert answer["errors"][0]["code"] == "conflict"
    assert ReportTemplate.objects.filter(code="race-form").count() == 1


# ---- timestamps a client sends ------------------------------------------------------------


def _visit(api, user, home, **fields):
    point = home.location
    return api(user).post(
        "/api/visits/",
        {
            "household": home.pk,
            "location": {"type": "Point", "coordinates": [point.x, point.y]},
            **fields,
        },
        format="json",
    )


@pytest.mark.parametrize(
    ("visited_at", "code", "words"),
    [
        ("0001-01-01", "too_early", "2000-01-01"),
        ("0001-01-01T00:00:00Z", "too_early", "2000-01-01"),
        ("1999-12-31T23:00:00+08:00", "too_early", "2000-01-01"),
        ("2015-06-01T09:00:00+08:00", "too_early", "2024-03-01"),
        ("9999-12-31T23:59:59Z", "in_the_future", "300"),
    ],
)
def test_a_visit_at_an_impossible_time_is_refused_naming_the_field(
    tree, users, homes, api, visited_at, code, words
):
    home = homes[(1, 1, 1)]
    home.registered_on = dt.date(2024, 3, 1)
    home.save(update_fields=["registered_on"])
    answer = _visit(api, users.worker, home, visited_at=visited_at)
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["errors"]
    assert (error["code"], error["field"]) == (code, "visited_at")
    assert words in error["message"]
    assert not Visit.objects.exists()


def test_a_visit_within_the_clock_skew_and_after_registration_is_kept(
    tree, users, homes, api, settings
):
    home = homes[(1, 1, 1)]
    home.registered_on = dt.date(2024, 3, 1)
    home.save(update_fields=["registered_on"])
    ahead = timezone.now() + dt.timedelta(seconds=60)
    assert _visit(api, users.worker, home, visited_at=ahead.isoformat()).status_code == 201
    on_the_day = "2024-03-01T08:00:00+08:00"
    assert _visit(api, users.worker, home, visited_at=on_the_day).status_code == 201
    settings.GRIDLINE_CLOCK_SKEW_SECONDS = 10
    refused = _visit(api, users.worker, home, visited_at=ahead.isoformat())
    assert refused.json()["errors"][0]["code"] == "in_the_future"
    assert Visit.objects.count() == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [("to=0001-01-01", "to"), ("from=0001-01-01", "from"), ("to=9999-12-31", "to")],
)
def test_a_metrics_date_out_of_range_is_a_400_naming_it(users, api, query, field):
    answer = api(users.district).get(f"/api/incidents/metrics/?{query}")
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert (error["field"], error["code"]) == (field, "out_of_range")
    assert "2000-01-01" in error["message"] and "2100-12-31" in error["message"]


@pytest.mark.parametrize("due_on", ["9999-12-31", "0001-01-01", "1999-12-31"])
def test_a_task_due_outside_the_planned_years_is_refused(tree, users, api, due_on):
    grid = tree.grids[(1, 1, 1)]
    response = api(users.community).post(
        "/api/tasks/", {"title": "本月走访", "grid": grid.code, "due_on": due_on}, format="json"
    )
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("due_on", "out_of_range")
    assert not Task.objects.exists()
