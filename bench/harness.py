"""The timing harness: a case times our side and a reference side in turns, the same number
of times each, and compares the medians. Results are written as small JSON files and one
Markdown table, meant to be committed."""

from __future__ import annotations

import cProfile
import datetime as dt
import gc
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
CACHE_DIR = BENCH_DIR / ".cache"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class CheckFailed(AssertionError):
    """Our side and the reference did not do the same job: the timing means nothing."""


class Case:
    """One comparison. Subclasses set the class attributes and implement ours/reference;
    every other hook is optional. Only ours() and reference() are timed."""

    name: str = ""
    description: str = ""
    ours_label: str = ""
    reference_label: str = ""
    # Pass when median(ours) / median(reference) <= target; None: the issue asks only for
    # the figure (reported, no verdict), the reference giving it a scale.
    target: float | None = 1.0
    repeats: int = 5
    warmup: bool = False  # one untimed run of each side first
    # When the reference is timed on a sample (a naive side that would take an hour), its
    # time is multiplied by this to stand for the whole job; 1 when it does the whole job.
    reference_scale: float = 1.0

    def setup(self) -> None:
        """Untimed, once: load data, write files."""

    def ours(self) -> Any:
        raise NotImplementedError

    def reference(self) -> Any:
        raise NotImplementedError

    def after_ours(self, result: Any) -> None:
        """Untimed, after every run of ours (undo what it wrote)."""

    def after_reference(self, result: Any) -> None:
        """Untimed, after every run of the reference."""

    def check(self, ours: Any, reference: Any) -> dict:
        """Untimed: raise CheckFailed unless both sides gave the same answer; return the
        details worth keeping with the result."""
        return {}

    def teardown(self) -> None:
        """Untimed, once, also after a failure."""


@dataclass
class Result:
    case: str
    description: str
    ours_label: str
    reference_label: str
    target: float | None
    repeats: int
    ours_s: list[float] = field(default_factory=list)
    reference_s: list[float] = field(default_factory=list)
    reference_scale: float = 1.0
    check: dict = field(default_factory=dict)
    error: str | None = None
    environment: dict = field(default_factory=dict)
    measured_at: str = ""

    @property
    def ours_median(self) -> float | None:
        return statistics.median(self.ours_s) if self.ours_s else None

    @property
    def reference_median(self) -> float | None:
        """The reference's median, scaled to the whole job when it was timed on a sample."""
        if not self.reference_s:
            return None
        return statistics.median(self.reference_s) * self.reference_scale

    @property
    def ratio(self) -> float | None:
        if self.ours_median is None or not self.reference_median:
            return None
        return self.ours_median / self.reference_median

    @property
    def status(self) -> str:
        if self.error or self.ratio is None:
            return "ERROR"
        if self.target is None:
            return "REPORTED"
        return "PASS" if self.ratio <= self.target else "FAIL"

    def as_dict(self) -> dict:
        def seconds(values):
            return [round(v, 4) for v in values]

        def rounded(value, digits):
            return None if value is None else round(value, digits)

        return {
            "case": self.case,
            "description": self.description,
            "ours": self.ours_label,
            "reference": self.reference_label,
            "measured_at": self.measured_at,
            "repeats": self.repeats,
            "ours_median_s": rounded(self.ours_median, 4),
            "reference_median_s": rounded(self.reference_median, 4),
            "reference_scale": self.reference_scale,
            "ratio": rounded(self.ratio, 3),
            "target_ratio_max": self.target,
            "status": self.status,
            "ours_runs_s": seconds(self.ours_s),
            "reference_runs_s": seconds(self.reference_s),
            "check": self.check,
            "error": self.error,
            "environment": self.environment,
        }


def _timed(fn) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def run_case(case: Case, *, repeats: int | None = None, environment: dict | None = None) -> Result:
    """Set up, time both sides `repeats` times in turns (ours first on even rounds, the
    reference first on odd ones), check they agree, tear down."""
    repeats = repeats or case.repeats
    result = Result(
        case=case.name,
        description=case.description,
        ours_label=case.ours_label,
        reference_label=case.reference_label,
        target=case.target,
        repeats=repeats,
        reference_scale=case.reference_scale,
        environment=environment or {},
        measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    sides = {
        "ours": (case.ours, case.after_ours, result.ours_s),
        "reference": (case.reference, case.after_reference, result.reference_s),
    }
    last: dict[str, Any] = {}
    try:
        log(f"{case.name}: setting up")
        case.setup()
        result.reference_scale = case.reference_scale  # a case may size its sample in setup
        if case.warmup:
            for side, (fn, after, _) in sides.items():
                log(f"{case.name}: warm-up, {side}")
                after(fn())
        for i in range(repeats):
            order = ("ours", "reference") if i % 2 == 0 else ("reference", "ours")
            for side in order:
                fn, after, samples = sides[side]
                elapsed, value = _timed(fn)
                samples.append(elapsed)
                log(f"{case.name}: run {i + 1}/{repeats} {side} {elapsed:.3f} s")
                if side not in last:
                    last[side] = value
                after(value)
        result.check = case.check(last["ours"], last["reference"])
    except CheckFailed as exc:
        result.error = f"check failed: {exc}"
    except Exception as exc:  # a broken case must not stop the others
        result.error = f"{type(exc).__name__}: {exc}"
        log(f"{case.name}: {result.error}")
        import traceback

        traceback.print_exc(file=sys.stderr)
    finally:
        try:
            case.teardown()
        except Exception as exc:
            log(f"{case.name}: teardown failed: {type(exc).__name__}: {exc}")
            result.error = result.error or f"teardown: {exc}"
    return result


def profile_ours(case: Case) -> Path:
    """One more untimed run of our side under cProfile, with the wall time of every SQL
    statement over 50 ms; written to bench/.cache/<case>.profile.txt."""
    from django.db import connection

    statements: list[tuple[float, str]] = []

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((time.perf_counter() - start, " ".join(str(sql).split())))

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    out = CACHE_DIR / f"{case.name}.profile.txt"
    profiler = cProfile.Profile()
    case.setup()
    try:
        with connection.execute_wrapper(wrapper):
            start = time.perf_counter()
            profiler.enable()
            value = case.ours()
            profiler.disable()
            total = time.perf_counter() - start
        case.after_ours(value)
    finally:
        case.teardown()
    with out.open("w") as handle:
        handle.write(f"{case.name}: ours took {total:.3f} s under the profiler\n\n")
        handle.write("SQL statements over 50 ms (wall time, s):\n")
        for seconds, sql in statements:
            if seconds >= 0.05:
                handle.write(f"{seconds:9.3f}  {sql[:160]}\n")
        handle.write("\n")
        stats = pstats.Stats(profiler, stream=handle)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
    return out


# ------------------------------------------------------------------------------- results


def environment() -> dict:
    """What the figures depend on, kept with every result."""
    import django
    import geopandas
    import shapely
    from django.db import connection

    env = {
        "python": platform.python_version(),
        "django": django.get_version(),
        "geopandas": geopandas.__version__,
        "shapely": shapely.__version__,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
    }
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        env["postgresql"] = cursor.fetchone()[0].split()[0]
        cursor.execute("SELECT postgis_lib_version()")
        env["postgis"] = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        env["shared_buffers"] = cursor.fetchone()[0]
    ogr2ogr = shutil.which("ogr2ogr")
    if ogr2ogr:
        out = subprocess.run([ogr2ogr, "--version"], capture_output=True, text=True).stdout
        env["ogr2ogr"] = out.split(",")[0].replace("GDAL ", "").strip()
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=BENCH_DIR.parent,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=BENCH_DIR.parent,
        ).stdout.strip()
        env["commit"] = head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return env


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save(result: Result) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{result.case}.json"
    _write(path, json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n")
    return path


def _seconds(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def write_latest() -> Path:
    """bench/results/latest.md: one row per case, from every <case>.json there."""
    rows = []
    for path in sorted(RESULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if "ratio" not in data:
            # A standalone measurement (bench/live_latency.py): its own file, not a case row.
            continue
        ratio = "–" if data["ratio"] is None else f"{data['ratio']:.3f}"
        target = "–" if data["target_ratio_max"] is None else f"≤ {data['target_ratio_max']}"
        check = data.get("check") or {}
        # The issue's own target, where it is not a plain ratio (e.g. 2 x SQL + 5 ms).
        issue = (
            f"{check['issue_target']}: **{check['issue_target_status']}**"
            if check.get("issue_target") and check.get("issue_target_status")
            else "–"
        )
        rows.append(
            f"| `{data['case']}` | {data['ours']} | {_seconds(data['ours_median_s'])} "
            f"| {data['reference']} | {_seconds(data['reference_median_s'])} | {ratio} "
            f"| {target} | **{data['status']}** | {issue} "
            f"| {data['repeats']} | {data['measured_at']} |"
        )
    env = {}
    if rows:
        newest = max(RESULTS_DIR.glob("*.json"), key=lambda p: p.stat().st_mtime)
        env = json.loads(newest.read_text(encoding="utf-8")).get("environment", {})
    lines = [
        "# Latest benchmark results",
        "",
        "Written by `python -m bench` (see bench/README.md). Times are medians of the runs; "
        "ratio = ours / reference, lower is better. Details and every run in "
        "`<case>.json`.",
        "",
        "| case | ours | median | reference | median | ratio | target | status "
        "| issue's target | runs | measured (UTC) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    if env:
        lines += [
            "Environment of the latest run: " + ", ".join(f"{k} {v}" for k, v in env.items()) + ".",
            "",
        ]
    path = RESULTS_DIR / "latest.md"
    _write(path, "\n".join(lines))
    return path


def summary_line(result: Result) -> str:
    ratio = "–" if result.ratio is None else f"{result.ratio:.3f}"
    target = "none" if result.target is None else f"<= {result.target}"
    line = (
        f"{result.case:<24} ours {_seconds(result.ours_median):>9}   "
        f"reference {_seconds(result.reference_median):>9}   ratio {ratio:>6}   "
        f"target {target:<7}   {result.status}"
    )
    if result.error:
        line += f"   ({result.error})"
    return line
