"""Lighthouse 12 (npm `lighthouse`, run against Debian's Chromium) on the field app's /field/
(issue #18: performance, accessibility and best practices >= 90 each, mobile emulation),
served as `./gridline up` serves it on the full demo. A new phone: the page shows the login
screen. Writes bench/results/field_lighthouse.json (the scores, the failing audits, the
metrics, the settings Lighthouse ran with); the full reports go to bench/.cache/.

    python -m bench.field_lighthouse [--runs 3]

With several runs the run with the median performance score is kept (Lighthouse's own
advice for a noisy machine) and every run's scores are listed."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys

from bench.harness import BENCH_DIR, CACHE_DIR, RESULTS_DIR, log

CATEGORIES = ("performance", "accessibility", "best-practices")
TARGET = 90
METRICS = (
    "first-contentful-paint",
    "largest-contentful-paint",
    "speed-index",
    "total-blocking-time",
    "cumulative-layout-shift",
    "interactive",
)
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"


def run_lighthouse(url: str, out: str) -> dict:
    command = [
        "npx", "--no-install", "lighthouse", url, f"--chrome-flags={CHROME_FLAGS}",
        "--form-factor=mobile", "--only-categories=" + ",".join(CATEGORIES),
        "--output=json", f"--output-path={out}", "--quiet",
    ]  # fmt: skip
    subprocess.run(
        command,
        cwd=BENCH_DIR.parent,
        env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"},
        check=True,
        timeout=600,
    )
    with open(out, encoding="utf-8") as handle:
        return json.load(handle)


def failing(report: dict) -> list[dict]:
    """Every audit of the measured categories that does not pass (score < 0.9), with its
    category, weight and Lighthouse's own short text of what it found."""
    audits = report["audits"]
    out = []
    for key, category in report["categories"].items():
        for ref in category["auditRefs"]:
            audit = audits[ref["id"]]
            mode = audit.get("scoreDisplayMode")
            if mode in ("notApplicable", "manual", "informative"):
                continue
            score = audit.get("score")
            if mode != "error" and (score is None or score >= 0.9):
                continue
            items = (audit.get("details") or {}).get("items") or []
            items = items if isinstance(items, list) else []
            out.append(
                {
                    "category": key,
                    "id": ref["id"],
                    "title": audit.get("title"),
                    "score": score,
                    "weight": ref.get("weight"),
                    "display": audit.get("displayValue"),
                    "items": [
                        {k: v for k, v in item.items() if isinstance(v, str | int | float)}
                        for item in items[:5]
                    ],
                }
            )
    return out


def summary(report: dict) -> dict:
    scores = {k: round(report["categories"][k]["score"] * 100) for k in CATEGORIES}
    settings = report["configSettings"]
    return {
        "url": report["finalDisplayedUrl"],
        "lighthouse": report["lighthouseVersion"],
        "user_agent": report["environment"].get("hostUserAgent"),
        # Lighthouse's measure of the machine's speed at the time (a quiet desktop ~1,000+).
        "benchmark_index": report["environment"].get("benchmarkIndex"),
        "fetched_at": report["fetchTime"],
        "scores": scores,
        "targets": {k: f">= {TARGET}" for k in CATEGORIES},
        "status": {k: "PASS" if v >= TARGET else "FAIL" for k, v in scores.items()},
        "metrics": {
            m: {
                "value": round(report["audits"][m]["numericValue"], 3),
                "display": report["audits"][m].get("displayValue"),
                "score": report["audits"][m].get("score"),
            }
            for m in METRICS
            if m in report["audits"]
        },
        "failing_audits": failing(report),
        "run_warnings": report.get("runWarnings", []),
        "settings": {
            "form_factor": settings.get("formFactor"),
            "throttling_method": settings.get("throttlingMethod"),
            "throttling": settings.get("throttling"),
            "screen": settings.get("screenEmulation"),
            "chrome_flags": CHROME_FLAGS,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.field_lighthouse", description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--url", help="measure this URL instead of a served instance")
    parser.add_argument(
        "--reports", nargs="+", help="summarise these Lighthouse JSON reports, run nothing"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench.field_served import served

    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    runs = []
    for report in args.reports or []:
        with open(report, encoding="utf-8") as handle:
            runs.append(summary(json.load(handle)))
    base = None if runs else args.url or served("field_lighthouse").base + "/field/"
    for i in range(0 if args.reports else args.runs):
        out = str(CACHE_DIR / f"field_lighthouse_{i + 1}.json")
        log(f"lighthouse run {i + 1}/{args.runs} on {base}")
        runs.append(summary(run_lighthouse(base, out)))
        log(f"lighthouse run {i + 1}: {runs[-1]['scores']}")
    performance = [r["scores"]["performance"] for r in runs]
    kept = runs[performance.index(sorted(performance)[len(performance) // 2])]
    result = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": (
            "CHROME_PATH=/usr/bin/chromium npx --no-install lighthouse <url> "
            f'--chrome-flags="{CHROME_FLAGS}" --form-factor=mobile '
            "--only-categories=" + ",".join(CATEGORIES) + " --output=json"
        ),
        "runs": len(runs),
        "scores_of_every_run": [r["scores"] for r in runs],
        "performance_median": statistics.median(performance),
        "load_average_1min": round(os.getloadavg()[0], 1),
        **kept,
    }
    path = RESULTS_DIR / "field_lighthouse.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    log(f"{path}: {kept['scores']} {kept['status']}")
    for audit in kept["failing_audits"]:
        shown = audit["display"] or ""
        log(f"  failing: [{audit['category']}] {audit['id']} {audit['score']} {shown}")
    return 0 if all(v == "PASS" for v in kept["status"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
