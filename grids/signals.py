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
# transaction, so nothing points at the wrong grid after the commit. A receiver may return a
# dict of counts of what it moved ({"sensors": n}): a boundary change set reports them.
grid_area_changed = Signal()


def announce(model) -> None:
    """Send data_changed for `model` once the current transaction commits."""
    transaction.on_commit(lambda: data_changed.send(sender=model))


# Sent inside the transaction of a boundary change that retires grids (merged into a
# neighbour, or dropped), with `successors` ({retired grid id: id of the grid taking the
# largest share of its ground, or None}) and `on` (the day they stop). Apps whose rows follow
# a grid rather than a point (open tasks) move them to the successor in the same transaction.
# A receiver may return a dict of counts of what it moved ({"tasks": n}).
grids_retired = Signal()
