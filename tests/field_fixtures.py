"""Fixtures of the field app (issue #18): a grid worker with a device token. Filled by SYNC."""
