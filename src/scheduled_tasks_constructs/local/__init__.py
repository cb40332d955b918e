"""Local tooling: run a CDK app's schedules on this machine before deploying.

Nothing here does I/O at import time, and nothing here imports ``aws_cdk``:
apps are synthesized in a process of their own and read back as a cloud
assembly. The schedule arithmetic is the core module
:mod:`scheduled_tasks_constructs.schedule_expressions`, which the constructs
use too; the constructs import nothing from this package.

Modules
-------
cli
    The ``scheduled-tasks`` command: ``run``, ``next`` and ``main``.
cdk_app
    Finds a CDK app, synthesizes it as the CDK CLI does and loads its assembly.
assembly
    Reads a cloud assembly: templates, assets and the constructs' metadata.
resources
    Makes a template's tables, queues, secrets ... on the local endpoint.
planning
    Reads one construct's schedule, functions and event source mapping.
construct_kinds
    What differs per construct kind, one strategy each.
scheduler
    EventBridge Scheduler emulated: fire times, target input, async invokes.
event_source_mapping
    An SQS event source mapping emulated: receive, deliver, delete.
runner
    Runs every scheduled construct of an app against a local AWS endpoint.
reporting
    What a run reports, per construct and per app, and its progress line.
history
    Reads a run ledger; its runs as a table, a text chart or JSON.
lambda_local
    Runs a synthesized function the way Lambda runs it, one process per
    warm execution environment.
lambda_endpoint
    The Lambda ``Invoke`` API the functions call (a function invoking itself
    or another): the caller role's permission, Lambda's queue of asynchronous
    invocations and their retries.
event_filter
    An event source mapping's ``FilterCriteria`` for SQS records.
endpoint
    The embedded moto server, endpoint checks and a local webhook sink.
moto_speedups
    Keeps moto's SQS fast as a queue fills.
"""
