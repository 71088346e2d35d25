import time

from django.core.management.base import BaseCommand, CommandError

from grids.management.progress import TqdmProgress
from grids.services import demo as grids_demo
from sensors.services import demo


class Command(BaseCommand):
    help = (
        "(Re)build the demo's sensors on the existing demo district: the forest street's 1,657 "
        "cameras, 73 voice poles and 58 water tanks, and urban devices to 20,000 (small) or "
        "500,000 (full) in all. Prints the demo gateways' new tokens once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            default="small",
            help="small (20,000 devices), full (500,000) or a number "
            "of households the district is built for (1,000,000 households: full)",
        )

    def handle(self, *args, scale, **options):
        if scale not in demo.TOTALS and not scale.isdigit():
            raise CommandError("--scale must be small, full or a number of households")
        if not grids_demo.exists():
            raise CommandError("There is no demo district: run `manage.py demo` first.")
        tokens: dict[str, str] = {}
        progress = TqdmProgress()
        start = time.perf_counter()
        result = demo.build(scale if scale in demo.TOTALS else int(scale), progress, tokens=tokens)
        demo.analyse()
        progress.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo sensors built in {time.perf_counter() - start:.0f} s: {result.sensors:,} "
                f"sensors ({result.cameras:,} cameras of which {result.forest_cameras:,} in "
                f"{demo.FOREST_STREET}, {result.voice_poles:,} voice poles, {result.water_tanks:,} "
                f"water tanks, {result.detectors:,} detectors), {result.readings:,} readings."
            )
        )
        self.stdout.write("Gateway tokens (shown once, not stored):")
        for code, token in tokens.items():
            self.stdout.write(f"  {code}: {token}")
