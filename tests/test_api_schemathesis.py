"""The OpenAPI schema says what the API does (issue #15, item 3): schemathesis generates requests
for every operation of /api/schema/ and checks each answer: never a server error, the body as
the schema describes it, and only documented status codes.

Every operation runs as six roles through the real middleware stack (Django's WSGI handler):
the grid worker with an API token as a phone does, the others (street, community, district,
department and, since issue #20, a service provider's account) with a browser's session and
CSRF token. It runs against the test database of pytest-django with the small tree of conftest
and one record of each kind, so that an operation whose path names a record also runs once
with a record that exists, not only with random ids. Each example runs inside a savepoint that
is rolled back, so examples do not depend on each other and a failure reproduces alone.

No operation is left out. Those that a device calls (ingest, alerts, acknowledgements) run with
a gateway's bearer token instead of the person's credentials; logging out and revoking a token
run on the role's own session and token, which the rollback restores for the next example.

Generation is derandomized (a fixed seed) and bounded: GRIDLINE_SCHEMATHESIS_EXAMPLES (default
3) positive and as many negative examples per operation and role. A deeper local run:
GRIDLINE_SCHEMATHESIS_EXAMPLES=25 pytest tests/test_api_schemathesis.py -s; one part of the API
only: GRIDLINE_SCHEMATHESIS_ONLY=/api/needs/.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter
from types import SimpleNamespace

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from boundaries.services import changesets
from grids.models import Role
from grids.services import households
from grids.services import tokens as api_tokens
from incidents.services import tasks
from needs.catalogue import seed as seed_service_kinds
from needs.models import ServiceKind
from needs.services import dispatch as need_dispatch
from needs.services import intake as need_intake
from needs.services import providers as need_providers
from needs.services import public as need_public
from needs.services import review as need_review
from notifications.services import notify
from reports.models import ReportTemplate, TemplateColumn, ValidationRule
from reports.services.indicators import ensure_groups, sync_derived
from sensors.models import Gateway
from sensors.services import broadcast
from sensors.services.registry import SensorSpec, create_sensor, issue_token
from tests.conftest import centre_of

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
EXAMPLES = int(os.environ.get("GRIDLINE_SCHEMATHESIS_EXAMPLES", "3"))
# A local run of one part of the API: only the operations whose path starts with this.
ONLY = os.environ.get("GRIDLINE_SCHEMATHESIS_ONLY", "")
ROLES = ["street", "worker", "department", "community", "district", "provider"]
# Roles that call the API as a phone does, with an API token; the others use a session.
TOKEN_ROLES = {"worker"}
# Devices and gateways call these with a bearer token of their own, never a person's session.
DEVICE_OPERATIONS = {
    "/api/sensors/ingest/",
    "/api/sensors/alerts/",
    "/api/sensors/deliveries/{id}/ack/",
}

# What the schemathesis runs measured, printed at the end of the module (pytest -s or -rA).
MEASURED: dict[str, dict] = {}


@pytest.fixture(scope="module")
def app(django_db_blocker):
    """Django's WSGI handler, as gunicorn runs it. Django's own test client keeps the test's
    connection open across requests the same way: a request's end would otherwise close the
    connection that holds the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def api_schema(app, django_db_blocker):
    """/api/schema/ as the server serves it, loaded once for the module."""
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/api/schema/", app)


def needs_world(tree, users, make_user) -> dict:
    """Issue #20: a provider's account acting for a confirmed volunteer, a need dispatched to
    it (and accepted, so the provider's steps have a record), and a pending registration."""
    seed_service_kinds(ServiceKind)
    users.provider = make_user("provider", Role.PROVIDER)
    community = tree.communities[(1, 1)]
    volunteer = need_providers.create(
        users.community,
        {
            "kind": "volunteer",
            "name": "张志愿",
            "phone": "13800000000",
            "community": community,
            "location": centre_of(tree.grids[(1, 1, 2)]),
            "offers": [{"kind": "elderly", "capacity": 5}],
        },
    )
    volunteer.users.add(users.provider)
    need = need_intake.raise_need(
        users.worker,
        {
            "kind": "elderly",
            "title": "帮独居老人买菜",
            "contact_phone": "13912345678",
            "location": centre_of(tree.grids[(1, 1, 1)]),
        },
        source="grid_worker",
    )
    need = need_review.accept(need, users.community, need.version)
    sent = need_dispatch.send(need, volunteer, None, users.community, need.version)
    sent = need_dispatch.accept(sent, users.provider, sent.version)
    pending = need_providers.register(
        {
            "kind": "party_member",
            "name": "赵党员",
            "phone": "13700001111",
            "password": "green-Tea-2026!",
            "community": community,
        }
    )
    key = need_public.intake_key(tree.grids[(1, 1, 1)])
    return {
        "/api/needs/{id}": need.pk,
        "/api/needs/dispatches/{id}": sent.pk,
        "/api/needs/providers/{id}": pending.pk,
        "/api/needs/offers/{id}": volunteer.offers.get().pk,
        "/api/needs/public/{key}": key,
        "/api/needs/join/{key}": key,
    }


@pytest.fixture
def world(tree, users, homes, catalogue, incident, settings, tmp_path, make_user):
    """One record of each kind the API has a path for, in street 1's first grid."""
    settings.MEDIA_ROOT = tmp_path / "media"
    grid = tree.grids[(1, 1, 1)]
    home = homes[(1, 1, 1)]
    resident = {
        "name": "张三丰",
        "id_number": "500118195001011234",
        "phone": "13812345678",
        "birth_date": "1950-01-01",
        "sex": "M",
        "tags": ["elderly"],
    }
    households.add_residents(home, [resident])
    task = tasks.create_visit_task(
        grid, title="走访独居老人", due_on=dt.date.today(), user=users.street
    )
    notify([u for u in vars(users).values()], kind="test", title="测试通知")
    pole = create_sensor(
        SensorSpec(
            code="P111",
            type="voice_pole",
            location=centre_of(grid),
            name="广播杆",
            properties={"broadcast_radius": 300},
        )
    )
    gateway = Gateway.objects.create(code="yc-gw", name="广播控制器", district=tree.district)
    made = broadcast.create_broadcast(user=users.street, message="山林起火", pole_ids=[pole.pk])
    sync_derived()
    groups = ensure_groups()
    from reports.models import Indicator

    indicator = Indicator.objects.create(
        code="INSURED",
        name="参保人数",
        unit="人",
        group=groups["population"],
        value_type="integer",
        aggregation="sum",
        level="grid",
        period_type="month",
        source="collected",
        min_value=0,
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
    rule = ValidationRule.objects.create(
        code="insured-le-residents",
        left=indicator,
        operator="<=",
        right=Indicator.objects.get(code="POP_RESIDENTS"),
        message="参保人数不能超过居民人数",
    )
    change_set = changesets.create(
        user=users.worker, region=tree.communities[(1, 1)], title="调整网格边界"
    )
    ids = {
        "/api/boundaries/changesets/{id}": change_set.pk,
        "/api/boundaries/grids/{code}": grid.code,
        "/api/departments/{code}": catalogue["civil"].code,
        "/api/grids/{id}": grid.pk,
        "/api/households/{id}": home.pk,
        "/api/incident-categories/{code}": catalogue["category"].code,
        "/api/incidents/{id}": incident.pk,
        "/api/regions/{id}": tree.communities[(1, 1)].pk,
        "/api/reports/indicators/{code}": indicator.code,
        "/api/reports/rules/{code}": rule.code,
        "/api/reports/templates/{code}": template.code,
        "/api/residents/{id}": home.residents.get().pk,
        "/api/sensors/broadcasts/{id}": made.pk,
        "/api/sensors/deliveries/{id}": made.deliveries.first().pk,
        "/api/sensors/gateways/{id}": gateway.pk,
        "/api/sensors/sensors/{id}": pole.pk,
        # The OGC paths below a collection take its id from this prefix.
        "/ogc/collections/{collection_id}": "households",
        "/ogc/collections/{collection_id}/items/{fid}": home.pk,
        "/api/sensors/types/{code}": pole.type.code,
        "/api/tasks/{id}": task.pk,
        "/api/whistle-classes/{code}": catalogue["whistle"].code,
    } | needs_world(tree, users, make_user)
    return SimpleNamespace(users=users, ids=ids, device_token=issue_token(gateway))


def known_path_parameters(path: str, ids: dict) -> dict:
    """Path parameters naming the world's records: `/api/grids/{id}/…` → the grid's id."""
    found = {}
    for prefix, value in ids.items():
        if path.startswith(prefix):
            name = prefix.rsplit("{", 1)[1].rstrip("}")
            found[name] = value
    if path.startswith("/api/export/"):
        found = {"layer": "households", "fmt": "csv"}
    return found


def session_of(user) -> dict:
    """A logged-in session and its CSRF token, as a browser holds them."""
    client = Client()
    client.force_login(user)
    request = HttpRequest()
    get_token(request)
    csrf = request.META["CSRF_COOKIE"]
    return {
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf},
    }


def strategies(operation, ids: dict):
    path = operation.path
    known = known_path_parameters(path, ids)
    yield GenerationMode.POSITIVE, EXAMPLES, operation.as_strategy()
    yield GenerationMode.NEGATIVE, EXAMPLES, operation.as_strategy(GenerationMode.NEGATIVE)
    if known:
        yield "known", 1, operation.as_strategy(path_parameters=known)


def exercise(api_schema, world, role: str) -> dict:
    """Run every operation as the role; return what failed and how much ran."""
    user = getattr(world.users, role)
    token, secret = api_tokens.issue(user, "schemathesis")
    ids = world.ids | {"/api/auth/tokens/{id}": token.pk}
    if role in TOKEN_ROLES:
        person = {"cookies": {}, "headers": {"Authorization": f"Token {secret}"}}
    else:
        person = session_of(user)
    device = {"cookies": {}, "headers": {"Authorization": f"Bearer {world.device_token}"}}
    failures: dict[tuple, str] = {}
    cases: Counter = Counter()
    operations = 0
    unsatisfiable: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(ONLY):
            continue
        operations += 1
        auth = device if operation.path in DEVICE_OPERATIONS else person
        for mode, examples, strategy in strategies(operation, ids):
            try:
                cases[str(mode)] += run(operation, strategy, examples, auth, failures)
            except Unsatisfiable:
                # Nothing of the operation can be made invalid (no parameters, no body).
                assert mode == GenerationMode.NEGATIVE, operation.label
                unsatisfiable.append(operation.label)
    return {
        "operations": operations,
        "cases": cases,
        "failures": failures,
        "no_negative": unsatisfiable,
    }


def run(operation, strategy, examples: int, auth: dict, failures: dict) -> int:
    """Up to `examples` cases of the strategy; failures are collected, not raised, so that one
    run reports every operation that fails. Returns how many cases ran."""
    ran = 0

    @given(case=strategy)
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        # No shrinking: the first failing example of each kind is reported as it came.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        nonlocal ran
        ran += 1
        savepoint = transaction.savepoint()
        try:
            # Schemathesis asks for gzip as requests does, but its WSGI transport does not
            # decode it: the pull (/api/field/sync/) compresses when asked, so ask for none.
            headers = {**auth["headers"], "Accept-Encoding": "identity"}
            response = case.call(headers=headers, cookies=auth["cookies"])
            try:
                case.validate_response(response, checks=CHECKS)
            except (AssertionError, BaseExceptionGroup) as failure:
                key = (operation.label, response.status_code, type(failure).__name__)
                failures.setdefault(key, f"{failure}\n{case.as_curl_command()}")
        finally:
            transaction.savepoint_rollback(savepoint)

    check()
    return ran


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_the_schema_says(api_schema, world, role):
    started = time.monotonic()
    found = exercise(api_schema, world, role)
    MEASURED[role] = {
        "operations": found["operations"],
        "cases": sum(found["cases"].values()),
        "by_mode": dict(found["cases"]),
        "seconds": round(time.monotonic() - started, 1),
        "no_negative_examples": found["no_negative"],
    }
    print(f"\nschemathesis as {role}: {MEASURED[role]}")
    report = "\n\n".join(
        f"{label} → {status} ({kind}):\n{text}"
        for (label, status, kind), text in sorted(found["failures"].items())
    )
    assert not found["failures"], f"{len(found['failures'])} failures as {role}:\n\n{report}"
