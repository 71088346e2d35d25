from django.core.management.base import BaseCommand

from grids.models import User
from grids.services import demo


class Command(BaseCommand):
    help = "Print the demo users, their roles and jurisdictions, and the demo password."

    def handle(self, *args, **options):
        users = {
            u.username: u
            for u in User.objects.filter(username__in=demo.DEMO_USERS).select_related(
                "region", "grid", "department"
            )
        }
        if not users:
            self.stdout.write("No demo users: run `manage.py demo` first.")
            return
        self.stdout.write(f"Demo logins (password for all: {demo.demo_password()}):")
        for name in demo.DEMO_USERS:
            user = users.get(name)
            if user is None:
                continue
            where = user.grid or user.region or user.department
            if where is None and user.role == "provider":
                # The reverse of needs.Provider.users: grids does not import needs for it.
                where = ", ".join(str(p) for p in user.providers.all()) or "—"
            where = where or "whole platform"
            self.stdout.write(f"  {name:<12} {user.get_role_display():<12} {where}")
