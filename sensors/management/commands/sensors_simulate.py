from django.core.management.base import BaseCommand

from sensors.services import simulator


class Command(BaseCommand):
    help = (
        "One round of the demo gateways' heartbeats and readings (GRIDLINE_DEMO_SIMULATOR must "
        "be on); the worker repeats it every few minutes."
    )

    def handle(self, *args, **options):
        sent = simulator.simulate()
        self.stdout.write(f"demo gateways: {sent:,} rows sent")
