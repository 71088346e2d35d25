from field.models.devices import Device
from field.models.outbox import OutboxReceipt
from field.models.patrols import Patrol, PatrolIncident, TaskCompletion

__all__ = ["Device", "OutboxReceipt", "Patrol", "PatrolIncident", "TaskCompletion"]
