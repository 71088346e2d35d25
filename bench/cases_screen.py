"""The wall screen (/screen/, issue #16) on the full demo, as the district centre sees it:
navigation to the first complete render at 1920x1080 in headless Chromium (KPI cards, six
charts, the live map and the feed drawn), and the figures endpoint's latency under the
screens' own traffic (a refresh every 100 ms, an incident every 3 s), with the background
recount the served set-up has (Redis and `manage.py worker`)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.cases_render import CHROMIUM, CHROMIUM_ARGS, free_port, start_served, stop
from bench.harness import BENCH_DIR, Case, CheckFailed, log

VIEWPORT = {"width": 1920, "height": 1080}
RENDER_TARGET_S = 2.0  # issue #16
FIGURES_P95_TARGET_MS = 100.0  # issue #16
USER = "district"
STREET_USER = "street"
# The figures traffic: one request every SPACING_S for TRAFFIC_S, an incident written (the
# figures' version raised) every EVENT_EVERY_S.
TRAFFIC_S = 30.0
SPACING_S = 0.1
EVENT_EVERY_S = 3.0


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--queues", "screen"],
        cwd=BENCH_DIR.parent, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class ScreenRender(Case):
    name = "screen"
    description = (
        "The wall screen (/screen/) at 1920x1080 in Debian's headless Chromium, logged in as "
        "the district centre (23 streets, 988 grids, 210,000 incidents, 500,000 devices), "
        "served as `./gridline up` serves it (gunicorn.conf.py, Redis, a worker). Every run "
        "starts from an empty cache (figures, tiles, sessions, users). Ours: navigation to "
        "the first complete render (figures in, charts drawn, map tiles drawn: "
        "body[data-screen-ready=1]). Reference: the same browser fetching, with no "
        "rendering, every URL that page load requested (the event stream excepted), all at "
        "once. The issue's targets, reported in the check: first render <= 2 s; the figures "
        "endpoint's p95 <= 100 ms under the screens' traffic."
    )
    ours_label = "wall screen to first complete render"
    reference_label = "the page's requests fetched, no rendering"
    target = 2.0
    repeats = 3
    warmup = True

    def setup(self) -> None:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client

        if not Path(CHROMIUM).exists():
            raise CheckFailed(f"{CHROMIUM} is not installed (apt install chromium)")
        if not settings.GRIDLINE_SHARED_CACHE:
            raise CheckFailed("the screen is measured on the served cache: set GRIDLINE_CACHE_URL")
        self.static = Path(tempfile.mkdtemp(prefix="gridline-bench-static-"))
        self.env = {**os.environ, "DJANGO_STATIC_ROOT": str(self.static)}
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=BENCH_DIR.parent, env=self.env, check=True,
        )  # fmt: skip
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.server = start_served(port, {**self.env, "GRIDLINE_ACCESS_LOG": ""})
        self.worker = start_worker(self.env)
        log(f"{self.name}: gunicorn (gunicorn.conf.py) on {self.base} and a worker")
        self._prime()
        users = get_user_model().objects
        self.user = users.get(username=USER)
        self.street = users.get(username=STREET_USER)
        client = Client()
        client.force_login(self.user)
        self.cookie = {
            "name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": self.base,
        }
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        from playwright.sync_api import sync_playwright

        self.playwright = sync_playwright().start()
        self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.ready_ms: list[float] = []
        self.parts: list[dict] = []
        self.urls: list[str] = []
        self.errors: list[str] = []

    def _prime(self) -> None:
        """Each new web process spends its first request setting Django up (seconds on a
        busy machine): asked until every process answers at once, so that no measured
        page load pays it."""
        fast = 0
        for _ in range(60):
            start = time.perf_counter()
            with urllib.request.urlopen(f"{self.base}/login/", timeout=120) as answer:
                answer.read()
            fast = fast + 1 if time.perf_counter() - start < 0.5 else 0
            if fast >= 10:
                return
        log(f"{self.name}: the server stayed slow while priming")

    def _empty_cache(self) -> None:
        from django.core.cache import cache

        from maps.tiles import forget_process_caches

        cache.clear()
        forget_process_caches()

    def _context(self):
        context = self.browser.new_context(viewport=VIEWPORT, locale="zh-CN")
        context.add_cookies([self.cookie])
        return context

    def _render(self, shot: str | None = None) -> tuple[float, list[str], list[str]]:
        context = self._context()
        page = context.new_page()
        urls: list[str] = []
        errors: list[str] = []
        page.on("request", lambda r: urls.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{self.base}/screen/", wait_until="commit", timeout=60_000)
        # A selector, not wait_for_function: the page's CSP forbids the eval it would need.
        page.wait_for_selector("body[data-screen-ready='1']", timeout=60_000)
        ready = page.evaluate("window.screenReadyAt")
        self.parts.append(page.evaluate("window.screenTimings"))
        if shot:
            page.screenshot(path=str(BENCH_DIR / "results" / shot))
        context.close()
        return ready, urls, errors

    def ours(self):
        self._empty_cache()
        ready, self.urls, self.errors = self._render("screen.png")
        self.ready_ms.append(ready)
        return ready

    def reference(self):
        if not self.urls:
            raise CheckFailed("no page load to replay yet")
        self._empty_cache()
        context = self._context()
        page = context.new_page()
        page.goto(f"{self.base}/api/me/")
        statuses = page.evaluate(
            """async (urls) => Promise.all(urls.map(async (u) => {
                const r = await fetch(u, {credentials: "same-origin"});
                await r.arrayBuffer();
                return r.status;
            }))""",
            [u for u in self.urls if "/events/" not in u],
        )
        context.close()
        return statuses

    # ---- the figures endpoint (untimed by the harness: timed per request here) ------------

    def _get(self, path: str) -> float:
        request = urllib.request.Request(
            f"{self.base}{path}",
            headers={"Cookie": f"{self.cookie['name']}={self.cookie['value']}"},
        )
        start = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as answer:
            answer.read()
            if answer.status != 200:
                raise CheckFailed(f"{path} answered {answer.status}")
        return (time.perf_counter() - start) * 1000

    def _figures(self) -> dict:
        from screen.services import figures

        cold = {}
        for label, user in (("district", self.user), ("street", self.street)):
            runs = []
            for _ in range(3):
                start = time.perf_counter()
                figures.compute(user)
                runs.append((time.perf_counter() - start) * 1000)
            cold[label] = round(statistics.median(runs), 1)
        self._empty_cache()
        first = self._get("/api/screen/figures/")  # nothing cached: counted in the request
        times: list[float] = []
        started = last_event = time.monotonic()
        events = 0
        while time.monotonic() - started < TRAFFIC_S:
            if time.monotonic() - last_event >= EVENT_EVERY_S:
                figures.bump()  # what an incident's commit does (screen.signals)
                last_event = time.monotonic()
                events += 1
            times.append(self._get("/api/screen/figures/"))
            time.sleep(SPACING_S)
        p95 = percentile(times, 95)
        verdict = "PASS" if p95 <= FIGURES_P95_TARGET_MS else "FAIL"
        log(
            f"{self.name}: figures p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
            f"max {max(times):.0f} ms over {len(times)} requests with {events} events; "
            f"cold count district {cold['district']} ms, street {cold['street']} ms: {verdict}"
        )
        return {
            "figures_requests": len(times),
            "figures_events": events,
            "figures_p50_ms": round(statistics.median(times), 1),
            "figures_p95_ms": round(p95, 1),
            "figures_max_ms": round(max(times), 1),
            "figures_first_request_uncached_ms": round(first, 1),
            "figures_count_ms": cold,
            "figures_target": f"p95 <= {FIGURES_P95_TARGET_MS:.0f} ms",
            "figures_target_status": verdict,
        }

    def check(self, ours, reference) -> dict:
        bad = [
            u
            for u, s in zip([u for u in self.urls if "/events/" not in u], reference, strict=True)
            if s >= 400
        ]
        if bad:
            raise CheckFailed(f"requests of the page failed when fetched again: {bad[:3]}")
        if self.errors:
            raise CheckFailed(f"console errors on the screen: {self.errors[:3]}")
        timed = self.ready_ms[1:]  # the warm-up run is not counted
        p50 = statistics.median(timed) / 1000
        # The same page when its figures are already counted (another screen of the district,
        # or the previous minute's refresh): the everyday case of a wall left running.
        warm = []
        for _ in range(3):
            self._empty_cache()
            self._get("/api/screen/figures/")
            ready, _urls, _errors = self._render()
            warm.append(ready)
        warm_p50 = statistics.median(warm) / 1000
        verdict = "PASS" if p50 <= RENDER_TARGET_S else "FAIL"
        log(
            f"{self.name}: first complete render p50 {p50:.2f} s cold "
            f"({', '.join(f'{t / 1000:.2f}' for t in timed)}), {warm_p50:.2f} s with the "
            f"figures counted; target <= {RENDER_TARGET_S} s: {verdict}"
        )
        return {
            "first_render_s": [round(t / 1000, 3) for t in timed],
            "first_render_p50_s": round(p50, 3),
            "first_render_figures_counted_s": [round(t / 1000, 3) for t in warm],
            "first_render_figures_counted_p50_s": round(warm_p50, 3),
            "issue_target": f"first complete render <= {RENDER_TARGET_S} s",
            "issue_target_status": verdict,
            # ms since navigation when each part was in: figures, charts drawn, map rendered.
            "parts_ms": self.parts,
            "requests": len(self.urls),
            "tile_requests": sum(1 for u in self.urls if "/tiles/" in u),
            # The machine's load (1-minute average) when the check ran: the render figures
            # scale with it on 2 shared cores.
            "load_average_1min": round(os.getloadavg()[0], 1),
            "viewport": VIEWPORT,
            "user": USER,
            "screenshot": "bench/results/screen.png",
            **self._figures(),
        }

    def teardown(self) -> None:
        for closer in (
            lambda: self.browser.close(),
            lambda: self.playwright.stop(),
        ):
            try:
                closer()
            except Exception as exc:  # noqa: BLE001 - teardown goes on, but says so
                log(f"{self.name}: teardown: {exc}")
        stop(getattr(self, "server", None), getattr(self, "worker", None))
        shutil.rmtree(getattr(self, "static", ""), ignore_errors=True)


CASES = [ScreenRender]
