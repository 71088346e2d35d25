import dataclasses
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from grids.management.progress import TqdmProgress
from grids.services import demo


class Command(BaseCommand):
    help = "Build the demo district (Yongchuan: 23 streets/towns, 300 communities, 988 grids)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            default="small",
            help="small (50,000 households, default), full (1,000,000) or a number",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when the demo district is already there",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first remove all regions, grids, households and users",
        )

    def handle(self, *args, scale, if_empty, reset, **options):
        if scale not in demo.SCALES and not scale.isdigit():
            raise CommandError("--scale must be small, full or a number of households")
        if reset:
            demo.reset()
        elif demo.exists():
            if if_empty:
                self.stdout.write("The demo district is already loaded.")
                return
            raise CommandError("The demo district exists; use --reset to rebuild it.")
        progress = TqdmProgress()
        scale = scale if scale in demo.SCALES else int(scale)
        result = demo.build(scale, progress=progress)
        demo.vacuum()
        # The other apps' demo data (incidents, tasks...), through their app configs: the
        # foundation does not import them.
        extra = []
        for config in apps.get_app_configs():
            if hasattr(config, "build_demo"):
                start = time.perf_counter()
                built = config.build_demo(scale, progress)
                if dataclasses.is_dataclass(built):
                    counts = ", ".join(
                        f"{value:,} {name.replace('_', ' ')}"
                        for name, value in dataclasses.asdict(built).items()
                    )
                    extra.append(
                        f" {config.verbose_name}: {counts} ({time.perf_counter() - start:.0f} s)."
                    )
        demo.vacuum_all()
        progress.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo district built ({result.outline} outline): {result.streets} streets/towns, "
                f"{result.communities} communities, {result.grids} grids, {result.households:,} "
                f"households ({result.flagged} outside every grid, flagged), {result.residents:,} "
                f"residents, {result.users:,} users." + "".join(extra)
            )
        )
