from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from boundaries.services import validation
from boundaries.services.regrid import import_layout
from grids.management.importing import ImportCommand, parse_date, problem_line
from grids.models import Region, User
from grids.problems import ProblemsError

CRS_HELP = gettext_lazy(
    "coordinate system of the file when it is missing or wrong: EPSG code, CGCS2000, GCJ-02 "
    "or BD-09"
)


class Command(ImportCommand):
    help = gettext_lazy(
        "Import a complete new grid layout for a community or a street (GeoPackage, GeoJSON, "
        "Shapefile, KML) as a draft change set: file codes of current grids reshape them, new "
        "codes make new grids, current grids missing from the file are retired. Prints the "
        "change set's id and its validation; nothing changes until it is approved and applied."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help=_("the layout file"))
        parser.add_argument("--region", required=True, help=_("code of the community or street"))
        parser.add_argument("--user", required=True, help=_("username of the change set's author"))
        parser.add_argument("--title", help=_("title of the change set (default: the file's name)"))
        parser.add_argument("--code-field", default="code", help=_("column of the grid code"))
        parser.add_argument("--name-field", default="name", help=_("column of the grid name"))
        parser.add_argument("--layer", help=_("layer of a multi-layer file"))
        parser.add_argument("--crs", help=str(CRS_HELP))
        parser.add_argument("--valid-from", help=_("first day of the new grids (YYYY-MM-DD)"))

    def handle(self, *args, **o):
        region = Region.objects.current().filter(code=o["region"]).first()
        if region is None:
            raise CommandError(_("no current region with code %(code)s") % {"code": o["region"]})
        user = User.objects.filter(username=o["user"]).first()
        if user is None:
            raise CommandError(_("no user %(user)s") % {"user": o["user"]})
        try:
            change_set = import_layout(
                user=user,
                region=region,
                path=o["path"],
                title=o["title"]
                or _("re-gridding from %(file)s") % {"file": o["path"].rsplit("/", 1)[-1]},
                code_field=o["code_field"],
                name_field=o["name_field"],
                layer=o["layer"],
                crs=o["crs"],
                valid_from=parse_date(o["valid_from"]),
            )
        except ProblemsError as refused:
            for problem in refused.problems:
                self.stderr.write(problem_line(problem))
            n = len(refused.problems)
            raise CommandError(
                ngettext(
                    "%(n)d problem; nothing was written",
                    "%(n)d problems; nothing was written",
                    n,
                )
                % {"n": n}
            ) from refused
        problems = validation.validate(change_set)
        for problem in problems:
            stream = self.stderr if problem.severity == "error" else self.stdout
            stream.write(problem_line(problem))
        counts = validation.summary(problems)
        items = change_set.items
        new, retired = items.new_grids().count(), items.retiring().count()
        reshaped = items.count() - new - retired
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "change set %(id)s: %(reshaped)d reshaped, %(new)d new, %(retired)d retired; "
                    "validation: %(errors)d errors, %(warnings)d warnings"
                )
                % {
                    "id": change_set.pk,
                    "reshaped": reshaped,
                    "new": new,
                    "retired": retired,
                    "errors": counts["errors"],
                    "warnings": counts["warnings"],
                }
            )
        )
