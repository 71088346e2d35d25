from django.core.management.base import BaseCommand, CommandError

from boundaries.services import validation
from boundaries.services.regrid import import_layout
from grids.management.importing import parse_date
from grids.models import Region, User
from grids.problems import ProblemsError


class Command(BaseCommand):
    help = (
        "Import a complete new grid layout for a community or a street (GeoPackage, GeoJSON, "
        "Shapefile, KML) as a draft change set: file codes of current grids reshape them, new "
        "codes make new grids, current grids missing from the file are retired. Prints the "
        "change set's id and its validation; nothing changes until it is approved and applied."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--region", required=True, help="code of the community or street")
        parser.add_argument("--user", required=True, help="username of the change set's author")
        parser.add_argument("--title", help="title of the change set (default: the file's name)")
        parser.add_argument("--code-field", default="code", help="column of the grid code")
        parser.add_argument("--name-field", default="name", help="column of the grid name")
        parser.add_argument("--layer", help="layer of a multi-layer file")
        parser.add_argument(
            "--crs",
            help="coordinate system of the file when it is missing or wrong: EPSG code, "
            "CGCS2000, GCJ-02 or BD-09",
        )
        parser.add_argument("--valid-from", help="first day of the new grids (YYYY-MM-DD)")

    def handle(self, *args, **o):
        region = Region.objects.current().filter(code=o["region"]).first()
        if region is None:
            raise CommandError(f"no current region with code {o['region']}")
        user = User.objects.filter(username=o["user"]).first()
        if user is None:
            raise CommandError(f"no user {o['user']}")
        try:
            change_set = import_layout(
                user=user,
                region=region,
                path=o["path"],
                title=o["title"] or f"re-gridding from {o['path'].rsplit('/', 1)[-1]}",
                code_field=o["code_field"],
                name_field=o["name_field"],
                layer=o["layer"],
                crs=o["crs"],
                valid_from=parse_date(o["valid_from"]),
            )
        except ProblemsError as refused:
            for problem in refused.problems:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(refused.problems)} problem(s); nothing was written"
            ) from refused
        problems = validation.validate(change_set)
        for problem in problems:
            stream = self.stderr if problem.severity == "error" else self.stdout
            stream.write(str(problem))
        counts = validation.summary(problems)
        items = change_set.items
        new, retired = items.new_grids().count(), items.retiring().count()
        reshaped = items.count() - new - retired
        self.stdout.write(
            self.style.SUCCESS(
                f"change set {change_set.pk}: {reshaped} reshaped, {new} new, "
                f"{retired} retired; validation: {counts['errors']} errors, "
                f"{counts['warnings']} warnings"
            )
        )
