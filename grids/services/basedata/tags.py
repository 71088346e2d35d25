"""Residents' tags checked against the catalogue held as data (grids.ResidentTagKind): a code
an administrator added yesterday is accepted today, an unknown one is refused by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext as _

from grids.models import ResidentTagKind
from grids.problems import Problem, ProblemsError


class TagCatalogue:
    """The kinds of tag as they stand when it is made: one query, then checks in memory, so
    that an import checks a million rows against one read of the catalogue."""

    def __init__(self, kinds: Iterable[ResidentTagKind] | None = None):
        if kinds is None:
            kinds = ResidentTagKind.objects.all()
        self.kinds = {kind.code: kind for kind in kinds}

    def names(self) -> str:
        """The active kinds for messages: 老年人 (elderly)、残疾人 (disabled) …"""
        return "、".join(
            f"{kind.name} ({code})" for code, kind in self.kinds.items() if kind.active
        )

    def check(
        self,
        tags: Iterable[str],
        levels: Mapping[str, str] | None = None,
        *,
        field: str = "tags",
        row: int | None = None,
        carried: Iterable[str] = (),
    ) -> list[Problem]:
        """Problems with a resident's tags and their levels, each naming the field and the
        value. `carried`: the codes the resident already has; a retired kind may stay on a
        resident who carries it but is not given to anyone new."""
        problems = []
        tags = list(tags)
        carried = set(carried)
        for code in tags:
            kind = self.kinds.get(code)
            if kind is None:
                problems.append(
                    Problem(
                        "unknown_tag",
                        _("no tag has the code %(code)s; the tags are: %(names)s")
                        % {"code": code, "names": self.names()},
                        row=row,
                        field=field,
                        value=str(code),
                    )
                )
            elif not kind.active and code not in carried:
                problems.append(
                    Problem(
                        "retired_tag",
                        _("the tag %(name)s is no longer in use") % {"name": kind.name},
                        row=row,
                        field=field,
                        value=code,
                    )
                )
        if not isinstance(levels or {}, Mapping):
            return [
                *problems,
                Problem(
                    "invalid",
                    _("tag levels are given as {tag code: level}"),
                    row=row,
                    field="tag_levels",
                    value=str(levels)[:200],
                ),
            ]
        for code, level in (levels or {}).items():
            kind = self.kinds.get(code)
            if code not in tags:
                problems.append(
                    Problem(
                        "level_without_tag",
                        _("a level is given for %(code)s, which the resident does not carry")
                        % {"code": code},
                        row=row,
                        field=f"tag_levels.{code}",
                        value=str(level),
                    )
                )
            elif kind is not None and level not in kind.levels:
                problems.append(
                    Problem(
                        "unknown_level",
                        _("%(name)s has no level %(level)s; its levels are: %(levels)s")
                        % {
                            "name": kind.name,
                            "level": level,
                            "levels": "、".join(kind.levels) or _("none"),
                        },
                        row=row,
                        field=f"tag_levels.{code}",
                        value=str(level),
                    )
                )
        return problems

    def clean(
        self, tags: Iterable[str], levels: Mapping[str, str] | None = None, **kwargs
    ) -> tuple[list[str], dict[str, str]]:
        """The tags without repeats, in the order given, and their levels; raises
        ProblemsError naming every bad code and level."""
        tags = list(dict.fromkeys(tags))
        problems = self.check(tags, levels, **kwargs)
        if problems:
            raise ProblemsError(problems)
        return tags, dict(levels or {})


def clean_tags(
    tags: Iterable[str], levels: Mapping[str, str] | None = None, **kwargs
) -> tuple[list[str], dict[str, str]]:
    """One resident's tags checked against the catalogue as it stands now (see
    TagCatalogue.clean); many rows: make one TagCatalogue and call its clean()."""
    return TagCatalogue().clean(tags, levels, **kwargs)
