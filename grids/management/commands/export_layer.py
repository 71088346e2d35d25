from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grids.management.importing import parse_date
from grids.models import User
from grids.services.exports import FORMATS, LAYERS, UnknownLayer, export_layer


class Command(BaseCommand):
    help = "Export a layer to GeoPackage, GeoJSON or zipped Shapefile, as a user would see it."

    def add_arguments(self, parser):
        parser.add_argument("layer", choices=LAYERS)
        parser.add_argument("--format", default="gpkg", choices=list(FORMATS))
        parser.add_argument("--user", required=True, help="export what this user may see")
        parser.add_argument("--on", help="boundaries valid on this date (YYYY-MM-DD)")
        parser.add_argument("--output", "-o", help="file to write (default: a name in .)")

    def handle(self, *args, layer, format, user, on, output, **options):
        try:
            account = User.objects.get(username=user)
        except User.DoesNotExist as exc:
            raise CommandError(f"no user {user!r}") from exc
        try:
            result = export_layer(account, layer, format, parse_date(on))
        except UnknownLayer as exc:
            raise CommandError(str(exc)) from exc
        target = Path(output or result.filename)
        target.write_bytes(result.content)
        self.stdout.write(f"{result.features:,} features written to {target}")
