"""The "run task" function of the serverless task scheduler example.

Each SQS message is one task; :func:`run` does it and returns a line of text.
``task_handler`` reports failed messages so only they are retried, and posts
each result to Slack or Discord when the stack has a webhook secret.
"""

# [readme:worker]
from tabulate import tabulate

from scheduled_tasks_constructs.runtime.worker import Task, task_handler


def run(task: Task) -> str:
    """Do one task and describe its result."""
    job = task.payload
    kind = job["kind"]
    if kind == "total":
        return f"{job['name']}: total {sum(job['values'])} over {len(job['values'])} entries"
    if kind == "table":
        return f"{job['name']}:\n" + tabulate(job["rows"], headers=["item", "count"])
    if kind == "below":
        low = [row for row in job["rows"] if row[1] < job["limit"]]
        return f"{job['name']}: {len(low)} below {job['limit']}: " + ", ".join(r[0] for r in low)
    raise ValueError(f"unknown task kind {kind!r} in task {task.task_id}")


handler = task_handler(run, post_results=True)
# [/readme:worker]
