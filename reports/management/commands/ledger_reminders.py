import datetime as dt

from django.core.management.base import BaseCommand

from reports.services import completeness


class Command(BaseCommand):
    help = (
        "Send the ledger reminders once (before due dates and overdue), as the worker does "
        "each morning. Each template, unit, period and kind is reminded only once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--on", type=dt.date.fromisoformat, help="as if today were YYYY-MM-DD")

    def handle(self, *args, on, **options):
        sent = completeness.remind(on)
        self.stdout.write(
            f"reminded before the due date: {sent['before']}, overdue: {sent['overdue']}"
        )
