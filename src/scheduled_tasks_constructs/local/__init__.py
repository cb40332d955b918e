"""Local tooling for scheduled-tasks schedules: pure Python, no AWS calls.

Nothing here imports ``aws_cdk`` or does any I/O at import time.

Modules
-------
schedule
    Parses and validates EventBridge Scheduler expressions (``rate(...)``,
    ``cron(...)``, ``at(...)``) and computes their fire times in a time zone.
"""
