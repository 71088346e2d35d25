from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files. Not strict: django-leaflet asks for the URL of a
    folder (its marker images), which has no manifest entry; whitenoise serves unhashed
    names too."""

    manifest_strict = False
