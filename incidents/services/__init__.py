"""The incidents app's work: reporting, the closed loop's transitions, the clocks, metrics,
and tasks with visits. Views and commands call these; nothing else writes incidents."""

from incidents.services.reporting import Report, report_incident

__all__ = ["Report", "report_incident"]
