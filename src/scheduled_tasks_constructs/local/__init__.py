"""Local tooling: run a CDK app's schedules on this machine before deploying.

Nothing here does I/O at import time; ``schedule`` imports only the standard
library.

Modules
-------
schedule
    Parses and validates EventBridge Scheduler expressions (``rate(...)``,
    ``cron(...)``, ``at(...)``) and computes their fire times in a time zone.
cli
    The ``scheduled-tasks`` command: ``run``, ``next`` and ``main``.
runner
    Runs every scheduled construct of an app against a local AWS endpoint.
cdk_app
    Finds and synthesizes a CDK app in-process and reads its constructs.
lambda_local
    A Lambda-like context and one isolated "container" per function.
endpoint
    The embedded moto server, endpoint checks and a local webhook sink.
"""
