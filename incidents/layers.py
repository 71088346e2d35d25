"""The incidents layers of the command-centre map (registered from IncidentsConfig.ready)."""
