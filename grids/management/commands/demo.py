import dataclasses
import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from grids.management.progress import TqdmProgress
from grids.services import demo, demo_basedata


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
            help="do nothing when the demo district is already there (but give a demo built "
            "before them its 一标三实, as --basedata-only does)",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="first remove all regions, grids, households and users",
        )
        parser.add_argument(
            "--basedata-only",
            action="store_true",
            help="give a demo built before its 一标三实: (re)generate buildings, standard "
            "addresses and units, link households, set residents' registration, relation and "
            "tags; nothing else changes",
        )

    def handle(self, *args, scale, if_empty, reset, basedata_only, **options):
        if scale not in demo.SCALES and not scale.isdigit():
            raise CommandError("--scale must be small, full or a number of households")
        if basedata_only:
            if reset:
                raise CommandError("--basedata-only adds to a demo there: not with --reset")
            if not demo.exists():
                raise CommandError("No demo district here: build it first (manage.py demo).")
            self._basedata_only()
            return
        if reset:
            demo.reset()
        elif demo.exists():
            if if_empty:
                self.stdout.write("The demo district is already loaded.")
                # A demo built before the 一标三实 existed gets them (./gridline up runs this).
                if demo_basedata.missing():
                    self._basedata_only()
                self._apps_missing()
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
        basedata = result.basedata
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo district built ({result.outline} outline): {result.streets} streets/towns, "
                f"{result.communities} communities, {result.grids} grids, {result.households:,} "
                f"households ({result.flagged} outside every grid, flagged), {result.residents:,} "
                f"residents, {basedata.buildings:,} buildings, {basedata.addresses:,} standard "
                f"addresses, {basedata.units:,} units, {result.users:,} users." + "".join(extra)
            )
        )

    def _apps_missing(self):
        """An app added after the demo was built (needs and services, #20) gives the demo its
        part: an AppConfig with `demo_missing()` true has `build_demo` run on the district that
        is there, so `./gridline up` on an existing database brings it up to date."""
        for config in apps.get_app_configs():
            missing = getattr(config, "demo_missing", None)
            if missing is None or not missing():
                continue
            progress = TqdmProgress()
            start = time.perf_counter()
            built = config.build_demo(demo.current_scale(), progress)
            progress.close()
            counts = ""
            if dataclasses.is_dataclass(built):
                counts = ": " + ", ".join(
                    f"{value:,} {name.replace('_', ' ')}"
                    for name, value in dataclasses.asdict(built).items()
                )
            self.stdout.write(
                f"{config.verbose_name} added to the demo{counts} "
                f"({time.perf_counter() - start:.0f} s)."
            )

    def _basedata_only(self):
        progress = TqdmProgress()
        start = time.perf_counter()
        result = demo_basedata.add_to_existing(progress=progress)
        written = time.perf_counter() - start
        demo.vacuum()
        progress.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"一标三实 added: {result.buildings:,} buildings, {result.addresses:,} standard "
                f"addresses, {result.units:,} units; {result.households_linked:,} households "
                f"linked, {result.residents_updated:,} residents updated ({written:.0f} s: "
                + ", ".join(f"{stage} {s:.0f} s" for stage, s in result.seconds.items())
                + f"; then {time.perf_counter() - start - written:.0f} s of VACUUM ANALYZE)."
            )
        )
