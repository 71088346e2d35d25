from django.core.management.base import BaseCommand

from incidents.services import clocks, metrics


class Command(BaseCommand):
    help = (
        "Run the incident clocks once (mark overdue steps, escalate, notify), as the worker "
        "does every minute; with --colours also recolour the grids (three-colour rule)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--colours", action="store_true", help="also recolour the grids")

    def handle(self, *args, colours, **options):
        run = clocks.mark_overdue()
        self.stdout.write(
            f"overdue: {run.overdue}, escalated: {run.escalated}, people told: {run.notified}"
        )
        if colours:
            changed = metrics.update_grid_colours()
            self.stdout.write(f"grid colours changed: {changed or 'none'}")
