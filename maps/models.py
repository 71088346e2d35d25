from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _


class TileVersion(models.Model):
    """The version of a layer's tiles, raised whenever data behind it changes. It lives in the
    database, so every web process agrees on it; tiles are cached under their version, so a
    raised version makes every cached tile of the layer unreachable at once."""

    layer = models.CharField(_("layer"), max_length=50, primary_key=True)
    version = models.PositiveBigIntegerField(_("version"), default=1)

    class Meta:
        verbose_name = _("tile version")
        verbose_name_plural = _("tile versions")

    def __str__(self) -> str:
        return f"{self.layer} v{self.version}"

    @classmethod
    def current(cls, layer: str) -> int:
        return cls.objects.filter(layer=layer).values_list("version", flat=True).first() or 1

    @classmethod
    def bump(cls, layers: list[str]) -> None:
        for name in layers:
            updated = cls.objects.filter(layer=name).update(version=F("version") + 1)
            if not updated:
                cls.objects.get_or_create(layer=name, defaults={"version": 2})


class RevokedHolder(models.Model):
    """A holder of signed tile URLs whose cached tiles the fast path (maps.fastpath) must not
    serve any more: a deactivated user ("<id>"), a revoked kiosk ("k<id>"), or a user moved
    out of a jurisdiction ("<id>@<scope key>"), until every URL issued to it has expired. In
    the database, not the cache: the cache evicts and restarts empty, and a forgotten
    revocation would hand cached tiles to someone signed out for hours."""

    name = models.CharField(_("holder"), max_length=200, primary_key=True)
    until = models.DateTimeField(_("until"), db_index=True)

    class Meta:
        verbose_name = _("revoked tile holder")
        verbose_name_plural = _("revoked tile holders")

    def __str__(self) -> str:
        return f"{self.name} until {self.until:%Y-%m-%d %H:%M}"
