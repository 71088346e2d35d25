"""Roll-ups: per-grid figures from the stored grid key against a spatial join in geopandas."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.data import CURRENT_GRIDS_SQL
from bench.harness import Case, CheckFailed, log

# The households household_figures() counts today: existing on the date (models.py).
HOUSEHOLDS_SQL = """
SELECT id, member_count, ST_X(location), ST_Y(location)
FROM grids_household
WHERE registered_on <= %(on)s AND (removed_on IS NULL OR removed_on > %(on)s)
ORDER BY id
"""


class RollupVsGeopandas(Case):
    name = "rollup_vs_geopandas"
    description = (
        "Households and members (sum of member_count) per grid for all grids of the full demo "
        "(1,000,000 households, 988 grids). Ours: grids.services.stats.household_figures(), "
        "a GROUP BY on the grid key stored on every household. Reference: geopandas with the "
        "household points and the current grid polygons already in memory (loading not "
        "timed): gpd.sjoin(points, grids, predicate='within') and a groupby count/sum."
    )
    ours_label = "household_figures() (GROUP BY stored grid key)"
    reference_label = "geopandas sjoin within + groupby (data in memory)"
    target = 0.1
    repeats = 7
    warmup = True

    def setup(self) -> None:
        import geopandas as gpd
        import shapely
        from django.db import connection

        from grids.models import today

        self.on = today()
        with connection.cursor() as cursor:
            cursor.execute(HOUSEHOLDS_SQL, {"on": self.on})
            rows = np.array(cursor.fetchall(), dtype=float)
            cursor.execute(CURRENT_GRIDS_SQL)
            grids = cursor.fetchall()
        self.points = gpd.GeoDataFrame(
            {
                "household_id": rows[:, 0].astype(np.int64),
                "member_count": rows[:, 1].astype(np.int64),
            },
            geometry=shapely.points(rows[:, 2], rows[:, 3]),
            crs="EPSG:4326",
        )
        self.grids = gpd.GeoDataFrame(
            {"grid_id": [g[0] for g in grids], "code": [g[1] for g in grids]},
            geometry=shapely.from_wkb([bytes(g[2]) for g in grids]),
            crs="EPSG:4326",
        )
        log(f"{self.name}: {len(self.points):,} points and {len(self.grids)} grids in memory")

    def ours(self):
        from grids.services.stats import household_figures

        return household_figures()

    def reference(self):
        import geopandas as gpd

        joined = gpd.sjoin(self.points, self.grids, predicate="within", how="inner")
        return joined.groupby("grid_id").agg(
            households=("household_id", "size"), members=("member_count", "sum")
        )

    def check(self, ours, reference) -> dict:
        """Same households and members in every grid. A household exactly on a shared edge
        is within no grid for geopandas but belongs to the smallest code for us: such
        households are found and accounted for; any other difference fails the case."""
        import shapely

        grid_ids = self.grids["grid_id"].to_numpy()
        ours_n = np.array([ours[g].households if g in ours else 0 for g in grid_ids])
        ours_m = np.array([ours[g].residents if g in ours else 0 for g in grid_ids])
        ref = reference.reindex(grid_ids, fill_value=0)
        ref_n = ref["households"].to_numpy()
        ref_m = ref["members"].to_numpy()
        unassigned_ours = ours[None].households if None in ours else 0
        matched = int(ref_n.sum())
        unmatched_ref = len(self.points) - matched
        details = {
            "grids": len(grid_ids),
            "households": len(self.points),
            "in_a_grid_ours": int(ours_n.sum()),
            "in_a_grid_reference": matched,
            "in_no_grid_ours": int(unassigned_ours),
            "in_no_grid_reference": int(unmatched_ref),
        }
        differ = (ours_n != ref_n) | (ours_m != ref_m)
        edge_households = 0
        if differ.any() or unassigned_ours != unmatched_ref:
            # Households within no polygon for geopandas that touch one (on an edge).
            joined = pd.Index(
                self.points.sjoin(self.grids, predicate="within")["household_id"].unique()
            )
            outside = self.points[~self.points["household_id"].isin(joined)]
            tree = shapely.STRtree(self.grids.geometry.values)
            pairs = tree.query(outside.geometry.values, predicate="intersects")
            codes = self.grids["code"].to_numpy()
            first = (
                pd.DataFrame({"p": pairs[0], "g": pairs[1], "code": codes[pairs[1]]})
                .sort_values(["p", "code"])
                .drop_duplicates("p")
            )
            edge_households = len(first)
            adjusted_n = ref_n.copy()
            adjusted_m = ref_m.copy()
            members = outside["member_count"].to_numpy()
            np.add.at(adjusted_n, first["g"].to_numpy(), 1)
            np.add.at(adjusted_m, first["g"].to_numpy(), members[first["p"].to_numpy()])
            still = (ours_n != adjusted_n) | (ours_m != adjusted_m)
            details["grids_differing_before_edges"] = int(differ.sum())
            if still.any():
                bad = np.flatnonzero(still)[:10]
                sample = {
                    str(codes[i]): {
                        "ours": [int(ours_n[i]), int(ours_m[i])],
                        "reference": [int(ref_n[i]), int(ref_m[i])],
                    }
                    for i in bad
                }
                raise CheckFailed(
                    f"{int(still.sum())} grids differ beyond households on edges, e.g. {sample}"
                )
        if unassigned_ours != unmatched_ref - edge_households:
            raise CheckFailed(
                f"{unassigned_ours} households in no grid for us, {unmatched_ref} within no "
                f"grid for geopandas of which {edge_households} lie on an edge"
            )
        details["households_on_edges"] = int(edge_households)
        details["identical"] = not differ.any()
        log(
            f"{self.name}: check ok, {len(grid_ids)} grids agree "
            f"({edge_households} households on edges)"
        )
        return details

    def teardown(self) -> None:
        self.points = self.grids = None


CASES = [RollupVsGeopandas]
