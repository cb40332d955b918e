"""Do nothing with each task."""

from scheduled_tasks_constructs.runtime.worker import Task, task_handler


@task_handler
def handler(task: Task) -> None:
    return None
