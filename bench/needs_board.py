"""The community's needs pages on the full demo (#20): the board (/needs/) for a community,
a street and the district, plain and filtered, and one accepted need's page (its candidates).

    python -m bench.needs_board [--runs 7]

Each page is rendered by its view (django.test.RequestFactory, the demo's first user of the
role) inside a READ ONLY transaction that is rolled back, so the database is left as it was
(no session, no audit row: the need's page is read as the district centre, which sees
personal data masked). The first render of each is a warm-up. It writes
bench/results/needs_board.json with the median and worst time and the number of queries of
each page; it reports figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from grids.models import User  # noqa: E402
from needs import views_board  # noqa: E402
from needs.models import Need, NeedStatus  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "needs_board.json"


def render(user, view, path: str, *args) -> tuple[float, int, int]:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION READ ONLY")
        request = RequestFactory().get(path)
        request.user = user
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = view(request, *args)
            elapsed = (time.perf_counter() - start) * 1000
        transaction.set_rollback(True)
    return elapsed, len(queries), response.status_code


def measure(label, runs, user, view, path, *args) -> dict:
    render(user, view, path, *args)
    times, count, status = [], 0, 0
    for _ in range(runs):
        elapsed, count, status = render(user, view, path, *args)
        times.append(elapsed)
    row = {
        "page": label,
        "path": path,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "queries": count,
        "status": status,
    }
    print(f"{label:48s} {row['median_ms']:8.1f} ms  max {row['max_ms']:8.1f}  {count} queries")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    rows = []
    for role in ("community_staff", "street_centre", "district_centre"):
        user = User.objects.filter(role=role, is_active=True, region__isnull=False).first()
        seen = Need.objects.visible_to(user).count()
        rows.append(
            measure(f"board, {role} ({seen} needs)", runs, user, views_board.board, "/needs/")
        )
        rows.append(
            measure(
                f"board, {role}, kind + overdue",
                runs,
                user,
                views_board.board,
                "/needs/?kind=elderly&overdue=1",
            )
        )
    district = User.objects.filter(role="district_centre", is_active=True).first()
    need = Need.objects.filter(status=NeedStatus.ACCEPTED).order_by("pk").first()
    if need is not None:
        rows.append(
            measure(
                "need page, accepted (candidates), district",
                runs,
                district,
                views_board.detail,
                f"/needs/{need.pk}/",
                need.pk,
            )
        )
    with connection.cursor() as cursor:
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    RESULTS.write_text(
        json.dumps(
            {
                "case": "needs_board",
                "runs": runs,
                "rows": rows,
                "needs": Need.objects.count(),
                "environment": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "load": os.getloadavg(),
                    "shared_buffers": shared_buffers,
                },
            },
            ensure_ascii=False,
            indent=1,
        )
        + "\n"
    )
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
