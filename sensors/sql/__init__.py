"""The raw SQL of the sensors app, in one place (one module per area): what the ORM cannot
express (partition maintenance, bulk ingest through arrays, distances in metres on the
spheroid on SRID 4326 columns, geometry unions per grid). Every value is a parameter;
identifiers come from code, never from input."""
