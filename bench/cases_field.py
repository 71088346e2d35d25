"""The grid workers' phone app (/field/, issue #18) on a 3G profile in headless Chromium with
a phone's screen, on the full demo, served as `./gridline up` serves it: the first load of a
new device, the first sync of a full-scale grid (1,000 households), the next start of a
logged-in phone and a no-change re-sync; the shell's size as downloaded.

Both sides of each case do the same network job on the same profile; ours is the app, the
reference the same requests fetched at once by the browser with nothing parsed, stored or
drawn (the floor the network sets), as in `map_render`. The issue's own targets are absolute
and are held in the check (`issue_target_status` and the `*_status` fields)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from bench.cases_render import CHROMIUM, CHROMIUM_ARGS
from bench.field_cdp import PHONE, PROFILE_3G, Browser, Page
from bench.field_served import PAGE_HOOKS, Worker, served, shell_size, wait_network_idle
from bench.harness import BENCH_DIR, Case, CheckFailed, log

RESULTS = BENCH_DIR / "results"
FIRST_LOAD_TARGET_S = 4.0  # issue #18, on the 3G profile
FIRST_SYNC_TARGET_S = 10.0
FIRST_SYNC_TARGET_BYTES = 2_000_000
RESYNC_TARGET_BYTES = 1_000  # one request, < 1 KB
PROFILE_TEXT = (
    "CDP Network.emulateNetworkConditions on every page, worker and service worker: "
    "latency 150 ms, download 1.6 Mbps (200,000 B/s), upload 750 kbps (93,750 B/s); "
    f"screen {PHONE['width']}x{PHONE['height']} at {PHONE['deviceScaleFactor']}x, mobile, "
    "touch, an Android Chrome user agent; no CPU slowdown"
)
# The floor: the given URLs fetched at once from the page, bodies read, nothing kept.
FETCH_ALL = """(async ([urls, headers]) => {
  const start = performance.now();
  const statuses = await Promise.all(urls.map(async (u) => {
    const r = await fetch(u, {cache: "no-store", credentials: "omit", headers});
    await r.arrayBuffer();
    return r.status;
  }));
  return {ms: performance.now() - start, statuses};
})"""


def _kind(path: str) -> str:
    if path.startswith("/api/field/sync/"):
        return "sync"
    if path.startswith("/api/field/devices/"):
        return "login"
    if path.startswith("/api/map/"):
        return "tilejson"
    if path.startswith("/tiles/"):
        return "tiles"
    if path.startswith("/field/sw.js"):
        return "sw.js"
    if path.startswith(("/static/vendor/maplibre-gl/", "/static/gridline/")):
        return "map pack"
    return "shell"


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


class FieldCase(Case):
    repeats = 3
    warmup = True
    target = 2.0

    def setup(self) -> None:
        if not Path(CHROMIUM).exists():
            raise CheckFailed(f"{CHROMIUM} is not installed (apt install chromium)")
        self.served = served(self.name)
        self.base = self.served.base
        self.worker = Worker()
        self.browser = Browser(CHROMIUM, CHROMIUM_ARGS)
        self.runs: list[dict] = []
        self.errors: list[str] = []

    def _open(self, profile=PROFILE_3G) -> tuple[str, Page]:
        context = self.browser.new_context(profile)
        return context, self.browser.new_page(context, PAGE_HOOKS)

    def _close(self, context: str, page: Page) -> None:
        self.errors.extend(page.console_errors)
        page.close()
        self.browser.close_context(context)

    def _marks(self, page: Page) -> dict:
        return page.evaluate("window.__fieldBench")

    def _load_login(self, page: Page) -> dict:
        page.navigate(f"{self.base}/field/")
        page.wait_for("window.__fieldBench && window.__fieldBench.loginFrame", timeout=120)
        return self._marks(page)

    def _login(self, page: Page) -> float:
        """Fills and sends the login form as a person would; performance.now() of the send."""
        values = json.dumps([self.worker.username, self.worker.password])
        return page.evaluate(
            f"""(() => {{
              const [u, p] = {values};
              const form = document.querySelector("form.login");
              form.elements.username.value = u;
              form.elements.password.value = p;
              const at = performance.now();
              form.requestSubmit();
              return at;
            }})()"""
        )

    def teardown(self) -> None:
        for closer in (
            lambda: self.browser.close(),
            lambda: self.worker.restore(),
        ):
            try:
                closer()
            except AttributeError:
                pass  # set-up stopped before it
            except Exception as exc:  # noqa: BLE001 - teardown goes on, but says so
                log(f"{self.name}: teardown: {exc}")


def _bytes(requests) -> dict:
    out: dict[str, dict] = {}
    for r in requests:
        if not r.network:
            continue
        kind = _kind(r.path)
        entry = out.setdefault(kind, {"requests": 0, "bytes": 0})
        entry["requests"] += 1
        entry["bytes"] += r.encoded_bytes
    return out


class FieldFirstLoad(FieldCase):
    name = "field_first_load"
    description = (
        "A new phone opens /field/ on the issue's 3G profile (1.6 Mbps down, 750 kbps up, "
        "150 ms RTT, CDP) at 390x844 in Debian's headless Chromium: navigation to the login "
        "screen on the screen (the first useful paint of a new device), served as "
        "`./gridline up` serves it. Reference: the same browser and profile fetching every "
        "URL that load requested, at once, nothing parsed or drawn. Issue targets in the "
        "check: first load <= 4 s; the shell (the service worker's precache list, "
        "compressed as the browser gets it) <= 500 KB."
    )
    ours_label = "/field/ to the login screen, 3G"
    reference_label = "its requests fetched at once, 3G"

    def setup(self) -> None:
        super().setup()
        self.shell = shell_size(self.base)
        self.urls: list[str] = []

    def ours(self):
        context, page = self._open()
        try:
            marks = self._load_login(page)
            requests = self.browser.recorders[context].snapshot()
            start = requests[0].started if requests else 0
            before = [
                r for r in requests
                if r.network and r.finished and (r.finished - start) * 1000 <= marks["loginFrame"]
            ]  # fmt: skip
            self.urls = [r.url for r in requests if r.network and r.target == "page"]
            self.runs.append(
                {
                    "login_ms": round(marks["login"], 1),
                    "login_frame_ms": round(marks["loginFrame"], 1),
                    "fcp_ms": marks.get("fcp"),
                    "requests_before": len(before),
                    "bytes_before": sum(r.encoded_bytes for r in before),
                }
            )
            page.screenshot(RESULTS / "field_login.png")
        finally:
            self._close(context, page)
        return marks["loginFrame"]

    def reference(self):
        if not self.urls:
            raise CheckFailed("no page load to replay yet")
        context, page = self._open(profile=None)
        try:
            page.navigate(f"{self.base}/field/manifest.webmanifest")
            page.wait_for("document.readyState === 'complete'")
            page.send("Network.emulateNetworkConditions", PROFILE_3G)
            urls = list(self.urls)
            return {"urls": urls, **page.evaluate(f"{FETCH_ALL}({json.dumps([urls, {}])})")}
        finally:
            self._close(context, page)

    def _precache(self) -> dict:
        """One more new phone, left until its service worker has installed: what the
        precache downloads on the same profile, and when the worker is active."""
        context, page = self._open()
        try:
            self._load_login(page)
            active = page.evaluate(
                "navigator.serviceWorker.ready.then(() => performance.now())", timeout=300
            )
            wait_network_idle(self.browser.recorders[context], 2.0, 300)
            requests = self.browser.recorders[context].snapshot()
            worker = [r for r in requests if r.target == "service_worker" and r.network]
            start = requests[0].started
            ends = [r.finished for r in worker if r.finished]
            return {
                "precache_requests_over_network": len(worker),
                "precache_bytes": sum(r.encoded_bytes for r in worker),
                "precache_from_http_cache": sum(
                    1 for r in requests if r.target == "service_worker" and r.from_cache
                ),
                "worker_active_ms": round(active, 1),
                "precache_done_ms": round((max(ends) - start) * 1000, 1) if ends else None,
                "all_bytes_first_visit": sum(r.encoded_bytes for r in requests if r.network),
            }
        finally:
            self._close(context, page)

    def check(self, ours, reference) -> dict:
        pairs = zip(reference["urls"], reference["statuses"], strict=True)
        bad = [u for u, s in pairs if s >= 400]
        if bad:
            raise CheckFailed(f"requests of the load failed when fetched again: {bad[:3]}")
        timed = self.runs[1:]  # the warm-up run is not counted
        p50 = statistics.median(r["login_frame_ms"] for r in timed) / 1000
        verdict = "PASS" if p50 <= FIRST_LOAD_TARGET_S else "FAIL"
        precache = self._precache()
        log(
            f"{self.name}: login screen p50 {p50:.2f} s on 3G "
            f"({', '.join(str(r['login_frame_ms']) for r in timed)} ms); target <= "
            f"{FIRST_LOAD_TARGET_S} s: {verdict}; shell {self.shell['shell_bytes']:,} B: "
            f"{self.shell['shell_target_status']}; precache {precache}"
        )
        if self.errors:
            log(f"{self.name}: console errors: {self.errors[:5]}")
        return {
            "first_load_s": [round(r["login_frame_ms"] / 1000, 3) for r in timed],
            "first_load_p50_s": round(p50, 3),
            "issue_target": f"first load (login screen) on 3G <= {FIRST_LOAD_TARGET_S} s",
            "issue_target_status": verdict,
            "runs": timed,
            "fcp_p50_ms": _median(r["fcp_ms"] for r in timed),
            "network_floor_ms": round(reference["ms"], 1),
            "requests_replayed": len(reference["urls"]),
            **self.shell,
            **precache,
            "profile": PROFILE_3G,
            "profile_text": PROFILE_TEXT,
            "console_errors": self.errors[:10],
            "screenshot": "bench/results/field_login.png",
        }


class FieldFirstSync(FieldCase):
    name = "field_first_sync"
    description = (
        "A grid worker of a full-scale grid (500118006009003: 1,000 households, 2,715 "
        "residents) logs in on a new phone on the issue's 3G profile at 390x844 (the login "
        "page loaded and the service worker installed first, as while the worker types): "
        "from the login form's send to the end of the first sync (device token, the pull "
        "of the grid's working set into IndexedDB, the grid's map tiles into Cache "
        "Storage). Reference: the same load, then the same login and the same sync and tile "
        "URLs fetched at once, nothing stored. Issue targets in the check: first sync <= 2 "
        "MB and <= 10 s; a logged-in phone's start (home) <= 4 s; a no-change re-sync = 1 "
        "request < 1 KB."
    )
    ours_label = "login + first sync with tiles, 3G"
    reference_label = "the same requests fetched at once, 3G"

    def setup(self) -> None:
        super().setup()
        self.sync_urls: list[str] = []

    def _ready(self, context: str, page: Page) -> None:
        self._load_login(page)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)", timeout=300)
        wait_network_idle(self.browser.recorders[context], 2.0, 300)

    def _first_sync(self, context: str, page: Page) -> dict:
        recorder = self.browser.recorders[context]
        self._ready(context, page)
        seen = {r.request_id for r in recorder.snapshot()}
        sent = self._login(page)
        marks = page.wait_for(
            "window.__fieldBench.tiles && window.__fieldBench", timeout=300, every=0.2
        )
        # The map pack the worker keeps after the first sync may still be on its way.
        wait_network_idle(recorder, 2.0, 300)
        requests = [r for r in recorder.snapshot() if r.request_id not in seen]
        start = min(r.started for r in requests)
        synced = marks["synced"][0] if marks["synced"] else {}
        by_kind = _bytes(requests)
        data = sum(v["bytes"] for k, v in by_kind.items() if k != "map pack")
        pack_ends = [r.finished for r in requests if r.network and _kind(r.path) == "map pack"]
        every = sum(r.encoded_bytes for r in requests if r.network)
        return {
            "first_sync_ms": round(marks["tiles"]["at"] - sent, 1),
            "pull_done_ms": round(synced.get("at", 0) - sent, 1) if synced else None,
            "pull_ok": synced.get("ok"),
            "tiles": marks["tiles"],
            # Login, the pull, the TileJSON and the tiles: the grid's data on the phone.
            "bytes": data,
            "by_kind": by_kind,
            "map_pack_done_ms": round((max(pack_ends) - start) * 1000, 1) if pack_ends else None,
            "all_bytes": every,
            # CDP throttles each page and worker on its own: the time the whole window's
            # bytes need on one shared 1.6 Mbps link, a floor for the real phone.
            "one_link_floor_s": round(every / PROFILE_3G["downloadThroughput"], 2),
            "data_one_link_floor_s": round(data / PROFILE_3G["downloadThroughput"], 2),
            "requests": requests,
        }

    def ours(self):
        context, page = self._open()
        try:
            run = self._first_sync(context, page)
            requests = run.pop("requests")
            self.sync_urls = [
                r.url for r in requests
                if r.network and _kind(r.path) in ("sync", "tilejson", "tiles")
            ]  # fmt: skip
            self.runs.append(run)
            page.wait_for("window.__fieldBench.homeFrame")
            page.screenshot(RESULTS / "field_home.png")
        finally:
            self._close(context, page)
        return run["first_sync_ms"]

    def after_ours(self, result) -> None:
        self.worker.forget_devices()

    def reference(self):
        if not self.sync_urls:
            raise CheckFailed("no sync to replay yet")
        context, page = self._open()
        try:
            self._ready(context, page)
            body = json.dumps(
                {"username": self.worker.username, "password": self.worker.password,
                 "name": "bench reference"}
            )  # fmt: skip
            return page.evaluate(
                f"""(async () => {{
                  const start = performance.now();
                  const r = await fetch("/api/field/devices/", {{method: "POST",
                    headers: {{"Content-Type": "application/json", Accept: "application/json"}},
                    body: {json.dumps(body)}, credentials: "omit"}});
                  const token = (await r.json()).token;
                  const rest = await ({FETCH_ALL})([{json.dumps(self.sync_urls)},
                    {{Authorization: `Token ${{token}}`}}]);
                  return {{ms: performance.now() - start, statuses: [r.status, ...rest.statuses]}};
                }})()""",
                timeout=300,
            )
        finally:
            self._close(context, page)

    def after_reference(self, result) -> None:
        self.worker.forget_devices()

    def _restart(self) -> dict:
        """A logged-in phone whose worker is installed opens the app again: navigation to
        home with its cards, and every request the start's sync makes (nothing changed)."""
        context, page = self._open()
        recorder = self.browser.recorders[context]
        try:
            first = self._first_sync(context, page)
            first.pop("requests")
            wait_network_idle(recorder, 2.0, 120)
            seen = {r.request_id for r in recorder.snapshot()}
            # The page hooks run again in the new document (added when the page was made).
            page.navigate(f"{self.base}/field/")
            page.wait_for("window.__fieldBench && window.__fieldBench.homeFrame", timeout=120)
            marks = page.wait_for(
                "window.__fieldBench.synced.length && window.__fieldBench", timeout=120
            )
            wait_network_idle(recorder, 3.0, 120)
            requests = [r for r in recorder.snapshot() if r.request_id not in seen and r.network]
            page.screenshot(RESULTS / "field_home_restart.png")
            app_requests = [r for r in requests if _kind(r.path) != "sw.js"]
            return {
                "home_ms": round(marks["home"], 1),
                "home_frame_ms": round(marks["homeFrame"], 1),
                "resync": marks["synced"][0],
                "network_requests": [
                    {
                        "path": r.path[:120],
                        "status": r.status,
                        "bytes": r.encoded_bytes,
                        "by": r.target,
                    }
                    for r in requests
                ],  # fmt: skip
                "app_requests": len(app_requests),
                "app_bytes": sum(r.encoded_bytes for r in app_requests),
            }
        finally:
            self._close(context, page)
            self.worker.forget_devices()

    def check(self, ours, reference) -> dict:
        bad = [s for s in reference["statuses"] if s >= 400]
        if bad:
            raise CheckFailed(f"the replayed login/sync/tile requests failed: {bad[:5]}")
        timed = self.runs[1:]
        if any(not r["pull_ok"] or r["tiles"].get("failed") for r in timed):
            raise CheckFailed(f"a first sync failed: {[(r['pull_ok'], r['tiles']) for r in timed]}")
        sync_s = statistics.median(r["first_sync_ms"] for r in timed) / 1000
        sync_bytes = statistics.median(r["bytes"] for r in timed)
        restarts = [self._restart() for _ in range(3)]
        home_s = statistics.median(r["home_frame_ms"] for r in restarts) / 1000
        resync = restarts[-1]
        verdicts = {
            "first_sync_time_status": "PASS" if sync_s <= FIRST_SYNC_TARGET_S else "FAIL",
            "first_sync_bytes_status": "PASS" if sync_bytes <= FIRST_SYNC_TARGET_BYTES else "FAIL",
            "home_restart_status": "PASS" if home_s <= FIRST_LOAD_TARGET_S else "FAIL",
            "resync_status": (
                "PASS"
                if all(
                    r["app_requests"] == 1 and r["app_bytes"] < RESYNC_TARGET_BYTES
                    for r in restarts
                )
                else "FAIL"
            ),  # fmt: skip
        }
        overall = "PASS" if all(v == "PASS" for v in verdicts.values()) else "FAIL"
        log(
            f"{self.name}: first sync p50 {sync_s:.2f} s, {sync_bytes:,.0f} B "
            f"({timed[-1]['by_kind']}); home restart p50 {home_s:.2f} s; re-sync "
            f"{resync['app_requests']} request(s) {resync['app_bytes']} B "
            f"({resync['network_requests']}); {verdicts}"
        )
        if self.errors:
            log(f"{self.name}: console errors: {self.errors[:5]}")
        return {
            "first_sync_s": [round(r["first_sync_ms"] / 1000, 3) for r in timed],
            "first_sync_p50_s": round(sync_s, 3),
            "first_sync_bytes": [r["bytes"] for r in timed],
            "first_sync_bytes_p50": sync_bytes,
            "issue_target": (
                f"first sync <= {FIRST_SYNC_TARGET_BYTES:,} B and <= {FIRST_SYNC_TARGET_S} s; "
                f"home <= {FIRST_LOAD_TARGET_S} s; re-sync 1 request < {RESYNC_TARGET_BYTES} B"
            ),
            "issue_target_status": overall,
            **verdicts,
            "runs": timed,
            "home_restart_s": [round(r["home_frame_ms"] / 1000, 3) for r in restarts],
            "home_restart_p50_s": round(home_s, 3),
            "restarts": restarts,
            "network_floor_ms": round(reference["ms"], 1),
            "grid": self.worker.figures,
            "profile": PROFILE_3G,
            "profile_text": PROFILE_TEXT,
            "console_errors": self.errors[:10],
            "screenshots": ["bench/results/field_home.png", "bench/results/field_home_restart.png"],
        }


CASES = [FieldFirstLoad, FieldFirstSync]
