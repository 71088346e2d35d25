"""Settings of the web and worker processes that tests/test_restart.py starts: the
project's, plus the test's job (tests/restart_jobs.py)."""

from config.settings import *  # noqa: F403

PROCRASTINATE_IMPORT_PATHS = ["tests.restart_jobs"]
# The users of the test's fixtures are saved with the suite's fast hasher (tests/conftest.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
