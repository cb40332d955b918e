"""Webhook posting against a local HTTP server, secrets on moto."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from scheduled_tasks_constructs.runtime import worker
from scheduled_tasks_constructs.runtime.caches import reset_caches
from scheduled_tasks_constructs.runtime.webhook import (
    DISCORD_MAX_CONTENT,
    REVOKED_URL_STATUSES,
    WEBHOOK_URL_MAX_AGE_SECONDS,
    WebhookError,
    build_payload,
    detect_kind,
    post_result,
    webhook_url_from_secret,
)
from scheduled_tasks_constructs.runtime.worker import Task, task_handler

SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
DISCORD_URL = "https://discord.com/api/webhooks/123456/abcdef"


def received_json(httpserver: HTTPServer, path: str) -> list[Any]:
    return [json.loads(request.get_data()) for request, _ in httpserver.log if request.path == path]


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (SLACK_URL, "slack"),
        ("https://HOOKS.SLACK.COM/services/a", "slack"),
        (DISCORD_URL, "discord"),
        ("https://discordapp.com/api/webhooks/1/x", "discord"),
        ("https://ptb.discord.com/api/webhooks/1/x", "discord"),
    ],
)
def test_detect_kind(url: str, kind: str) -> None:
    assert detect_kind(url) == kind


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/hook-secret-token",
        "https://discord.com/channels/hook-secret-token",
        "ftp://hooks.slack.com/hook-secret-token",
        "hook-secret-token",
    ],
)
def test_detect_kind_rejects_other_urls_without_echoing_them(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        detect_kind(url)

    assert "hook-secret-token" not in str(caught.value)
    assert "set the kind explicitly" in str(caught.value)


def test_build_payload() -> None:
    assert build_payload("slack", "hello") == {"text": "hello"}
    assert build_payload("discord", "hello") == {"content": "hello"}


def test_discord_content_is_cut_to_2000_characters() -> None:
    exact = "x" * DISCORD_MAX_CONTENT
    assert build_payload("discord", exact) == {"content": exact}

    content = build_payload("discord", "y" * 5_000)["content"]
    assert len(content) == 2_000
    assert content == "y" * 1_999 + "\u2026"


def test_build_payload_rejects_unknown_kind_and_non_text() -> None:
    with pytest.raises(ValueError, match="^kind must be one of slack, discord, got 'teams'$"):
        build_payload("teams", "x")
    with pytest.raises(TypeError, match="^text must be a string, got dict$"):
        build_payload("slack", {"a": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("slack", {"text": "run 7: 12 rows"}), ("discord", {"content": "run 7: 12 rows"})],
)
def test_post_result_sends_exact_json(
    httpserver: HTTPServer, kind: str, expected: dict[str, str]
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok", status=200)

    status = post_result(httpserver.url_for("/hook"), "run 7: 12 rows", kind=kind)

    assert status == 200
    assert received_json(httpserver, "/hook") == [expected]
    (request,) = [request for request, _ in httpserver.log if request.path == "/hook"]
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"


def test_discord_204_is_success(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("", status=204)

    assert post_result(httpserver.url_for("/hook"), "x", kind="discord") == 204


@pytest.mark.parametrize("status", [400, 404, 429, 500])
def test_non_2xx_raises_without_the_url(httpserver: HTTPServer, status: int) -> None:
    httpserver.expect_request("/secret-token-path").respond_with_data("nope", status=status)
    url = httpserver.url_for("/secret-token-path")

    with pytest.raises(WebhookError) as caught:
        post_result(url, "x", kind="slack")

    assert str(caught.value) == f"webhook returned HTTP {status}"
    assert caught.value.status == status
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connection_refused_raises_without_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/secret-token-path"

    with pytest.raises(WebhookError) as caught:
        post_result(url, "x", kind="slack")

    message = str(caught.value)
    assert message == "webhook request failed: ConnectionRefusedError (Connection refused)"
    assert "secret-token-path" not in message and "127.0.0.1" not in message


def test_timeout_raises_without_the_url(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response("late")

    httpserver.expect_request("/secret-token-path").respond_with_handler(slow)

    try:
        with pytest.raises(WebhookError) as caught:
            post_result(httpserver.url_for("/secret-token-path"), "x", kind="slack", timeout=0.1)
    finally:
        release.set()

    assert str(caught.value).startswith("webhook request failed: ")
    assert "secret-token-path" not in str(caught.value)


def test_a_redirect_is_not_followed_and_is_a_failure(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/secret-token-path").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/landing")}
    )
    httpserver.expect_request("/landing").respond_with_data("welcome", status=200)

    with pytest.raises(WebhookError) as caught:
        post_result(httpserver.url_for("/secret-token-path"), "x", kind="slack")

    assert str(caught.value) == "webhook returned HTTP 302"
    assert caught.value.status == 302
    assert [request.path for request, _ in httpserver.log if request.path == "/landing"] == []


@pytest.fixture
def dripping_server() -> Iterator[str]:
    """A server on 127.0.0.1 that answers one byte every 50 ms, for a minute."""
    stop = threading.Event()
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(5)

    def serve() -> None:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            connection.recv(65536)
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000
            for byte in answer:
                if stop.wait(0.05):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/secret-token-path"
    stop.set()
    server.close()
    thread.join(5)


def test_a_server_that_drips_bytes_is_cut_off_at_the_timeout(dripping_server: str) -> None:
    started = time.monotonic()

    with pytest.raises(WebhookError) as caught:
        post_result(dripping_server, "x", kind="slack", timeout=0.5)

    assert time.monotonic() - started < 2
    assert str(caught.value) == "webhook request failed: no complete response within 0.5 s"


def chain(exc: BaseException | None) -> list[BaseException]:
    found: list[BaseException] = []
    while exc is not None and exc not in found:
        found.append(exc)
        exc = exc.__cause__ or exc.__context__
    return found


@pytest.mark.parametrize("case", ["status", "refused", "timeout", "malformed"])
def test_the_url_is_not_reachable_from_the_exception_chain(
    httpserver: HTTPServer, dripping_server: str, case: str
) -> None:
    httpserver.expect_request("/secret-token-path").respond_with_data("no", status=500)
    urls = {
        "status": httpserver.url_for("/secret-token-path"),
        "refused": f"http://127.0.0.1:{free_port()}/secret-token-path",
        "timeout": dripping_server,  # a local server that never completes its answer
        "malformed": "http://127.0.0.1:99999/secret-token-path",
    }

    with pytest.raises(WebhookError) as caught:
        post_result(urls[case], "x", kind="slack", timeout=0.3)

    assert chain(caught.value) == [caught.value]
    assert "secret-token-path" not in repr(caught.value.args)


def test_post_result_rejects_non_http_urls() -> None:
    with pytest.raises(ValueError, match="^webhook URL must start with https:// or http://$"):
        post_result("file:///etc/passwd", "x", kind="slack")


def test_post_result_detects_kind_when_not_given() -> None:
    # A local URL cannot be detected: the kind is needed, and the URL not echoed.
    with pytest.raises(ValueError) as caught:
        post_result("http://127.0.0.1:9/hook-secret-token", "x")

    assert "hook-secret-token" not in str(caught.value)


# Secrets Manager


def make_secret(secretsmanager: Any, value: str) -> str:
    response = secretsmanager.create_secret(
        Name=f"webhook-{uuid.uuid4().hex[:12]}", SecretString=value
    )
    return response["ARN"]


@pytest.mark.parametrize(
    "value",
    [
        SLACK_URL,
        f"  {SLACK_URL}\n",
        json.dumps({"url": SLACK_URL}),
        json.dumps({"url": SLACK_URL, "kind": "slack"}),
    ],
)
def test_webhook_url_from_secret(secretsmanager: Any, value: str) -> None:
    arn = make_secret(secretsmanager, value)

    assert webhook_url_from_secret(arn, client=secretsmanager) == SLACK_URL


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '{"link": "https://hooks.slack.com/x-secret"}',
            'the webhook secret JSON has no string "url" field',
        ),
        ('{"url": "https://hooks.slack.com/x-secret"', "the webhook secret is not valid JSON"),
        ("hooks.slack.com/x-secret", "the webhook secret does not hold an http(s) URL"),
        ('{"url": "x-secret"}', "the webhook secret does not hold an http(s) URL"),
    ],
)
def test_bad_secret_values_raise_without_the_value(
    secretsmanager: Any, value: str, message: str
) -> None:
    arn = make_secret(secretsmanager, value)

    with pytest.raises(ValueError) as caught:
        webhook_url_from_secret(arn, client=secretsmanager)

    assert str(caught.value) == message


def test_binary_secret_is_rejected(secretsmanager: Any) -> None:
    arn = secretsmanager.create_secret(
        Name=f"bin-{uuid.uuid4().hex[:12]}", SecretBinary=b"\x00\x01"
    )["ARN"]

    with pytest.raises(ValueError, match="^the webhook secret has no string value$"):
        webhook_url_from_secret(arn, client=secretsmanager)


# task_handler(post_results=True)


@pytest.fixture
def posting_env(lambda_env: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    reset_caches()
    yield lambda_env
    reset_caches()


def sqs_record(message_id: str, task_id: str, payload: Any) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "body": json.dumps(
            {"task_id": task_id, "execution_id": "e", "scheduled_time": None, "task": payload}
        ),
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tasks",
    }


def test_task_handler_posts_each_result(
    httpserver: HTTPServer, secretsmanager: Any, posting_env: pytest.MonkeyPatch
) -> None:
    # GIVEN the webhook URL in a secret, as the construct configures it
    httpserver.expect_request("/services/T/B/X", method="POST").respond_with_data("ok")
    arn = make_secret(secretsmanager, json.dumps({"url": httpserver.url_for("/services/T/B/X")}))
    posting_env.setenv("WEBHOOK_SECRET_ARN", arn)
    posting_env.setenv("WEBHOOK_KIND", "slack")

    @task_handler(post_results=True)
    def handler(task: Task) -> Any:
        return task.payload["result"]

    # WHEN two batches run: a text, a dict and a None result
    first = handler({"Records": [sqs_record("m-1", "e/1", {"result": "report ready"})]}, None)
    second = handler(
        {
            "Records": [
                sqs_record("m-2", "e/2", {"result": {"rows": 12, "table": "sales"}}),
                sqs_record("m-3", "e/3", {"result": None}),
            ]
        },
        None,
    )

    # THEN the two non-None results were posted, and the secret was read once
    assert first == second == {"batchItemFailures": []}
    assert received_json(httpserver, "/services/T/B/X") == [
        {"text": "report ready"},
        {"text": '{"rows": 12, "table": "sales"}'},
    ]
    assert worker._webhook_urls.reads == 1


def test_a_post_that_keeps_failing_is_logged_and_does_not_fail_the_task(
    httpserver: HTTPServer,
    secretsmanager: Any,
    posting_env: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a webhook that answers 500 every time
    httpserver.expect_request("/api/webhooks/1/secret-token").respond_with_data("down", status=500)
    arn = make_secret(secretsmanager, httpserver.url_for("/api/webhooks/1/secret-token"))
    posting_env.setenv("WEBHOOK_SECRET_ARN", arn)
    posting_env.setenv("WEBHOOK_KIND", "discord")
    posting_env.setattr(worker, "_POST_RETRY_DELAYS", (0.0, 0.0))
    runs: list[str] = []

    def work(task: Task) -> str:
        runs.append(task.task_id)
        return "done"

    handler = task_handler(work, post_results=True)

    # WHEN a task whose work succeeds runs
    with caplog.at_level("WARNING"):
        response = handler({"Records": [sqs_record("m-1", "e/1", {})]}, None)

    # THEN the post was tried three times, the task is not failed, and the error names the task
    assert response == {"batchItemFailures": []}
    assert runs == ["e/1"]
    assert received_json(httpserver, "/api/webhooks/1/secret-token") == [{"content": "done"}] * 3
    errors = [entry.getMessage() for entry in caplog.records if entry.levelname == "ERROR"]
    assert errors == [
        "task e/1 (message m-1) succeeded but its result was not reported: "
        "WebhookError: webhook returned HTTP 500",
        "1 of 1 results in the batch were not reported",
    ]
    assert "secret-token" not in caplog.text and "127.0.0.1" not in caplog.text


def test_a_post_to_an_unreachable_url_does_not_fail_the_task(
    secretsmanager: Any, posting_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    arn = make_secret(secretsmanager, f"http://127.0.0.1:{free_port()}/api/webhooks/1/secret-token")
    posting_env.setenv("WEBHOOK_SECRET_ARN", arn)
    posting_env.setenv("WEBHOOK_KIND", "slack")
    posting_env.setattr(worker, "_POST_RETRY_DELAYS", (0.0, 0.0))
    handler = task_handler(lambda task: "done", post_results=True)

    with caplog.at_level("ERROR"):
        response = handler(
            {"Records": [sqs_record("m-1", "e/1", {}), sqs_record("m-2", "e/2", {})]}, None
        )

    assert response == {"batchItemFailures": []}
    assert [entry.getMessage() for entry in caplog.records] == [
        "task e/1 (message m-1) succeeded but its result was not reported: "
        "WebhookError: webhook request failed: ConnectionRefusedError (Connection refused)",
        "task e/2 (message m-2) succeeded but its result was not reported: "
        "WebhookError: webhook request failed: ConnectionRefusedError (Connection refused)",
        "2 of 2 results in the batch were not reported",
    ]
    assert "secret-token" not in caplog.text and "127.0.0.1" not in caplog.text


def test_a_rejected_post_is_not_retried(
    httpserver: HTTPServer, secretsmanager: Any, posting_env: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/hook").respond_with_data("gone", status=404)
    arn = make_secret(secretsmanager, httpserver.url_for("/hook"))
    posting_env.setenv("WEBHOOK_SECRET_ARN", arn)
    posting_env.setenv("WEBHOOK_KIND", "slack")
    posting_env.setattr(worker, "_POST_RETRY_DELAYS", (0.0, 0.0))
    handler = task_handler(lambda task: "done", post_results=True)

    response = handler({"Records": [sqs_record("m-1", "e/1", {})]}, None)

    assert response == {"batchItemFailures": []}
    assert received_json(httpserver, "/hook") == [{"text": "done"}]


def test_post_results_without_secret_only_warns(
    posting_env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    posting_env.delenv("WEBHOOK_SECRET_ARN", raising=False)
    handler = task_handler(lambda task: "done", post_results=True)

    with caplog.at_level("WARNING"):
        response = handler({"Records": [sqs_record("m-1", "e/1", {})]}, None)

    assert response == {"batchItemFailures": []}
    assert "WEBHOOK_SECRET_ARN is not set" in caplog.text


def test_unknown_webhook_kind_is_a_configuration_error(posting_env: pytest.MonkeyPatch) -> None:
    posting_env.setenv(
        "WEBHOOK_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x"
    )
    posting_env.setenv("WEBHOOK_KIND", "teams")
    handler = task_handler(lambda task: "done", post_results=True)

    with pytest.raises(
        RuntimeError, match="^environment variable WEBHOOK_KIND must be slack or discord$"
    ):
        handler({"Records": []}, None)


# A rotated webhook secret


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(posting_env: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    posting_env.setattr(worker._webhook_urls, "clock", fake)
    return fake


def rotating_handler(
    httpserver: HTTPServer, secretsmanager: Any, posting_env: pytest.MonkeyPatch
) -> tuple[Any, Callable[[str], None]]:
    arn = make_secret(secretsmanager, httpserver.url_for("/hook/old"))
    posting_env.setenv("WEBHOOK_SECRET_ARN", arn)
    posting_env.setenv("WEBHOOK_KIND", "slack")
    posting_env.setattr(worker, "_POST_RETRY_DELAYS", (0.0, 0.0))

    def rotate(path: str) -> None:
        secretsmanager.put_secret_value(SecretId=arn, SecretString=httpserver.url_for(path))

    return task_handler(lambda task: task.task_id, post_results=True), rotate


def test_a_rotated_url_is_used_once_the_cached_one_is_too_old(
    httpserver: HTTPServer,
    secretsmanager: Any,
    posting_env: pytest.MonkeyPatch,
    clock: FakeClock,
) -> None:
    # GIVEN a warm container that has posted to the old URL, and the secret then rotated
    httpserver.expect_request("/hook/old", method="POST").respond_with_data("ok")
    httpserver.expect_request("/hook/new", method="POST").respond_with_data("ok")
    handler, rotate = rotating_handler(httpserver, secretsmanager, posting_env)
    handler({"Records": [sqs_record("m-1", "e/1", {})]}, None)
    rotate("/hook/new")

    # WHEN a task runs just within the cache age, and another one just after it
    clock.now += WEBHOOK_URL_MAX_AGE_SECONDS - 1
    handler({"Records": [sqs_record("m-2", "e/2", {})]}, None)
    clock.now += 1
    handler({"Records": [sqs_record("m-3", "e/3", {})]}, None)

    # THEN the first still goes to the old URL, the second to the new one
    assert received_json(httpserver, "/hook/old") == [{"text": "e/1"}, {"text": "e/2"}]
    assert received_json(httpserver, "/hook/new") == [{"text": "e/3"}]
    assert worker._webhook_urls.reads == 2


@pytest.mark.parametrize("status", sorted(REVOKED_URL_STATUSES))
def test_a_revoked_url_makes_the_secret_be_read_again_and_the_post_sent_once_more(
    httpserver: HTTPServer,
    secretsmanager: Any,
    posting_env: pytest.MonkeyPatch,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    status: int,
) -> None:
    # GIVEN a cached URL that the webhook now rejects, and a new URL in the secret
    httpserver.expect_request("/hook/old", method="POST").respond_with_data("ok")
    handler, rotate = rotating_handler(httpserver, secretsmanager, posting_env)
    handler({"Records": [sqs_record("m-1", "e/1", {})]}, None)
    httpserver.clear_all_handlers()
    httpserver.expect_request("/hook/old", method="POST").respond_with_data("no", status=status)
    httpserver.expect_request("/hook/new", method="POST").respond_with_data("ok")
    rotate("/hook/new")

    # WHEN a task runs well within the cache age
    clock.now += 1
    with caplog.at_level("WARNING"):
        response = handler({"Records": [sqs_record("m-2", "e/2", {})]}, None)

    # THEN the old URL was tried once, the secret read again, and the result posted to the new URL
    assert response == {"batchItemFailures": []}
    assert received_json(httpserver, "/hook/old") == [{"text": "e/1"}, {"text": "e/2"}]
    assert received_json(httpserver, "/hook/new") == [{"text": "e/2"}]
    assert worker._webhook_urls.reads == 2
    assert [entry for entry in caplog.records if entry.name == worker.__name__] == []


def test_a_revoked_url_still_in_the_secret_is_posted_to_only_once(
    httpserver: HTTPServer,
    secretsmanager: Any,
    posting_env: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a webhook that rejects the URL, which the secret still holds
    httpserver.expect_request("/hook/old", method="POST").respond_with_data("no", status=403)
    handler, _ = rotating_handler(httpserver, secretsmanager, posting_env)

    # WHEN a task runs
    with caplog.at_level("ERROR"):
        response = handler({"Records": [sqs_record("m-1", "e/1", {})]}, None)

    # THEN the secret was read twice, the post sent once, and the rejection logged
    assert response == {"batchItemFailures": []}
    assert received_json(httpserver, "/hook/old") == [{"text": "e/1"}]
    assert worker._webhook_urls.reads == 2
    assert caplog.records[0].getMessage() == (
        "task e/1 (message m-1) succeeded but its result was not reported: "
        "WebhookError: webhook returned HTTP 403"
    )
