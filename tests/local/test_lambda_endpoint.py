"""The local Lambda endpoint: a function of the app calling Lambda's ``Invoke`` runs the app's function.

The unit tests talk to a :class:`LambdaEndpoint` with real boto3 Lambda
clients (their ``AWS_ENDPOINT_URL_LAMBDA``, as a function has it) against a
stub backend, or against the real permission check over a minimal cloud
assembly. The end-to-end tests synthesize a small app once per module (a
subprocess, as ``cdk synth`` runs it) whose producer hands parts of each run
to asynchronous invocations of itself, and run it with
:func:`~scheduled_tasks_constructs.local.runner.run_app` on the shared moto
server.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from scheduled_tasks_constructs.local import runner
from scheduled_tasks_constructs.local.assembly import CloudAssembly
from scheduled_tasks_constructs.local.lambda_endpoint import (
    ASYNC_PAYLOAD_LIMIT,
    AppFunctions,
    AsyncInvocationQueue,
    InvokePermissions,
    LambdaBackend,
    LambdaEndpoint,
    LambdaError,
    parse_function_name,
    policy_decision,
)
from scheduled_tasks_constructs.local.lambda_local import Invocation
from scheduled_tasks_constructs.local.resources import ACCOUNT, LocalResources

pytestmark = pytest.mark.xdist_group("lambda-endpoint")

REGION = "us-east-1"
ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:jobs"


# --------------------------------------------------------------------------- a stub backend


class StubBackend(LambdaBackend):
    """One function, ``jobs``; every caller allowed unless ``denied`` says otherwise."""

    def __init__(self, result: Optional[Invocation] = None) -> None:
        self.invoked: List[Tuple[str, Any]] = []
        self.queued: List[Tuple[str, Any]] = []
        self.callers: List[Optional[str]] = []
        self.resources: List[str] = []
        self.denied: Optional[str] = None
        self.result = result or Invocation(request_id="r", ok=True, result={"done": True})

    def function_arn(self, name: str) -> Optional[str]:
        return ARN if name == "jobs" else None

    def authorize(self, caller: Optional[str], resource: str) -> Optional[str]:
        self.callers.append(caller)
        self.resources.append(resource)
        return self.denied

    def invoke(self, name: str, event: Any, request_id: str) -> Invocation:
        self.invoked.append((name, event))
        return self.result

    def enqueue(self, name: str, event: Any, request_id: str) -> None:
        self.queued.append((name, event))


def lambda_client(url: str) -> Any:
    """A Lambda client as a function gets one: ``AWS_ENDPOINT_URL_LAMBDA`` is the endpoint's URL for it."""
    session = boto3.session.Session(
        region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing"
    )
    return session.client("lambda", endpoint_url=url, config=Config(retries={"mode": "standard", "max_attempts": 1}))


@pytest.fixture
def stub() -> Iterator[Tuple[StubBackend, LambdaEndpoint]]:
    backend = StubBackend()
    endpoint = LambdaEndpoint(backend, region=REGION, account=ACCOUNT)
    try:
        yield backend, endpoint
    finally:
        endpoint.close()


def error_of(exc: ClientError) -> Tuple[int, str, str, Dict[str, str]]:
    response = exc.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPHeaders"],
    )


# --------------------------------------------------------------------------- unit tests: the endpoint


def test_botocore_prefers_the_lambda_endpoint_variable_to_the_general_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN both variables, as the runner sets them in every function
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:2/caller/jobs")
    session = botocore.session.Session()
    # WHEN clients are made; THEN Lambda's goes to the Lambda endpoint (its path kept), the others to moto
    make = lambda service: session.create_client(  # noqa: E731
        service, region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b"
    )
    assert make("lambda").meta.endpoint_url == "http://127.0.0.1:2/caller/jobs"
    assert make("sqs").meta.endpoint_url == "http://127.0.0.1:1"


@pytest.mark.parametrize(
    "function_name",
    ["jobs", ARN, f"{ACCOUNT}:function:jobs", "jobs:$LATEST", f"{ARN}:$LATEST"],
)
def test_a_name_a_full_arn_or_a_partial_arn_reach_the_function(stub, function_name: str) -> None:
    backend, endpoint = stub
    # WHEN a function invokes "jobs" asynchronously by any of Lambda's name formats
    response = lambda_client(endpoint.url_for("caller-fn")).invoke(
        FunctionName=function_name, InvocationType="Event", Payload=b'{"part": 1}'
    )
    # THEN 202 at once, the event queued for jobs, the caller named, the permission checked on the ARN
    assert response["StatusCode"] == 202
    assert backend.queued == [("jobs", {"part": 1})]
    assert backend.callers == ["caller-fn"]
    assert backend.resources[0] in (ARN, f"{ARN}:$LATEST")


def test_parse_function_name_reads_every_format_and_refuses_other_accounts() -> None:
    def parse(value: str, qualifier: Optional[str] = None):
        return parse_function_name(value, qualifier, region=REGION, account=ACCOUNT)

    assert parse("jobs").arn == ARN
    assert parse(f"{ACCOUNT}:function:jobs:v2").qualifier == "v2"
    assert parse("jobs", "$LATEST").resource == f"{ARN}:$LATEST"
    with pytest.raises(LambdaError) as other_account:
        parse("arn:aws:lambda:us-east-1:111122223333:function:jobs")
    assert (other_account.value.status, other_account.value.code) == (404, "ResourceNotFoundException")
    with pytest.raises(LambdaError) as conflict:
        parse("jobs:v1", "v2")
    assert conflict.value.code == "InvalidParameterValueException"
    with pytest.raises(LambdaError) as malformed:
        parse("not a name")
    assert malformed.value.status == 400


def test_an_unknown_function_is_resource_not_found_as_boto3_models_it(stub) -> None:
    _, endpoint = stub
    client = lambda_client(endpoint.url_for("caller-fn"))
    # WHEN a function the app does not have is invoked (or a qualifier that does not exist locally)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as missing:
        client.invoke(FunctionName="elsewhere", InvocationType="Event", Payload=b"{}")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="jobs", Qualifier="prod", Payload=b"{}")
    # THEN Lambda's answer: 404, x-amzn-ErrorType and a JSON body with Type and message
    status, code, message, headers = error_of(missing.value)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert message == f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:elsewhere"
    assert missing.value.response["Type"] == "User"


def test_an_async_payload_over_one_megabyte_is_request_too_large(stub) -> None:
    backend, endpoint = stub
    client = lambda_client(endpoint.url_for("caller-fn"))
    exactly = json.dumps({"x": "a" * (ASYNC_PAYLOAD_LIMIT - 9)}).encode()
    assert len(exactly) == ASYNC_PAYLOAD_LIMIT
    # WHEN an Event of exactly the limit, one of a byte more, and a synchronous call of 2 MB are made
    assert client.invoke(FunctionName="jobs", InvocationType="Event", Payload=exactly)["StatusCode"] == 202
    with pytest.raises(client.exceptions.RequestTooLargeException) as too_large:
        client.invoke(FunctionName="jobs", InvocationType="Event", Payload=exactly + b" ")
    synchronous = client.invoke(FunctionName="jobs", Payload=json.dumps({"x": "a" * 2_000_000}).encode())
    # THEN only the asynchronous one over the limit is refused, with 413
    assert error_of(too_large.value)[:2] == (413, "RequestTooLargeException")
    assert synchronous["StatusCode"] == 200
    assert len(backend.queued) == 1


def test_dry_run_checks_and_answers_204_without_running(stub) -> None:
    backend, endpoint = stub
    client = lambda_client(endpoint.url_for("caller-fn"))
    assert client.invoke(FunctionName="jobs", InvocationType="DryRun")["StatusCode"] == 204
    assert backend.invoked == [] and backend.queued == []
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="elsewhere", InvocationType="DryRun")


def test_request_response_returns_the_result(stub) -> None:
    backend, endpoint = stub
    response = lambda_client(endpoint.url_for("caller-fn")).invoke(FunctionName="jobs", Payload=b'{"n": 2}')
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert json.loads(response["Payload"].read()) == {"done": True}
    assert backend.invoked == [("jobs", {"n": 2})]


def test_request_response_of_a_failed_function_carries_the_error_document(stub) -> None:
    backend, endpoint = stub
    backend.result = Invocation(
        request_id="req-1", ok=False, error_type="ValueError", error_message="bad part",
        output="[ERROR] ValueError: bad part\n", stack_trace=['  File "/var/task/index.py", line 3, in handler\n'],
    )
    # WHEN the function raised, with the log tail asked for
    response = lambda_client(endpoint.url_for("caller-fn")).invoke(FunctionName="jobs", Payload=b"{}", LogType="Tail")
    # THEN 200 (the call succeeded), X-Amz-Function-Error: Unhandled, and Lambda's error document
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    document = json.loads(response["Payload"].read())
    assert document["errorType"] == "ValueError"
    assert document["errorMessage"] == "bad part"
    assert document["requestId"] == "req-1"
    assert document["stackTrace"] == ['  File "/var/task/index.py", line 3, in handler\n']
    assert "bad part" in base64.b64decode(response["LogResult"]).decode()


def test_a_payload_that_is_not_json_is_invalid_request_content(stub) -> None:
    _, endpoint = stub
    client = lambda_client(endpoint.url_for("caller-fn"))
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="jobs", InvocationType="Event", Payload=b"{not json")


def test_a_denied_caller_gets_access_denied_before_anything_runs(stub) -> None:
    backend, endpoint = stub
    backend.denied = "User: arn:aws:sts::123456789012:assumed-role/r/caller-fn is not authorized to perform: ..."
    with pytest.raises(ClientError) as denied:
        lambda_client(endpoint.url_for("caller-fn")).invoke(FunctionName="jobs", InvocationType="Event", Payload=b"{}")
    assert error_of(denied.value)[:3] == (403, "AccessDeniedException", backend.denied)
    assert backend.queued == []


def test_other_lambda_operations_are_refused_clearly(stub) -> None:
    _, endpoint = stub
    with pytest.raises(ClientError) as refused:
        lambda_client(endpoint.url_for("caller-fn")).get_function(FunctionName="jobs")
    status, code, message, _ = error_of(refused.value)
    assert (status, code) == (400, "UnknownOperationException")
    assert "Invoke only" in message


# --------------------------------------------------------------------------- unit tests: the permission check


def _function(role: str) -> Dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.13", "Handler": "index.handler", "Role": {"Fn::GetAtt": [role, "Arn"]}},
    }


def _role(**extra: Any) -> Dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}, **extra}}


def _policy(role: str, *statements: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "p",
            "Roles": [{"Ref": role}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": list(statements)},
        },
    }


def _invoke(resource: Any, effect: str = "Allow", action: Any = "lambda:InvokeFunction") -> Dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


TARGET_ARN = {"Fn::GetAtt": ["Target", "Arn"]}


@pytest.fixture
def permissions(tmp_path: Path, write_assembly) -> Callable[..., Tuple[InvokePermissions, AppFunctions]]:
    """The real permission check over an app whose caller ``Caller`` has the given extra resources."""

    def make(**resources: Dict[str, Any]) -> Tuple[InvokePermissions, AppFunctions]:
        folder = tmp_path / f"app-{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        template = {
            "Resources": {
                "Caller": _function("CallerRole"),
                "CallerRole": _role(),
                "Target": _function("TargetRole"),
                "TargetRole": _role(),
                **resources,
            }
        }
        write_assembly(folder, {"App": {"template": template}})
        local = LocalResources(
            CloudAssembly(folder), endpoint="http://127.0.0.1:9", region=REGION, suffix="t1",
            external={"tables": {}, "queues": {}}, webhook_url=lambda stack, key: "",
        )
        return InvokePermissions(local), AppFunctions(local)

    return make


def _check(made: Tuple[InvokePermissions, AppFunctions], qualifier: str = "") -> Optional[str]:
    checker, functions = made
    stack, logical_id, _ = functions.get("App-Caller-t1")
    target = functions.get("App-Target-t1")
    assert target is not None
    return checker.check(stack, logical_id, "App-Caller-t1", target[2] + qualifier)


def test_without_a_grant_the_caller_is_denied_with_iams_message(permissions) -> None:
    message = _check(permissions())
    assert message == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/App-CallerRole-t1/App-Caller-t1 is not authorized to perform: "
        f"lambda:InvokeFunction on resource: arn:aws:lambda:{REGION}:{ACCOUNT}:function:App-Target-t1 "
        "because no identity-based policy allows the lambda:InvokeFunction action"
    )


def test_a_policy_on_the_callers_role_naming_the_target_grants_it(permissions) -> None:
    assert _check(permissions(Grant=_policy("CallerRole", _invoke(TARGET_ARN)))) is None


def test_a_grant_to_another_role_does_not_count(permissions) -> None:
    assert _check(permissions(Grant=_policy("TargetRole", _invoke(TARGET_ARN)))) is not None


def test_the_qualified_arn_wildcard_grants_only_qualified_calls(permissions) -> None:
    # GIVEN only "<arn>:*" (what IAM needs for versions and aliases): the unqualified ARN does not match it
    made = permissions(Grant=_policy("CallerRole", _invoke({"Fn::Join": ["", [TARGET_ARN, ":*"]]})))
    assert _check(made) is not None
    assert _check(made, ":$LATEST") is None


def test_a_wildcard_resource_and_action_grant_it(permissions) -> None:
    assert _check(permissions(Grant=_policy("CallerRole", _invoke("*", action="lambda:*")))) is None


def test_an_inline_policy_of_the_role_grants_it(permissions) -> None:
    role = _role(Policies=[{"PolicyName": "inline", "PolicyDocument": {"Statement": [_invoke(TARGET_ARN)]}}])
    assert _check(permissions(CallerRole=role)) is None


def test_an_aws_managed_policy_known_to_grant_invoke(permissions) -> None:
    role = _role(ManagedPolicyArns=["arn:aws:iam::aws:policy/service-role/AWSLambdaRole"])
    assert _check(permissions(CallerRole=role)) is None
    basic = _role(ManagedPolicyArns=["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"])
    assert _check(permissions(CallerRole=basic)) is not None


def test_an_explicit_deny_wins(permissions) -> None:
    made = permissions(Grant=_policy("CallerRole", _invoke("*"), _invoke(TARGET_ARN, effect="Deny")))
    message = _check(made)
    assert message is not None and message.endswith("with an explicit deny in an identity-based policy")


def test_a_statement_on_other_actions_or_resources_does_not_grant(permissions) -> None:
    made = permissions(
        Queue={"Type": "AWS::SQS::Queue", "Properties": {}},
        Grant=_policy(
            "CallerRole",
            {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": "*"},
            # resolving the queue's ARN would create the queue: the check does not, and it names no function
            _invoke({"Fn::GetAtt": ["Queue", "Arn"]}),
        ),
    )
    assert _check(made) is not None


def test_policy_decision_matches_actions_case_insensitively_and_supports_not_action() -> None:
    assert policy_decision([_invoke(ARN, action="Lambda:invoke*")], "lambda:InvokeFunction", ARN) == "Allow"
    assert policy_decision([{"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}], "lambda:InvokeFunction", ARN) == "Allow"
    assert policy_decision([{"Effect": "Allow", "NotAction": "lambda:*", "Resource": "*"}], "lambda:InvokeFunction", ARN) is None
    assert policy_decision([_invoke(ARN.upper())], "lambda:InvokeFunction", ARN) is None


# --------------------------------------------------------------------------- unit tests: the queue


def test_the_queue_runs_items_a_few_at_a_time_and_waits_for_those_they_queue() -> None:
    running, most, lock = [0], [0], threading.Lock()
    done: List[int] = []

    def run(item: int) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        if item < 3:  # each of the first items queues two more, as a shard planner would
            queue.put("fn", item * 10 + 10, concurrency=2)
            queue.put("fn", item * 10 + 11, concurrency=2)
        with lock:
            running[0] -= 1
            done.append(item)

    queue = AsyncInvocationQueue(run)
    for item in range(3):
        queue.put("fn", item, concurrency=2)
    assert queue.wait(lambda: False) is True
    assert sorted(done) == [0, 1, 2, 10, 11, 20, 21, 30, 31]
    assert most[0] == 2


def test_the_queue_stops_when_out_of_time_and_drops_what_is_left() -> None:
    started, release = threading.Event(), threading.Event()

    def run(item: int) -> None:
        started.set()
        release.wait(5)

    queue = AsyncInvocationQueue(run)
    for item in range(5):
        queue.put("fn", item, concurrency=1)
    assert started.wait(5)
    # WHEN the run is out of time while the first runs; THEN the four still queued are dropped
    assert queue.wait(lambda: True) is False
    assert queue.dropped == 4
    assert queue.put("fn", 9, concurrency=1) is False
    release.set()


def test_the_queue_bounds_a_function_that_keeps_invoking_itself() -> None:
    queue = AsyncInvocationQueue(lambda item: queue.put("fn", item + 1, concurrency=1), max_items=50)
    queue.put("fn", 0, concurrency=1)
    assert queue.wait(lambda: False) is True
    assert queue.dropped == 1


# --------------------------------------------------------------------------- end to end

AFTER = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
PARTS = 3
TASKS_PER_PART = 4

APP = '''
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler

from scheduled_tasks_constructs import RuntimeLayer, ScheduledTaskFanout

app = App()
stack = Stack(app, "SelfInvoke")
hourly = scheduler.ScheduleExpression.rate(Duration.hours(1))
worker = dict(worker_code=lambda_.Code.from_asset("worker"), worker_handler="handler.handler")

# The producer hands each part of a run to an asynchronous invocation of itself; the construct lets its
# role invoke it (producer_self_invoke_policy, as for every producer built from producer_code).
granted = ScheduledTaskFanout(
    stack, "Granted", schedule=hourly, alarms=False, function_retry_attempts=0,
    producer_code=lambda_.Code.from_asset("producer"), producer_handler="handler.handler", **worker,
)
# The same, with part 1 of every run failing: Lambda retries it once, then it goes to the failed runs queue.
failing = ScheduledTaskFanout(
    stack, "FailingPart", schedule=hourly, alarms=False, function_retry_attempts=1,
    producer_code=lambda_.Code.from_asset("producer"), producer_handler="handler.handler",
    producer_environment={"FAIL_PART": "1"}, **worker,
)
# The same, with part 0 of every run taking far longer than the test's time limit.
slow = ScheduledTaskFanout(
    stack, "SlowPart", schedule=hourly, alarms=False, function_retry_attempts=0,
    producer_code=lambda_.Code.from_asset("producer"), producer_handler="handler.handler",
    producer_environment={"SLEEP_PART": "0"}, **worker,
)
# The same producer, brought as a function of the app whose role is given no lambda:InvokeFunction.
ScheduledTaskFanout(
    stack, "Ungranted", schedule=hourly, alarms=False,
    existing_producer=lambda_.Function(
        stack, "UngrantedProducer", runtime=lambda_.Runtime.PYTHON_3_14, handler="handler.handler",
        code=lambda_.Code.from_asset("producer"), layers=[RuntimeLayer.of(stack)], timeout=Duration.seconds(60),
        retry_attempts=0,
    ),
    **worker,
)
app.synth()
'''

FILES = {
    "producer/handler.py": f"""
        import json
        import os
        import time

        import boto3
        from scheduled_tasks_constructs.runtime.events import parse_schedule_input
        from scheduled_tasks_constructs.runtime.fanout import send_tasks

        PARTS = {PARTS}
        TASKS_PER_PART = {TASKS_PER_PART}


        def handler(event, context):
            run = parse_schedule_input(event, fallback_id=context.aws_request_id)
            if "part" not in event:
                # The scheduled invocation: one asynchronous invocation of this function per part.
                client = boto3.client("lambda")
                for part in range(PARTS):
                    payload = {{"part": part, "execution_id": run.execution_id, "scheduled_time": run.scheduled_time}}
                    client.invoke(
                        FunctionName=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
                        InvocationType="Event",
                        Payload=json.dumps(payload).encode(),
                    )
                return {{"parts": PARTS}}
            part = event["part"]
            if str(part) == os.environ.get("SLEEP_PART"):
                time.sleep(60)
            if str(part) == os.environ.get("FAIL_PART"):
                raise RuntimeError(f"part {{part}} fails")
            tasks = [{{"name": f"part{{part}}-task{{n}}"}} for n in range(TASKS_PER_PART)]
            report = send_tasks(os.environ["QUEUE_URL"], tasks, run=run, client=boto3.client("sqs"))
            return {{"part": part, "sent": report.sent}}
    """,
    "worker/handler.py": """
        from scheduled_tasks_constructs.runtime.worker import task_handler


        @task_handler
        def handler(task):
            return task.payload["name"]
    """,
}


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory, synthesize_app: Any) -> CloudAssembly:
    return CloudAssembly(synthesize_app(tmp_path_factory.mktemp("self-invoke-app"), APP, FILES))


def run_report(assembly: CloudAssembly, endpoint: str, name: str, runs: int, **options: Any) -> runner.RunReport:
    entries = [c for c in assembly.scheduled_constructs() if c.path == f"SelfInvoke/{name}"]
    assert len(entries) == 1
    options.setdefault("timeout_seconds", 240)
    run_options = runner.RunOptions(runs=runs, after=AFTER, progress_bar=False, **options)
    return runner.run_app(assembly, entries, endpoint=endpoint, options=run_options)


def run_construct(assembly: CloudAssembly, endpoint: str, name: str, runs: int = 2) -> runner.ConstructReport:
    report = run_report(assembly, endpoint, name, runs)
    assert report.notes == []
    (construct,) = report.constructs
    return construct


def test_a_producer_that_invokes_itself_asynchronously_has_every_part_worked(assembly, moto_server: str) -> None:
    # WHEN two runs fire; each scheduled invocation hands its parts to asynchronous invocations of itself
    report = run_construct(assembly, moto_server, "Granted")
    # THEN every part ran before the run was counted: its tasks were sent and worked off
    per_run = PARTS * TASKS_PER_PART
    assert report.errors == {}
    assert (report.runs, report.runs_succeeded, report.runs_failed) == (2, 2, 0)
    assert report.tasks_sent == 2 * per_run
    assert report.tasks_succeeded == 2 * per_run
    assert report.tasks_left_in_queue == 0
    # AND the parts' invocations are counted with the scheduled ones
    assert report.invocations == 2 * (1 + PARTS)
    assert report.ok


def test_the_same_producer_without_the_grant_is_denied_as_in_aws(assembly, moto_server: str) -> None:
    # WHEN the producer whose role has no lambda:InvokeFunction invokes itself
    report = run_construct(assembly, moto_server, "Ungranted", runs=1)
    # THEN its call fails with AccessDenied, so the run fails; no part ran and no task was sent
    assert (report.runs, report.runs_failed) == (1, 1)
    assert report.tasks_sent == 0
    assert report.invocations == 1
    (errors,) = report.errors.values()
    (error,) = errors
    assert "AccessDeniedException" in error
    assert "is not authorized to perform: lambda:InvokeFunction on resource: arn:aws:lambda:" in error
    assert "because no identity-based policy allows the lambda:InvokeFunction action" in error
    assert not report.ok


def test_a_part_that_fails_is_retried_dead_lettered_and_fails_its_run(assembly, moto_server: str) -> None:
    # WHEN part 1 of the run fails on each of its two attempts (MaximumRetryAttempts 1)
    report = run_construct(assembly, moto_server, "FailingPart", runs=1)
    # THEN the other parts' tasks were worked, part 1's failures count under the producer's role,
    # its event went to the on-failure destination, and the run counts as failed
    assert report.tasks_sent == (PARTS - 1) * TASKS_PER_PART
    assert report.tasks_succeeded == (PARTS - 1) * TASKS_PER_PART
    assert report.errors == {"scheduled function": {"RuntimeError: part 1 fails": 2}}
    assert report.runs_dead_lettered == 1
    assert (report.runs, report.runs_failed) == (1, 1)
    assert report.invocations == 1 + PARTS + 1


def test_a_run_out_of_time_while_parts_are_queued_stops_cleanly(assembly, moto_server: str) -> None:
    # GIVEN one container at a time, and part 0 (the first to run) sleeping past the time limit
    started = time.monotonic()
    report = run_report(assembly, moto_server, "SlowPart", 2, timeout_seconds=10, concurrency=1)
    elapsed = time.monotonic() - started
    # THEN the run stops at the limit without waiting for part 0, the parts still queued are dropped
    # and said so, and the second run does not fire
    (construct,) = report.constructs
    assert construct.runs == 1
    assert any(note.startswith("stopped at the time limit") for note in report.notes)
    assert f"{PARTS - 1} queued asynchronous invocations did not run: the run reached its time limit" in construct.notes
    assert construct.tasks_sent == 0
    assert elapsed < 30
