"""python -m bench [case ...]: run the named cases (all by default) and write the results."""

from __future__ import annotations

import argparse
import os
import sys

from bench.harness import log, run_case, save, summary_line, write_latest


def all_cases() -> dict:
    from bench import (
        cases_boundaries,
        cases_field,
        cases_fire,
        cases_forms,
        cases_grids,
        cases_imports,
        cases_incidents,
        cases_ingest,
        cases_maps,
        cases_needs,
        cases_ogc,
        cases_places,
        cases_render,
        cases_reports,
        cases_residents,
        cases_screen,
    )

    return {
        case.name: case
        for module in (
            cases_grids,
            cases_imports,
            cases_places,
            cases_residents,
            cases_maps,
            cases_render,
            cases_incidents,
            cases_reports,
            cases_fire,
            cases_ingest,
            cases_boundaries,
            cases_ogc,
            cases_forms,
            cases_screen,
            cases_field,
            cases_needs,
        )
        for case in module.CASES
    }


def main(argv: list[str] | None = None) -> int:
    cases = all_cases()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("cases", nargs="*", metavar="case", help=f"one of: {', '.join(cases)}")
    parser.add_argument("--repeat", type=int, help="runs of each side (default: per case)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after timing, run our side once more under cProfile (bench/.cache/)",
    )
    args = parser.parse_args(argv)
    if args.list:
        for name, case in cases.items():
            print(f"{name}: {case.description}")
        return 0
    unknown = [name for name in args.cases if name not in cases]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(cases)}")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from bench import data, harness

    data.ensure_demo()
    env = harness.environment()
    results = []
    for name in args.cases or list(cases):
        case = cases[name]()
        result = run_case(case, repeats=args.repeat, environment=env)
        save(result)
        results.append(result)
        print(summary_line(result), flush=True)
        if args.profile:
            path = harness.profile_ours(cases[name]())
            log(f"{name}: profile written to {path}")
    latest = write_latest()
    log(f"results in {latest.parent}")
    return 0 if all(r.status == "PASS" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
