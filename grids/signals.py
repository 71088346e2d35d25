"""What the core tells other apps, without importing them.

`data_changed` is sent after a write commits, with the model class as sender. Apps that
keep derived state (map tiles, report indicators) connect to it in their AppConfig.ready().
"""

from django.db import transaction
from django.dispatch import Signal

data_changed = Signal()


def announce(model) -> None:
    """Send data_changed for `model` once the current transaction commits."""
    transaction.on_commit(lambda: data_changed.send(sender=model))
