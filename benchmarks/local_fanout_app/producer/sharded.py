"""Send TASKS small tasks per run in shards of the construct's producer_shard_size (SHARD_SIZE)."""

import os

from scheduled_tasks_constructs.runtime.sharding import sharded_producer


def count(event, run):
    return int(os.environ["TASKS"])


def tasks(event, run, start, stop):
    for n in range(start, stop):
        yield {"name": f"task-{n}", "n": n}


handler = sharded_producer(count, tasks)
