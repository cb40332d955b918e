"""The AlarmWebhook handler: SNS alarm notifications posted to a real local webhook."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from scheduled_tasks_constructs.runtime import alarm_notifier
from scheduled_tasks_constructs.runtime.caches import reset_caches
from scheduled_tasks_constructs.runtime.events import MalformedEventError
from scheduled_tasks_constructs.runtime.webhook import WebhookError

ALARM = {
    "AlarmName": "Jobs-DeadLetterAlarm",
    "AlarmDescription": "Failed tasks are waiting in a dead-letter queue",
    "NewStateValue": "ALARM",
    "NewStateReason": "Threshold Crossed: 1 datapoint [3.0] was >= 1.0",
}


def sns_event(*messages: tuple[str, str | None]) -> dict[str, Any]:
    return {
        "Records": [
            {"EventSource": "aws:sns", "Sns": {"Message": message, "Subject": subject}}
            for message, subject in messages
        ]
    }


@pytest.fixture
def notifier_env(
    lambda_env: pytest.MonkeyPatch, secretsmanager: Any, httpserver: HTTPServer
) -> Iterator[pytest.MonkeyPatch]:
    # GIVEN the webhook URL in a secret, as AlarmWebhook configures it
    url = httpserver.url_for("/api/webhooks/1/abc")
    arn = secretsmanager.create_secret(Name=f"hook-{uuid.uuid4().hex}", SecretString=url)["ARN"]
    lambda_env.setenv("WEBHOOK_SECRET_ARN", arn)
    lambda_env.setenv("WEBHOOK_KIND", "discord")
    reset_caches()
    yield lambda_env
    reset_caches()


def test_alarm_and_plain_messages_are_posted(httpserver: HTTPServer, notifier_env: Any) -> None:
    httpserver.expect_request("/api/webhooks/1/abc", method="POST").respond_with_data("", status=204)

    # WHEN one SNS delivery carries an alarm and a plain message
    result = alarm_notifier.handler(
        sns_event((json.dumps(ALARM), "ALARM: Jobs-DeadLetterAlarm"), ("deployed v2", "Note")), None
    )

    # THEN both are posted as Discord messages, the alarm as one readable line
    assert result == {"posted": 2}
    bodies = [json.loads(request.get_data()) for request, _ in httpserver.log]
    assert bodies == [
        {
            "content": "ALARM: Jobs-DeadLetterAlarm - Failed tasks are waiting in a dead-letter "
            "queue (Threshold Crossed: 1 datapoint [3.0] was >= 1.0)"
        },
        {"content": "Note: deployed v2"},
    ]


def test_a_failed_post_raises_so_lambda_retries(httpserver: HTTPServer, notifier_env: Any) -> None:
    httpserver.expect_request("/api/webhooks/1/abc", method="POST").respond_with_data("no", status=500)
    with pytest.raises(WebhookError) as caught:
        alarm_notifier.handler(sns_event((json.dumps(ALARM), None)), None)
    assert "127.0.0.1" not in str(caught.value)


@pytest.mark.parametrize("event", [None, {}, {"Records": [{"Sns": {}}]}, {"Records": "x"}])
def test_malformed_events_are_rejected(event: Any, notifier_env: Any) -> None:
    with pytest.raises(MalformedEventError):
        alarm_notifier.handler(event, None)


def test_a_rotated_url_is_read_again_when_the_old_one_is_rejected(
    httpserver: HTTPServer, notifier_env: pytest.MonkeyPatch, secretsmanager: Any
) -> None:
    # GIVEN a warm function that has posted once, then a rotated secret and a revoked old URL
    httpserver.expect_request("/api/webhooks/1/abc", method="POST").respond_with_data("", status=204)
    alarm_notifier.handler(sns_event(("first", None)), None)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/api/webhooks/1/abc", method="POST").respond_with_data("", status=404)
    httpserver.expect_request("/api/webhooks/2/new", method="POST").respond_with_data("", status=204)
    secretsmanager.put_secret_value(
        SecretId=os.environ["WEBHOOK_SECRET_ARN"], SecretString=httpserver.url_for("/api/webhooks/2/new")
    )

    # WHEN the next notification arrives
    result = alarm_notifier.handler(sns_event(("second", None)), None)

    # THEN it is posted to the new URL, and the secret was read twice in all
    assert result == {"posted": 1}
    posted = [(request.path, json.loads(request.get_data())) for request, _ in httpserver.log]
    assert posted == [
        ("/api/webhooks/1/abc", {"content": "first"}),
        ("/api/webhooks/1/abc", {"content": "second"}),
        ("/api/webhooks/2/new", {"content": "second"}),
    ]
    assert alarm_notifier._webhook_urls.reads == 2
