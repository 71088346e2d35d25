import posixpath
from pathlib import Path

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files. Not strict: django-leaflet asks for the URL of a
    folder (its marker images), which has no manifest entry; whitenoise serves unhashed
    names too.

    Our ES modules import each other by relative path; those imports are rewritten to the
    hashed names, so a module loaded by a template (hashed) and by an import is one module,
    run once (two copies of live.js would open two event streams)."""

    manifest_strict = False
    support_js_module_import_aggregation = True
    # One pass resolves one level of imports; our module chains are up to five deep.
    max_post_process_passes = 10

    def post_process(self, paths, dry_run=False, **options):
        # Module imports are rewritten to hashed names only in our own scripts: third-party
        # bundles (node_modules, Django's and DRF's admin scripts) contain import()-like text
        # that names no file of ours, and rewriting it fails collectstatic.
        root = Path(settings.BASE_DIR).resolve()
        skip = (root / "node_modules", root / ".venv")
        self._own_scripts = set()
        for name, (storage, path) in paths.items():
            if not name.endswith(".js"):
                continue
            source = Path(storage.path(path)).resolve()
            if source.is_relative_to(root) and not any(source.is_relative_to(s) for s in skip):
                self._own_scripts.add(name)
        yield from super().post_process(paths, dry_run=dry_run, **options)

    def url_converter(self, name, hashed_files, template=None):
        if name.endswith(".js") and name not in getattr(self, "_own_scripts", ()):
            return lambda matchobj: matchobj["matched"]
        convert = super().url_converter(name, hashed_files, template)

        def converter(matchobj):
            # A module naming itself (a usage example in its own comment: the pattern matches
            # comments too) would change its own hash on every pass and never converge.
            url = (matchobj.groupdict().get("url") or "").split("?")[0].split("#")[0]
            if url.startswith(settings.STATIC_URL):
                target = url.removeprefix(settings.STATIC_URL)
            else:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), url))
            if target == name:
                return matchobj["matched"]
            return convert(matchobj)

        return converter
