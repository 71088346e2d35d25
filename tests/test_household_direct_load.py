"""The households' direct bulk path (points keyed in Python, COPY straight into the table):
a key written by another transaction after the "already there" check falls back to the
staged path, which skips it, and rows without a key get keys like the model's."""

from __future__ import annotations

import pandas as pd

from grids import sql
from grids.models import Household
from grids.services import households
from grids.services.imports import load_households
from tests.conftest import centre_of


def _table(points, keys):
    return pd.DataFrame(
        {
            "row": range(1, len(points) + 1),
            "address": [f"直接{i}号" for i in range(len(points))],
            "lon": [p.x for p in points],
            "lat": [p.y for p in points],
            "client_key": keys,
        }
    )


def test_a_key_written_after_the_check_falls_back_to_the_staged_path(tree, monkeypatch):
    grid = next(iter(tree.grids.values()))
    point = centre_of(grid)
    households.create_household(address="先到1号", location=point, client_key="k-1")
    # As if k-1 were committed by another import between the check and the COPY.
    monkeypatch.setattr(
        sql.households,
        "PRESENT_KEYS",
        "SELECT k.key FROM household_given_key k WHERE false",
    )
    report = load_households(_table([point, point], ["k-1", "k-2"]), commit=True)
    assert report.errors == []
    assert (report.written, report.skipped_existing) == (1, 1)
    assert Household.objects.get(client_key="k-2").grid == grid
    assert Household.objects.get(client_key="k-1").address == "先到1号"


def test_rows_without_a_key_get_model_like_keys_and_their_grid(tree):
    grid = next(iter(tree.grids.values()))
    point = centre_of(grid)
    report = load_households(_table([point] * 3, [None, None, None]), commit=True)
    assert report.written == 3
    made = list(Household.objects.filter(address__startswith="直接"))
    assert {h.grid for h in made} == {grid}
    assert all(len(h.client_key) == 32 and h.client_key[12] == "4" for h in made)
    assert len({h.client_key for h in made}) == 3
    assert all(h.location.srid == 4326 and h.location.equals_exact(point, 1e-12) for h in made)
