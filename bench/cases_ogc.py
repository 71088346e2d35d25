"""OGC API – Features (issue #19) on the full demo: one page of 5,000 households as GeoJSON
against the same SELECT on a cursor, and paging through all 1,000,000 with `next` links
(keyset: constant time per page), with OFFSET paging's cost for contrast."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import statistics
import time
from urllib.parse import urlsplit

from bench.harness import Case, CheckFailed, log
from bench.ogc_reference import (
    CHECKSUM_SQL,
    HOST,
    ITEMS_URL,
    feature_collection,
    page_sql,
    plan,
    same_page,
)

ACCEPT = "application/geo+json, application/json;q=0.9"  # what GDAL's OAPIF driver asks for
ADMIN = "admin"
STREET = "street"  # 胜利路街道 (street 002): 93,070 households spread over the whole id range

PAGE_LIMIT = 5000
PAGE_TARGET_S = 1.0  # the absolute target (ldproxy publishes ~2 s for 5,000)
PAGE_RATIO = 1.5
STREET_RUNS = 5

PAGING_LIMIT = 10000  # settings.GRIDLINE_OGC_MAX_LIMIT: 100 pages
PAGING_EDGE = 10  # pages compared at each end
PAGING_RATIO = 1.5  # last pages' median / first pages' median
OFFSET_RUNS = 3


class _OgcCase(Case):
    decimals = 7  # what our side writes for CRS84 (ogc.crs: 7 decimals for degrees)

    def _login(self, username: str):
        from django.contrib.auth import get_user_model
        from django.test import Client

        user = get_user_model().objects.get(username=username)
        client = Client(HTTP_HOST=HOST, HTTP_ACCEPT=ACCEPT)
        client.force_login(user)
        return user, client

    def _get(self, client, url: str) -> bytes:
        response = client.get(url)
        body = response.content
        if response.status_code != 200:
            raise CheckFailed(f"{url} answered {response.status_code}: {body[:300]!r}")
        return body

    def _params(self, **extra) -> dict:
        from grids.models.tree import today

        return {"today": today(), "decimals": self.decimals} | extra

    def _sql_page(self, sql: str, params: dict, self_href: str) -> bytes:
        from django.db import connection

        limit = params["limit"]
        # One row more than the page, as our side does: a next link only when there is a
        # next page (no empty last page).
        with connection.cursor() as cursor:
            cursor.execute(sql, params | {"limit": limit + 1})
            rows = cursor.fetchall()
        next_href = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_href = f"http://{HOST}{ITEMS_URL}?limit={limit}&after={rows[-1][0]}"
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        return feature_collection(rows, self_href, next_href, stamp)


class OgcHouseholdsPage(_OgcCase):
    name = "ogc_households_page"
    description = (
        f"One page of {PAGE_LIMIT:,} households as GeoJSON on the full demo: GET "
        f"{ITEMS_URL}?limit={PAGE_LIMIT} as the administrator through django.test.Client "
        "with a session (Accept: application/geo+json), against the same SELECT (id, "
        "address, grid code, member_count, dates, client_key, updated_at, "
        "ST_AsGeoJSON(location, 7)) of the households existing today ORDER BY id LIMIT "
        "5000 on a cursor, the FeatureCollection text assembled in Python. Both give the "
        "same ids and coordinates. Issue #19's target, reported in the check: <= 1 s "
        "(ldproxy publishes ~2 s for 5,000 features) and <= 1.5 x the cursor. The street "
        "centre's page (its street only) is measured in the check as well."
    )
    ours_label = "OGC items, 5,000 (test client)"
    reference_label = "SELECT ... ST_AsGeoJSON + Python"
    target = PAGE_RATIO
    repeats = 9
    warmup = True

    def setup(self) -> None:
        self.url = f"{ITEMS_URL}?limit={PAGE_LIMIT}"
        self.admin, self.client = self._login(ADMIN)
        self.street_user, self.street_client = self._login(STREET)
        self.sql = page_sql()
        self.params = self._params(limit=PAGE_LIMIT)
        self.samples: dict[str, list[float]] = {"ours": [], "reference": []}

    def ours(self) -> bytes:
        start = time.perf_counter()
        body = self._get(self.client, self.url)
        self.samples["ours"].append(time.perf_counter() - start)
        return body

    def reference(self) -> bytes:
        start = time.perf_counter()
        body = self._sql_page(self.sql, self.params, f"http://{HOST}{self.url}")
        self.samples["reference"].append(time.perf_counter() - start)
        return body

    def _in_turns(self, label: str, ours, other) -> tuple[dict, dict]:
        """Ours against another side, STREET_RUNS times each in turns after a warm-up: the
        medians and runs, and each side's last answer."""
        sides, times, answers = {"ours": ours, label: other}, {"ours": [], label: []}, {}
        for fn in sides.values():
            fn()
        for i in range(STREET_RUNS):
            for side in list(sides) if i % 2 == 0 else list(sides)[::-1]:
                start = time.perf_counter()
                answers[side] = sides[side]()
                times[side].append(time.perf_counter() - start)
        mine, theirs = statistics.median(times["ours"]), statistics.median(times[label])
        log(f"{self.name}: ours {mine:.3f} s, {label} {theirs:.3f} s: x{mine / theirs:.2f}")
        return {
            "ours_median_s": round(mine, 4),
            f"{label}_median_s": round(theirs, 4),
            "ratio": round(mine / theirs, 3),
            "ours_runs_s": [round(t, 4) for t in times["ours"]],
            f"{label}_runs_s": [round(t, 4) for t in times[label]],
        }, answers

    def _bare(self) -> dict:
        """The issue's reference read literally: the SELECT executed and its rows fetched on
        a cursor, no text made."""
        from django.db import connection

        def select():
            with connection.cursor() as cursor:
                cursor.execute(self.sql, self.params | {"limit": PAGE_LIMIT + 1})
                return cursor.fetchall()

        return self._in_turns("select_fetch", lambda: self._get(self.client, self.url), select)[0]

    def _street(self) -> dict:
        """The street centre's page (its street: 93,070 of the 1,000,000) against the same
        SELECT with the scope written as SQL."""
        sql = page_sql(street=True)
        params = self._params(limit=PAGE_LIMIT, street=self.street_user.region_id)
        figures, answers = self._in_turns(
            "reference",
            lambda: self._get(self.street_client, self.url),
            lambda: self._sql_page(sql, params, f"http://{HOST}{self.url}"),
        )
        same = same_page(answers["ours"], answers["reference"], self.decimals)
        return same | {"user": STREET} | figures

    def check(self, ours: bytes, reference: bytes) -> dict:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        same = same_page(ours, reference, self.decimals)
        if same["features"] != PAGE_LIMIT:
            raise CheckFailed(f"{same['features']} features, not {PAGE_LIMIT}")
        with CaptureQueriesContext(connection) as queries:
            self._get(self.client, self.url)
        statements = [q["sql"] for q in queries.captured_queries]
        # The harness's medians, from the same runs (the warm-up left out).
        api = statistics.median(self.samples["ours"][1:])
        sql = statistics.median(self.samples["reference"][1:])
        verdict = "PASS" if api <= PAGE_TARGET_S and api <= PAGE_RATIO * sql else "FAIL"
        log(
            f"{self.name}: ours {api:.3f} s (target {PAGE_TARGET_S:g} s), reference "
            f"{sql:.3f} s, ratio {api / sql:.2f} (target {PAGE_RATIO}): {verdict}; "
            f"{len(statements)} queries"
        )
        bare = self._bare()
        street = self._street()
        return same | {
            "ours_p50_s": round(api, 4),
            "reference_p50_s": round(sql, 4),
            "bytes_ours": len(ours),
            "bytes_reference": len(reference),
            "issue_target": (
                f"<= {PAGE_TARGET_S:g} s and <= {PAGE_RATIO} x SQL (ldproxy ~2 s / 5,000)"
            ),
            "issue_target_status": verdict,
            "queries_per_request": len(statements),
            "queries": [s[:300] for s in statements],
            "bare_select": bare,
            "street_centre": street,
        }

    def teardown(self) -> None:
        self.client = self.street_client = None


class OgcKeysetPaging(_OgcCase):
    name = "ogc_keyset_paging"
    description = (
        f"Paging through all 1,000,000 households of the full demo with `next` links, "
        f"limit={PAGING_LIMIT:,} (100 pages), as the administrator through "
        "django.test.Client, following each page's next href as a client does; against "
        "the same keyset paging (WHERE id > last ORDER BY id LIMIT 10000) on a cursor, "
        "each page's text assembled in Python. Both sides parse every page (json.loads) "
        "as a client would. Issue #19's target, reported in the check: constant time per "
        "page, the median of the last 10 pages <= 1.5 x the median of the first 10; "
        "OFFSET paging's cost (OFFSET 990000 against OFFSET 0) is given for contrast. "
        "Check: the pages hold the 1,000,000 demo households once each (count and a "
        "checksum of the ids against SQL)."
    )
    ours_label = "OGC items, next links (test client)"
    reference_label = "keyset SELECT pages + Python"
    target = PAGE_RATIO
    repeats = 3
    warmup = False

    def setup(self) -> None:
        self.url = self.last_url = f"{ITEMS_URL}?limit={PAGING_LIMIT}"
        self.admin, self.client = self._login(ADMIN)
        self.pages: dict[str, list[list[float]]] = {"ours": [], "reference": []}
        self.parse: list[float] = []

    def ours(self) -> list[int]:
        ids: list[int] = []
        times: list[float] = []
        url = self.url
        while url:
            start = time.perf_counter()
            body = self._get(self.client, url)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            data = json.loads(body)
            self.parse.append(time.perf_counter() - start)
            ids.extend(int(f["id"]) for f in data["features"])
            if url != self.url:
                self.last_url = url
            url = next((k["href"] for k in data.get("links", []) if k.get("rel") == "next"), None)
            del data, body  # the page is read: not alive (nor walked by the GC) during the next
            if url and urlsplit(url).hostname not in (HOST, None) or len(times) > 1000:
                raise CheckFailed(f"page {len(times)}: the next link is {url}")
        self.pages["ours"].append(times)
        return ids

    def reference(self) -> list[int]:
        sql_first, sql_after = page_sql(), page_sql(after=True)
        ids: list[int] = []
        times: list[float] = []
        after = None
        while True:
            start = time.perf_counter()
            params = self._params(limit=PAGING_LIMIT, after=after)
            body = self._sql_page(sql_after if after else sql_first, params, self.url)
            times.append(time.perf_counter() - start)
            data = json.loads(body)
            page = [int(f["id"]) for f in data["features"]]
            ids.extend(page)
            if not any(k["rel"] == "next" for k in data["links"]):
                break
            after = page[-1]
        self.pages["reference"].append(times)
        return ids

    def _ends(self, side: str) -> dict:
        runs = self.pages[side]
        first = [t for run in runs for t in run[:PAGING_EDGE]]
        last = [t for run in runs for t in run[-PAGING_EDGE:]]
        per_run = [sum(run) for run in runs]
        return {
            "pages": len(runs[-1]),
            "first_10_median_s": round(statistics.median(first), 4),
            "last_10_median_s": round(statistics.median(last), 4),
            "last_over_first": round(statistics.median(last) / statistics.median(first), 3),
            "page_median_s": round(statistics.median(t for run in runs for t in run), 4),
            "page_max_s": round(max(t for run in runs for t in run), 4),
            "requests_total_s": [round(t, 2) for t in per_run],
            "per_page_s_last_run": [round(t, 4) for t in runs[-1]],
        }

    def _offset_contrast(self, ids: list[int]) -> dict:
        """What OFFSET paging would cost: the first page and the last one by OFFSET, and the
        last one by keyset, timed in turns; and the plan of the OFFSET 990000 page."""
        from django.db import connection

        offset = len(ids) - PAGING_LIMIT  # 990,000
        statements = {
            "offset_0": (page_sql(offset=True), self._params(limit=PAGING_LIMIT, offset=0)),
            "offset_990000": (
                page_sql(offset=True),
                self._params(limit=PAGING_LIMIT, offset=offset),
            ),
            "keyset_last": (
                page_sql(after=True),
                self._params(limit=PAGING_LIMIT, after=ids[offset - 1]),
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in statements}
        with connection.cursor() as cursor:
            for _ in range(OFFSET_RUNS):
                for name, (sql, params) in statements.items():
                    start = time.perf_counter()
                    cursor.execute(sql, params)
                    cursor.fetchall()
                    times[name].append(time.perf_counter() - start)
        medians = {name: statistics.median(t) for name, t in times.items()}
        return {f"{name}_median_s": round(value, 4) for name, value in medians.items()} | {
            "offset_last_over_first": round(medians["offset_990000"] / medians["offset_0"], 1),
            "offset_990000_plan": plan(*statements["offset_990000"]),
        }

    def _our_plans(self) -> dict:
        """The plans of our first and last pages' statements: the same index range scan of
        10,001 rows, whatever the position (load-independent evidence of constant time)."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from ogc.output import FEATURE  # the alias of the features' column

        plans = {}
        for name, url in (("first_page", self.url), ("last_page", self.last_url)):
            with CaptureQueriesContext(connection) as queries:
                self._get(self.client, url)
            sql = next(q["sql"] for q in queries.captured_queries if FEATURE in q["sql"])
            plans[name] = {"url": url} | plan(sql)
        return plans

    def check(self, ours: list[int], reference: list[int]) -> dict:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(CHECKSUM_SQL, self._params())
            count, total, digest = cursor.fetchone()
        for side, ids in (("ours", ours), ("reference", reference)):
            mine = hashlib.md5(",".join(map(str, ids)).encode()).hexdigest()
            if len(ids) != count or len(set(ids)) != len(ids) or sum(ids) != total:
                raise CheckFailed(
                    f"{side}: {len(ids):,} ids ({len(set(ids)):,} distinct, sum {sum(ids)}); "
                    f"the demo has {count:,} (sum {total})"
                )
            if mine != digest:
                raise CheckFailed(f"{side}: the ids in page order differ from SQL's (md5)")
        ours_pages, ref_pages = self._ends("ours"), self._ends("reference")
        ratio = ours_pages["last_over_first"]
        verdict = "PASS" if ratio <= PAGING_RATIO else "FAIL"
        contrast = self._offset_contrast(ours)
        plans = self._our_plans()
        log(
            f"{self.name}: {len(ours):,} households in {ours_pages['pages']} pages; first "
            f"10 pages' median {ours_pages['first_10_median_s']:.3f} s, last 10 "
            f"{ours_pages['last_10_median_s']:.3f} s (x{ratio}): {verdict}; OFFSET 990000 "
            f"{contrast['offset_990000_median_s']:.3f} s against OFFSET 0 "
            f"{contrast['offset_0_median_s']:.3f} s"
        )
        return {
            "households": count,
            "ids_checksum_md5": digest,
            "ids_identical_to_sql": True,
            "issue_target": f"last 10 pages' median <= {PAGING_RATIO} x first 10 pages'",
            "issue_target_status": verdict,
            "ours_pages": ours_pages,
            "reference_pages": ref_pages,
            "client_parse_median_s": round(statistics.median(self.parse), 4),
            "ours_plans": plans,
            "offset_contrast": contrast,
        }

    def teardown(self) -> None:
        self.client = None


CASES = [OgcHouseholdsPage, OgcKeysetPaging]
