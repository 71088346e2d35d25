"""manage.py worker: the background worker, started again after a database outage."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from grids.services.worker import run_supervised


class Command(BaseCommand):
    help = (
        "Run the procrastinate worker; when PostgreSQL goes away it is started again with a "
        "backoff instead of exiting (grids/services/worker.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--concurrency", type=int, default=1)
        parser.add_argument(
            "--queues", default="", help="comma-separated queue names (default: every queue)"
        )
        parser.add_argument("--name", default=None)

    def handle(self, *args, concurrency, queues, name, **options):
        run_supervised(
            concurrency=concurrency,
            queues=[q.strip() for q in queues.split(",") if q.strip()] or None,
            name=name,
        )
