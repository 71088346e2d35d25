"""The platform's domain rules and limits (tolerances, deadlines, request limits, dates, the
three-colour rule, ledgers, sensors), each from the environment with its documented default
(README.md). Split out of config/settings.py, which imports every name here."""

from __future__ import annotations

import datetime as dt
import json
import os

from config.env import env_bool, env_float

# Integrity of the jurisdiction tree, in metres (decision 3 and issue #2).
GRIDLINE_OVERLAP_TOLERANCE_M = env_float("GRIDLINE_OVERLAP_TOLERANCE_M", 0.5)
GRIDLINE_CONTAINMENT_TOLERANCE_M = env_float("GRIDLINE_CONTAINMENT_TOLERANCE_M", 0.5)
# Boundary change sets (issue #7): how long a draft stays locked to its author after each
# edit or extension; the smallest area a grid may have; overlaps, gaps and bits outside the
# community smaller than GRIDLINE_SLIVER_M2 are rounding, not problems.
GRIDLINE_CHANGESET_LOCK_HOURS = env_float("GRIDLINE_CHANGESET_LOCK_HOURS", 24.0)
GRIDLINE_GRID_MIN_AREA_M2 = env_float("GRIDLINE_GRID_MIN_AREA_M2", 2000.0)
GRIDLINE_SLIVER_M2 = env_float("GRIDLINE_SLIVER_M2", 1.0)
# Imported points farther than this from the district are reported as far outside.
GRIDLINE_OUTSIDE_DISTRICT_M = env_float("GRIDLINE_OUTSIDE_DISTRICT_M", 2000.0)
# An incident reported this close to another grid's edge asks the reporter to confirm its grid.
GRIDLINE_INCIDENT_EDGE_M = env_float("GRIDLINE_INCIDENT_EDGE_M", 30.0)
# Hours allowed for each step when an incident category names none (its own table wins).
GRIDLINE_STEP_HOURS = {
    "register": 2,
    "dispatch": 4,
    "acknowledge": 4,
    "feed_back": 72,
    "verify": 24,
    "close": 24,
}
# Possible duplicates: the same category this close and this recent.
GRIDLINE_DUPLICATE_M = env_float("GRIDLINE_DUPLICATE_M", 50.0)
GRIDLINE_DUPLICATE_DAYS = env_float("GRIDLINE_DUPLICATE_DAYS", 7.0)
# Photos: images only (checked by decoding them), at most this size each.
GRIDLINE_PHOTO_MAX_MB = env_float("GRIDLINE_PHOTO_MAX_MB", 10.0)
# Request limits (grids/limits.py), checked before a body is parsed: the largest body of a
# JSON or form request and of an upload (multipart: photos, spreadsheets, boundary and sensor
# files), in MB, answered 413 beyond; how deeply JSON may nest, answered 400 beyond (GeoJSON
# needs 7 levels, a FeatureCollection of multipolygons with properties about 10).
GRIDLINE_BODY_MAX_MB = env_float("GRIDLINE_BODY_MAX_MB", 10.0)
GRIDLINE_UPLOAD_MAX_MB = env_float("GRIDLINE_UPLOAD_MAX_MB", 100.0)
GRIDLINE_JSON_MAX_DEPTH = int(os.environ.get("GRIDLINE_JSON_MAX_DEPTH", "32"))
# Django's own limit on the non-file part of a body, kept in line with the one above.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(GRIDLINE_BODY_MAX_MB * 1024 * 1024)
# ... and at most this many megapixels, read from the header before anything is decoded (a
# small PNG can declare 100000 x 100000 px). 50 MP holds every phone's default photo.
GRIDLINE_PHOTO_MAX_MEGAPIXELS = env_float("GRIDLINE_PHOTO_MAX_MEGAPIXELS", 50.0)
# Dates and times a client sends (grids.timestamps): none before this date (nothing on the
# platform is older; reporting periods start in its year), none later than now plus this
# clock skew in seconds (a phone's clock runs a little ahead).
GRIDLINE_EARLIEST_DATE = dt.date.fromisoformat(
    os.environ.get("GRIDLINE_EARLIEST_DATE") or "2000-01-01"
)
GRIDLINE_CLOCK_SKEW_SECONDS = env_float("GRIDLINE_CLOCK_SKEW_SECONDS", 300.0)
# A visit recorded farther than this from the household is flagged.
GRIDLINE_VISIT_DISTANCE_M = env_float("GRIDLINE_VISIT_DISTANCE_M", 200.0)
# The three-colour rule (三色管理) for grids, from their incidents over the last `days`:
# red when any red threshold is crossed, yellow for any yellow one, else blue. Rates are
# shares (0-1); satisfaction is the mean 1-5 score; a grid with fewer than `min_incidents`
# closed keeps blue unless its overdue-open count alone crosses a threshold.
GRIDLINE_COLOUR_RULE = json.loads(
    os.environ.get(
        "GRIDLINE_COLOUR_RULE",
        json.dumps(
            {
                "days": 30,
                "min_incidents": 3,
                "red": {"on_time_rate_below": 0.6, "satisfaction_below": 3.0, "overdue_open": 5},
                "yellow": {
                    "on_time_rate_below": 0.85,
                    "satisfaction_below": 4.0,
                    "overdue_open": 1,
                },
            }
        ),
    )
)

# 一表通 ledgers: without a template saying otherwise, a period's ledger is due on this day of
# the month after it and locks this many days later; Excel forms brought in are at most this
# large.
GRIDLINE_LEDGER_DUE_DAY = int(os.environ.get("GRIDLINE_LEDGER_DUE_DAY", "5"))
GRIDLINE_LEDGER_GRACE_DAYS = int(os.environ.get("GRIDLINE_LEDGER_GRACE_DAYS", "3"))
GRIDLINE_FORM_MAX_MB = env_float("GRIDLINE_FORM_MAX_MB", 5.0)

# Sensors (issue #6). Silence (seconds) after which a device counts as offline, unless its
# type sets its own; how long readings are kept (whole monthly partitions are dropped);
# how far ahead of the server's clock a reading may be stamped; rows per ingest request.
GRIDLINE_SENSOR_OFFLINE_AFTER = int(os.environ.get("GRIDLINE_SENSOR_OFFLINE_AFTER", "900"))
GRIDLINE_READINGS_RETENTION_DAYS = int(os.environ.get("GRIDLINE_READINGS_RETENTION_DAYS", "400"))
GRIDLINE_READINGS_FUTURE_SECONDS = int(os.environ.get("GRIDLINE_READINGS_FUTURE_SECONDS", "300"))
GRIDLINE_INGEST_MAX_ROWS = int(os.environ.get("GRIDLINE_INGEST_MAX_ROWS", "5000"))
# A fire water tank whose reported level (%) falls below this raises a low-level alert.
GRIDLINE_TANK_LOW_PCT = env_float("GRIDLINE_TANK_LOW_PCT", 30.0)
# Camera analytics alerts of one kind within this many minutes and metres are one incident.
GRIDLINE_ALERT_DEDUP_MINUTES = int(os.environ.get("GRIDLINE_ALERT_DEDUP_MINUTES", "10"))
GRIDLINE_ALERT_DEDUP_METRES = env_float("GRIDLINE_ALERT_DEDUP_METRES", 300.0)
# One-key broadcast: "log" (writes to the log, for the demo) or "mqtt" (a real broker; the
# run command starts Debian's Mosquitto on 127.0.0.1 when the URL points there).
GRIDLINE_BROADCAST_GATEWAY = os.environ.get("GRIDLINE_BROADCAST_GATEWAY", "log")
GRIDLINE_MQTT_URL = os.environ.get("GRIDLINE_MQTT_URL", "mqtt://127.0.0.1:1883")
GRIDLINE_MQTT_TOPIC_PREFIX = os.environ.get("GRIDLINE_MQTT_TOPIC_PREFIX", "gridline")
GRIDLINE_BROADCAST_MAX_ATTEMPTS = int(os.environ.get("GRIDLINE_BROADCAST_MAX_ATTEMPTS", "6"))
# The demo's gateways send heartbeats and readings every few minutes (sensors/services/
# simulator.py); `./gridline up` turns it on when it serves the demo.
GRIDLINE_DEMO_SIMULATOR = env_bool("GRIDLINE_DEMO_SIMULATOR", False)

# The field app (issue #18): a patrol's GPS fixes less accurate than this are left out of the
# track and its distance (a phone indoors reports fixes hundreds of metres off).
GRIDLINE_PATROL_MAX_ACCURACY_M = env_float("GRIDLINE_PATROL_MAX_ACCURACY_M", 100.0)
# A phone's device token lasts this long after its last sync (each sync slides it), so a
# worker logs in once per phone, and a phone left in a drawer stops working by itself.
GRIDLINE_DEVICE_TOKEN_DAYS = env_float("GRIDLINE_DEVICE_TOKEN_DAYS", 180.0)

# Needs and services (issue #20). The public form (a QR on a grid's notice board) takes no
# login and no CAPTCHA (closed networks): each address may send this many needs, and as many
# 双报到 registrations, an hour and a day; every public need is reviewed before anyone sees it.
GRIDLINE_NEEDS_PUBLIC_PER_HOUR = int(os.environ.get("GRIDLINE_NEEDS_PUBLIC_PER_HOUR", "5"))
GRIDLINE_NEEDS_PUBLIC_PER_DAY = int(os.environ.get("GRIDLINE_NEEDS_PUBLIC_PER_DAY", "20"))
GRIDLINE_NEEDS_PHOTOS_MAX = int(os.environ.get("GRIDLINE_NEEDS_PHOTOS_MAX", "3"))
# A provider answers a dispatch (接单 or 退单) within this many hours, or is reminded once and
# the community is told.
GRIDLINE_NEEDS_ACCEPT_HOURS = env_float("GRIDLINE_NEEDS_ACCEPT_HOURS", 48.0)
# Open needs of the same kind within this distance (30 days) are offered as duplicates to merge.
GRIDLINE_NEEDS_DUPLICATE_M = env_float("GRIDLINE_NEEDS_DUPLICATE_M", 100.0)
