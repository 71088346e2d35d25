import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Cached composite tiles with a valid signed URL are answered before Django's middleware
# (no session read): imported after the set-up above, which it needs.
from maps.fastpath import FastTiles  # noqa: E402

application = FastTiles(application)
