"""A real restart under load against a running `./gridline up` (#15, item 9).

    python -m bench.restart_drill --yes                      # pg_ctlcluster 15 main restart
    python -m bench.restart_drill --yes --restart "redis-cli shutdown nosave; ..."
    python -m bench.restart_drill --restart ""               # load only, no restart

Clients report incidents through the API as the demo's grid worker, each with a client key,
and send a report again with the same key until it is acknowledged, as the phone app does.
Meanwhile the restart command runs. The drill then checks every acknowledged report (sent
once more with its key, it must come back 200 with the same id: a lost one would be created
anew, 201) and reports acknowledged writes, lost writes, answers by status (a 500 is a
failure), refused connections, and the seconds from the end of the restart command to the
first 200. A restart of the PostgreSQL cluster interrupts every database on it (other test
runs included): hence --yes.
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import threading
import time
import uuid

import requests
from shapely.geometry import shape

DEFAULT_RESTART = "pg_ctlcluster 15 main restart"


class Client:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def get(self, path: str, **kw):
        return self.session.get(self.url + path, timeout=10, **kw)

    def post(self, path: str, body: dict):
        return self.session.post(self.url + path, json=body, timeout=10)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: collections.Counter = collections.Counter()
        self.acknowledged: dict[str, int] = {}
        self.bad_503s = 0

    def count(self, status) -> None:
        with self.lock:
            self.statuses[status] += 1


def report(client: Client, body: dict, tally: Tally) -> requests.Response | None:
    try:
        answer = client.post("/api/incidents/", body)
    except requests.ConnectionError:
        tally.count("refused")
        return None
    except requests.Timeout:
        tally.count("timeout")
        return None
    tally.count(answer.status_code)
    if answer.status_code == 503 and "Retry-After" not in answer.headers:
        tally.bad_503s += 1
    return answer


def writer(client: Client, template: dict, tally: Tally, stop: threading.Event) -> None:
    while not stop.is_set():
        key = str(uuid.uuid4())
        deadline = None
        while True:
            answer = report(client, template | {"client_key": key}, tally)
            if answer is not None and answer.status_code in (200, 201):
                with tally.lock:
                    tally.acknowledged[key] = answer.json()["id"]
                break
            if answer is not None and answer.status_code not in (503,) and answer.status_code < 500:
                print(f"refused report: {answer.status_code} {answer.text[:200]}", file=sys.stderr)
                break
            # Not acknowledged: the same key again, as long as the drill lasts and a minute
            # after, so that nothing is left half-known.
            if stop.is_set():
                deadline = deadline or time.monotonic() + 60
                if time.monotonic() > deadline:
                    break
            time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="gridworker")
    parser.add_argument(
        "--password", default=os.environ.get("GRIDLINE_DEMO_PASSWORD", "gridline-demo")
    )
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load first")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of load after")
    parser.add_argument("--restart", default=DEFAULT_RESTART, help="shell command; empty: none")
    parser.add_argument("--yes", action="store_true", help="the restart may interrupt others")
    args = parser.parse_args()
    if args.restart and not args.yes:
        parser.error(f"{args.restart!r} interrupts every database of the cluster: add --yes")

    issued = requests.post(
        f"{args.url}/api/auth/token/",
        json={"username": args.user, "password": args.password},
        timeout=30,
    )
    issued.raise_for_status()
    client = Client(args.url, issued.json()["token"])
    grids = client.get("/api/grids/", params={"page_size": 1}).json()
    point = shape(grids["features"][0]["geometry"]).representative_point()
    category = client.get("/api/incident-categories/").json()
    category = (category.get("results", category) if isinstance(category, dict) else category)[0]
    template = {
        "title": "重启演练",
        "category": category["code"],
        "source": "patrol",
        "location": {"type": "Point", "coordinates": [point.x, point.y]},
    }

    tally, stop = Tally(), threading.Event()
    threads = [
        threading.Thread(target=writer, args=(client, template, tally, stop), daemon=True)
        for _ in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    time.sleep(args.before)
    recovery = None
    if args.restart:
        started = time.monotonic()
        subprocess.run(args.restart, shell=True, check=True)  # noqa: S602 - the operator's own
        back = time.monotonic()
        print(f"restart command took {back - started:.1f} s", file=sys.stderr)
        while time.monotonic() - back < 120:
            try:
                if client.get("/api/incidents/", params={"page_size": 1}).status_code == 200:
                    recovery = time.monotonic() - back
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
    time.sleep(args.after)
    stop.set()
    for thread in threads:
        thread.join(90)

    lost = []
    for key, incident_id in tally.acknowledged.items():
        again = client.post("/api/incidents/", template | {"client_key": key})
        if again.status_code != 200 or again.json()["id"] != incident_id:
            lost.append(key)
    health = requests.get(f"{args.url}/healthz", timeout=10)
    server_errors = sum(
        n for s, n in tally.statuses.items() if isinstance(s, int) and s >= 500 and s != 503
    )
    print(
        f"acknowledged writes: {len(tally.acknowledged)}, found afterwards: "
        f"{len(tally.acknowledged) - len(lost)}, lost: {len(lost)}"
    )
    print("answers: " + ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items(), key=str)))
    print(f"500s: {server_errors}; 503s without Retry-After: {tally.bad_503s}")
    if args.restart:
        print(
            "back (first 200 after the restart command): "
            + (f"{recovery:.1f} s" if recovery is not None else "not within 120 s")
        )
    print(f"healthz afterwards: {health.status_code} {health.text.strip()}")
    return 0 if not lost and not server_errors and health.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
