"""What the field app's cases share: the served instance (as `./gridline up` serves it), the
grid worker whose phone is measured, the page hooks that time the app from inside, and the
shell's size as the browser downloads it."""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import http.client
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

from bench.cases_render import free_port, start_served, stop
from bench.field_cdp import CDPError
from bench.harness import BENCH_DIR, CACHE_DIR, CheckFailed, log

# A grid worker of a grid with 1,000 households (2,715 residents, 40 buildings, 16 units on
# the full demo): the "full-scale grid".
GRID_CODE = "500118006009003"
# What Chromium sends: the shell is measured as the phone downloads it.
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
SHELL_TARGET_BYTES = 500_000  # issue #18: app shell <= 500 KB compressed

# Runs in the page before its own scripts (CDP's addScriptToEvaluateOnNewDocument, which the
# page's CSP does not govern). It records, in ms since navigation start (performance.now()):
# - login: the login form is in the page (a new device's first useful screen);
# - home: "my grid today" shows its cards (read from the phone's store);
# each also as the next animation frame after it (…Frame: when it is on the screen);
# - every `synced` event of the app and the `tiles` event ending the first tile download;
# - first contentful paint and the last largest-contentful-paint candidate.
PAGE_HOOKS = r"""
(() => {
  const marks = (window.__fieldBench = { synced: [], tiles: null, fcp: null, lcp: null });
  const frame = (name) => requestAnimationFrame(() => {
    marks[name + "Frame"] = performance.now();
  });
  let app;
  Object.defineProperty(window, "fieldApp", {
    configurable: true,
    get() { return app; },
    set(value) {
      app = value;
      value.addEventListener("synced", (e) => {
        const d = e.detail || {};
        marks.synced.push({
          at: performance.now(), ok: d.ok, changed: d.changed, full: d.full, status: d.status,
        });
      });
      value.addEventListener("tiles", (e) => {
        const d = e.detail || {};
        marks.tiles = {
          at: performance.now(), count: d.count, fetched: d.fetched, failed: d.failed,
          maxzoom: d.maxzoom,
        };
      });
    },
  });
  const check = () => {
    const body = document.body;
    if (!body) return;
    if (!marks.login && body.dataset.route === "/login" && document.querySelector("form.login")) {
      marks.login = performance.now(); frame("login");
    }
    if (!marks.home && body.dataset.route === "/home" && document.querySelector(".cards .card")) {
      marks.home = performance.now(); frame("home");
    }
  };
  new MutationObserver(check)
    .observe(document, { subtree: true, childList: true, attributes: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.name === "first-contentful-paint") marks.fcp = e.startTime;
    }
  }).observe({ type: "paint", buffered: true });
  new PerformanceObserver((list) => {
    const all = list.getEntries();
    if (all.length) marks.lcp = all[all.length - 1].startTime;
  }).observe({ type: "largest-contentful-paint", buffered: true });
})();
"""


# Left out of the collect: trees /field/ never loads (the admin's, the API browser's and
# schema viewer's, ECharts' builds nobody imports, Leaflet-Geoman), MapLibre's debug builds
# and source maps. The files /field/ uses are collected and post-processed (hashed, imports
# rewritten, gzipped) exactly as in a deploy; the rest took most of a 15-minute collect on the
# loaded machine.
NOT_FOR_FIELD = (
    "admin", "rest_framework", "drf_spectacular_sidecar", "leaflet-geoman*", "echarts.js",
    "echarts.common*", "echarts.simple*", "echarts.esm.js", "echarts.esm.mjs", "extension",
    "*-dev.mjs", "*.map", "*.d.ts",
)  # fmt: skip


def _sources_stamp() -> str:
    """What the collected files depend on: every static source's name, size and time."""
    from django.contrib.staticfiles import finders

    entries = []
    for finder in finders.get_finders():
        for path, storage in finder.list(ignore_patterns=list(NOT_FOR_FIELD)):
            stat = os.stat(storage.path(path))
            entries.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()


def collect_static() -> Path:
    """Static files as deployed (hashed, compressed) in bench/.cache/field-static, collected
    again only when a source changed: the post-processing of every file takes minutes on a
    busy machine, and the field cases run while the app is still being edited."""
    target = CACHE_DIR / "field-static"
    stamp_file = target / ".sources-stamp"
    stamp = _sources_stamp()
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        log(f"static files unchanged since the last collect: {target}")
        return target
    target.mkdir(parents=True, exist_ok=True)
    stamp_file.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0",
         *(f"--ignore={pattern}" for pattern in NOT_FOR_FIELD)],
        cwd=BENCH_DIR.parent, env={**os.environ, "DJANGO_STATIC_ROOT": str(target)}, check=True,
    )  # fmt: skip
    stamp_file.write_text(stamp)
    log(f"static files collected in {time.perf_counter() - start:.0f} s: {target}")
    return target


_shared: Served | None = None


def served(name: str) -> Served:
    """One served instance for every field case of the run (stopped when the run ends)."""
    global _shared
    if _shared is None or _shared.server.poll() is not None:
        _shared = Served(name)
        atexit.register(_shared.close)
    return _shared


class Served:
    """Static files collected (hashed and compressed, as deployed), gunicorn with
    gunicorn.conf.py (uvicorn workers) on a free port, primed."""

    def __init__(self, name: str):
        self.name = name
        self.static = collect_static()
        env = {**os.environ, "DJANGO_STATIC_ROOT": str(self.static), "GRIDLINE_ACCESS_LOG": ""}
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.server = start_served(port, env)
        log(f"{name}: gunicorn (gunicorn.conf.py) on {self.base}")
        try:
            self._prime()
        except BaseException:
            self.close()
            raise

    def _prime(self) -> None:
        """Each new web process sets Django up on its first request (seconds on a busy
        machine): asked until the answers are quick, so that no measured load pays it."""
        fast = 0
        for _ in range(60):
            start = time.perf_counter()
            for path in ("/field/", "/field/sw.js", "/jsi18n/"):
                try:
                    with urllib.request.urlopen(f"{self.base}{path}", timeout=120) as answer:
                        answer.read()
                except urllib.error.HTTPError as exc:
                    raise CheckFailed(f"{path} answered {exc.code}: {exc.read()[:300]!r}") from exc
            fast = fast + 1 if time.perf_counter() - start < 0.5 else 0
            if fast >= 6:
                return
        log(f"{self.name}: the server stayed slow while priming")

    def close(self) -> None:
        server, self.server = getattr(self, "server", None), None
        if server is not None and server.poll() is None:
            stop(server)


def raw_get(base: str, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """A GET with http.client: the body as it came over the wire (not decompressed)."""
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        # As a browser sends it: the precache list holds names with spaces (the glyph font's).
        connection.request("GET", quote(path, safe="/?=&%:;,@+~"), headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def precache_list(base: str) -> dict:
    """The service worker's FIELD_CONFIG (its precache list), from GET /field/sw.js."""
    status, _headers, body = raw_get(base, "/field/sw.js")
    if status != 200:
        raise CheckFailed(f"/field/sw.js answered {status}")
    first = body.decode().split("\n", 1)[0].strip()
    prefix = "self.FIELD_CONFIG = "
    if not first.startswith(prefix):
        raise CheckFailed("sw.js does not start with its FIELD_CONFIG")
    return json.loads(first.removeprefix(prefix).rstrip(";"))


def _measure(base: str, urls: list[str]) -> list[dict]:
    files = []
    for url in urls:
        status, headers, body = raw_get(base, url, {"Accept-Encoding": ACCEPT_ENCODING})
        _s, _h, plain = raw_get(base, url)
        if status != 200:
            raise CheckFailed(f"precached {url} answered {status}")
        files.append(
            {
                "url": url,
                "bytes": len(body),
                "uncompressed_bytes": len(plain),
                "encoding": headers.get("content-encoding", ""),
            }
        )
    return files


def _group(url: str) -> str:
    path = url.split("?")[0]
    return (
        "maplibre" if "/vendor/maplibre-gl/" in path
        else "map core" if "/gridline/map/" in path or "maplibre-words" in path
        else "glyphs" if "/gridline/glyphs/" in path
        else "icons" if "/field/icons/" in path
        else "field modules and styles" if path.startswith("/static/field/")
        else "pages, catalog, worker, manifest" if not path.startswith("/static/")
        else "other static"
    )  # fmt: skip


def _by_group(files: list[dict]) -> dict:
    groups: dict[str, int] = {}
    for f in files:
        groups[_group(f["url"])] = groups.get(_group(f["url"]), 0) + f["bytes"]
    return dict(sorted(groups.items(), key=lambda kv: -kv[1]))


def shell_size(base: str) -> dict:
    """The shell: sw.js and every URL of its install-time precache list, fetched as
    Chromium asks for them (Accept-Encoding: gzip, deflate, br, zstd): bytes of body over
    the wire, and uncompressed for scale. The "map pack" (MapLibre, the map core, glyphs),
    which the worker keeps after the first sync, is measured the same way and reported
    beside it."""
    config = precache_list(base)
    files = _measure(base, ["/field/sw.js", *config["precache"]])
    pack = _measure(base, list(config.get("mapPack") or []))
    total = sum(f["bytes"] for f in files)
    verdict = "PASS" if total <= SHELL_TARGET_BYTES else "FAIL"
    log(
        f"shell: {len(files)} files, {total:,} bytes compressed "
        f"({sum(f['uncompressed_bytes'] for f in files):,} plain); target <= "
        f"{SHELL_TARGET_BYTES:,}: {verdict}; map pack {len(pack)} files, "
        f"{sum(f['bytes'] for f in pack):,} bytes"
    )
    return {
        "shell_files": len(files),
        "shell_bytes": total,
        "shell_uncompressed_bytes": sum(f["uncompressed_bytes"] for f in files),
        "shell_bytes_by_group": _by_group(files),
        "shell_uncompressed_files": [f["url"] for f in files if not f["encoding"]],
        "shell_largest": sorted(files, key=lambda f: -f["bytes"])[:8],
        "shell_target": f"install-time precache list compressed <= {SHELL_TARGET_BYTES:,} bytes",
        "shell_target_status": verdict,
        "shell_accept_encoding": ACCEPT_ENCODING,
        "shell_version": config.get("version"),
        "map_pack_files": len(pack),
        "map_pack_bytes": sum(f["bytes"] for f in pack),
        "map_pack_bytes_by_group": _by_group(pack),
        "shell_and_map_pack_bytes": total + sum(f["bytes"] for f in pack),
    }


class Worker:
    """The grid worker whose phone is measured. The demo's users have no known password:
    one is set for the run and the old hash put back afterwards; the devices, tokens, login
    records and audit rows the run made are deleted (the database is left as found)."""

    def __init__(self):
        from django.contrib.auth import get_user_model

        from grids.models import Grid, Household, Resident

        grid = Grid.objects.get(code=GRID_CODE)
        self.user = get_user_model().objects.get(role="grid_worker", grid=grid)
        self.username = self.user.username
        self.password = "bench-" + secrets.token_urlsafe(12)
        self.started = dt.datetime.now(dt.UTC)
        self._hash = self.user.password
        self._last_login = self.user.last_login
        self.user.set_password(self.password)
        type(self.user).objects.filter(pk=self.user.pk).update(password=self.user.password)
        self.figures = {
            "grid": GRID_CODE,
            "grid_name": grid.name,
            "user": self.username,
            "households": Household.objects.filter(grid=grid).count(),
            "residents": Resident.objects.filter(household__grid=grid).count(),
        }

    def forget_devices(self) -> int:
        """Deletes the devices (and their tokens) the run made."""
        from field.models import Device
        from grids.tokens import ApiToken

        devices = Device.objects.filter(user=self.user, created_at__gte=self.started)
        token_ids = list(devices.values_list("token_id", flat=True))
        count = devices.count()
        devices.delete()
        ApiToken.objects.filter(pk__in=token_ids).delete()
        return count

    def restore(self) -> None:
        from axes.models import AccessAttempt, AccessLog

        from grids.models import AuditLog

        self.forget_devices()
        type(self.user).objects.filter(pk=self.user.pk).update(
            password=self._hash, last_login=self._last_login
        )
        mine = {"username": self.username, "attempt_time__gte": self.started}
        AccessLog.objects.filter(**mine).delete()
        AccessAttempt.objects.filter(**mine).delete()
        AuditLog.objects.filter(user=self.user, at__gte=self.started).delete()


def wait_network_idle(recorder, quiet_s: float, timeout: float) -> None:
    """Returns once no request of `recorder` has been open and none has started for `quiet_s`."""
    deadline = time.monotonic() + timeout
    last_change = time.monotonic()
    seen = None
    while time.monotonic() < deadline:
        requests = recorder.snapshot()
        state = (len(requests), sum(1 for r in requests if r.finished is None))
        if state != seen:
            seen, last_change = state, time.monotonic()
        elif state[1] == 0 and time.monotonic() - last_change >= quiet_s:
            return
        time.sleep(0.1)
    raise CDPError(f"the network did not go quiet in {timeout} s")
