"""Handler of ``AlarmWebhook``: posts CloudWatch alarm notifications to Slack or Discord.

The function is subscribed to an alarm topic. Each SNS record carries a
CloudWatch alarm state change as JSON; the handler posts one line per record,
such as ``ALARM: Jobs-DeadLetterAlarm - Failed tasks are waiting in a
dead-letter queue (Threshold Crossed: 1 datapoint ...)``. A message that is not
an alarm is posted as its subject and text. A failed post raises, so Lambda
retries the notification.

Bundled handler string: ``scheduled_tasks_constructs.runtime.alarm_notifier.handler``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import WEBHOOK_KIND, WEBHOOK_SECRET_ARN, _aws
from .events import MalformedEventError
from .webhook import _post_to_secret_url, _read_secret_url, _SecretUrlCache


def describe(message: str, subject: str | None = None) -> str:
    """One line of text for an SNS message (a CloudWatch alarm or anything else).

    Parameters
    ----------
    message : str
        The SNS message body.
    subject : str or None, optional
        The SNS subject, used when the body is not an alarm.

    Returns
    -------
    str
        ``"<state>: <alarm name> - <description> (<reason>)"`` for an alarm.

    Examples
    --------
    >>> describe('{"AlarmName": "Jobs-Errors", "NewStateValue": "ALARM", '
    ...          '"AlarmDescription": "The worker reported errors", "NewStateReason": "1 error"}')
    'ALARM: Jobs-Errors - The worker reported errors (1 error)'
    >>> describe("hello", "Note")
    'Note: hello'
    """
    try:
        alarm = json.loads(message)
    except ValueError:
        alarm = None
    if isinstance(alarm, dict) and "AlarmName" in alarm:
        text = f"{alarm.get('NewStateValue', '?')}: {alarm['AlarmName']}"
        if alarm.get("AlarmDescription"):
            text += f" - {alarm['AlarmDescription']}"
        if alarm.get("NewStateReason"):
            text += f" ({alarm['NewStateReason']})"
        return text
    return f"{subject}: {message}" if subject else message


#: Webhook URLs of this container, each read again after ``WEBHOOK_URL_MAX_AGE_SECONDS``.
_webhook_urls = _SecretUrlCache(_read_secret_url)


def handler(event: Any, context: Any) -> dict[str, int]:
    """Post every SNS record of ``event`` to the webhook; return how many were posted.

    Raises
    ------
    MalformedEventError
        If the event is not an SNS event.
    scheduled_tasks_constructs.runtime.webhook.WebhookError
        If a post fails (Lambda then retries the notification).
    """
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise MalformedEventError("event must be an SNS event with a list of Records")
    secret_id = _aws.required_env(WEBHOOK_SECRET_ARN)
    kind = os.environ.get(WEBHOOK_KIND) or None
    posted = 0
    for record in records:
        sns = record.get("Sns") if isinstance(record, dict) else None
        if not isinstance(sns, dict) or not isinstance(sns.get("Message"), str):
            raise MalformedEventError("every record must carry an Sns.Message string")
        _post_to_secret_url(
            _webhook_urls, secret_id, describe(sns["Message"], sns.get("Subject")), kind=kind
        )
        posted += 1
    return {"posted": posted}
