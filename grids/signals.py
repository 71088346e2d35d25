"""What the core tells other apps, without importing them.

`data_changed` is sent after a write commits, with the model class as sender. Apps that
keep derived state (map tiles, report indicators) connect to it in their AppConfig.ready().
"""

from django.db import transaction
from django.dispatch import Signal

data_changed = Signal()

# Sent inside the transaction that changes governance grid boundaries, with `area` (EWKB of
# the ground whose grid may have changed) and `on` (the day the new boundaries start).
# Apps that key their own points to grids (sensors) re-key those in the area, in the same
# transaction, so nothing points at the wrong grid after the commit.
grid_area_changed = Signal()


def announce(model) -> None:
    """Send data_changed for `model` once the current transaction commits."""
    transaction.on_commit(lambda: data_changed.send(sender=model))
