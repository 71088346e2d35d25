"""Removing the demo district, and the statistics the planner needs after building it."""

from __future__ import annotations

from django.db import connection

from grids.models import Department, Region

# The foundation's tables the demo fills in bulk: analysed after a build.
BULK_TABLES = (
    "grids_household",
    "grids_resident",
    "grids_gridboundary",
    "grids_building",
    "grids_address",
    "grids_unit",
)


def vacuum() -> None:
    """After a bulk build: statistics for the planner and a visibility map for index-only
    scans (the roll-ups). VACUUM cannot run inside a transaction, so the caller runs it after
    build() has committed."""
    # Inside an enclosing transaction (a test, a caller's atomic block) only ANALYZE can run;
    # autovacuum then builds the visibility map later.
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        for table in BULK_TABLES:
            cursor.execute(f"{command} {table}")


def _other_demo_tables() -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """The tables outside the foundation that hold demo data, from the app registry (the
    foundation imports no other app): a model's rows are demo data when it refers to a
    region, grid, household, resident or user, or to another such model (incidents, their
    events, tasks, visits, notifications, tokens...). A catalogue that refers only to
    departments (incident categories) is kept: its references are returned as (table,
    column) to be cleared instead. So is a catalogue whose only link to demo data is a
    nullable district (sensor types: built in, or a district's own): its rows that name a
    region are returned as (table, column) to be deleted."""
    from django.apps import apps

    models = apps.get_models(include_auto_created=True)
    data = {m for m in models if m._meta.app_label == "grids" and m is not Department}

    def links(model):
        return [
            f
            for f in model._meta.get_fields()
            if f.is_relation and f.many_to_one and f.related_model in data
        ]

    def district_catalogue(model) -> bool:
        found = links(model)
        return bool(found) and all(f.related_model is Region and f.null for f in found)

    changed = True
    while changed:
        changed = False
        for model in models:
            if model in data or model is Department or model._meta.app_label == "grids":
                continue
            if links(model) and not district_catalogue(model):
                data.add(model)
                changed = True
    tables = sorted(m._meta.db_table for m in data if m._meta.app_label != "grids")
    keep = [
        (m._meta.db_table, f.column)
        for m in models
        if m not in data and m._meta.app_label != "grids"
        for f in m._meta.get_fields()
        if f.is_relation and f.many_to_one and f.related_model is Department and f.null
    ]
    own = [
        (m._meta.db_table, f.column)
        for m in models
        if m not in data and m._meta.app_label != "grids" and district_catalogue(m)
        for f in links(m)
    ]
    return tables, keep, own


def vacuum_all() -> None:
    """vacuum() for the foundation's tables and the other apps' demo data."""
    vacuum()
    tables, _, _ = _other_demo_tables()
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {table}")


def reset() -> None:
    """Remove every region, grid, household, resident and non-superuser (the demo's data),
    and the other apps' rows that refer to them (incidents, tasks, visits, notifications),
    keeping their catalogues (incident categories lose their department)."""
    tables, keep, own = _other_demo_tables()
    with connection.cursor() as cursor:
        # Departments and regions are deleted, not truncated: TRUNCATE ... CASCADE empties
        # every table with a foreign key to them, whatever its rows, and the incident
        # catalogue may refer to a department (which refers to its district).
        for table, column in keep:
            cursor.execute(f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL")
        cursor.execute(
            "TRUNCATE grids_resident, grids_householdgridhistory, grids_household, "
            "grids_unitgridhistory, grids_unit, grids_address, grids_buildinggridhistory, "
            "grids_building, "
            "grids_gridboundary, grids_grid_workers, grids_regionboundary, grids_auditlog, "
            "grids_grid, grids_user, grids_user_groups, "
            "grids_user_user_permissions, grids_apitoken, django_admin_log"
            + "".join(f", {t}" for t in tables)
            + " RESTART IDENTITY CASCADE"
        )
        cursor.execute("DELETE FROM grids_department")
        for table, column in own:
            cursor.execute(f"DELETE FROM {table} WHERE {column} IS NOT NULL")
        cursor.execute("DELETE FROM grids_region")
        for table in ("grids_department", "grids_region"):
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), 1, false)", [table])
