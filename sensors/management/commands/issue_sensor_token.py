from django.core.management.base import BaseCommand, CommandError

from sensors.models import Gateway, Sensor
from sensors.services.registry import issue_token


class Command(BaseCommand):
    help = (
        "Issue a new token for a gateway (or, with --sensor, one device) and print it once; "
        "the old token stops working."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", help="gateway code (or sensor code with --sensor)")
        parser.add_argument("--sensor", action="store_true", help="the code is a sensor's")

    def handle(self, *args, **o):
        model = Sensor if o["sensor"] else Gateway
        holder = model.objects.filter(code=o["code"]).first()
        if holder is None:
            raise CommandError(f"no {model._meta.verbose_name} {o['code']!r}")
        self.stdout.write(issue_token(holder))
