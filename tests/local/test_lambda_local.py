"""Functions run in processes of their own, with Lambda's import path, environment and errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from scheduled_tasks_constructs.local.lambda_local import (
    LAMBDA_RUNTIME_MODULES,
    Container,
    FunctionImage,
    FunctionPool,
    runtime_base,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return runtime_base(tmp_path_factory.mktemp("runtime"))


def write(folder: Path, files: Dict[str, str]) -> Path:
    for name, source in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return folder


def image(code: Path, *, handler: str = "handler.handler", layers: Optional[List[Path]] = None,
          timeout: float = 5.0, environment: Optional[Dict[str, str]] = None) -> FunctionImage:
    return FunctionImage(
        name="fn", arn="arn:aws:lambda:us-east-1:123456789012:function:fn", stack="S", logical_id="Fn",
        handler=handler, runtime="python3.14", code_dir=code, layer_dirs=layers or [],
        memory_mb=256, timeout_seconds=timeout, environment=environment or {},
    )


@pytest.fixture
def container_of(base: Path, tmp_path: Path):
    made: List[Container] = []

    def make(img: FunctionImage, lambda_environment: Optional[Dict[str, str]] = None) -> Container:
        container = Container(img, lambda_environment=lambda_environment or {}, base=base,
                              log_file=tmp_path / f"log-{len(made)}.log")
        made.append(container)
        return container

    yield make
    for container in made:
        container.close()


PROBE = """
import json, os, sys
def handler(event, context):
    found = {}
    for name in event.get("modules", []):
        try:
            __import__(name)
            found[name] = True
        except ImportError:
            found[name] = False
    return {"path": sys.path, "env": dict(os.environ), "found": found,
            "remaining": context.get_remaining_time_in_millis(), "arn": context.invoked_function_arn,
            "request": context.aws_request_id}
"""


def test_the_import_path_holds_the_asset_the_layers_and_the_runtime_only(tmp_path: Path, container_of) -> None:
    code = write(tmp_path / "code", {"handler.py": PROBE})
    first = write(tmp_path / "layer1", {"python/shared.py": "WHO = 'first'\n"})
    second = write(tmp_path / "layer2", {"python/lib/python3.14/site-packages/shared.py": "WHO = 'second'\n"})
    container = container_of(image(code, layers=[first, second]))

    invocation = container.invoke({"modules": ["boto3", "botocore", "scheduled_tasks_constructs", "pytest", "aws_cdk", "moto"]})

    assert invocation.ok, invocation.error
    path = invocation.result["path"]
    assert path[0] == str(code)
    # The last layer's files win, as they overwrite the earlier layer's in /opt.
    assert path[1:4] == [str(second / "python/lib/python3.14/site-packages"), str(second / "python"), str(first / "python")]
    assert invocation.result["found"] == {
        "boto3": True, "botocore": True, "scheduled_tasks_constructs": False, "pytest": False, "aws_cdk": False, "moto": False,
    }


def test_the_environment_is_the_functions_plus_what_lambda_sets(tmp_path: Path, container_of, monkeypatch) -> None:
    monkeypatch.setenv("HOST_ONLY_VARIABLE", "leaks")
    code = write(tmp_path / "code", {"handler.py": PROBE})
    container = container_of(image(code, environment={"TABLE_NAME": "runs"}), {"AWS_REGION": "eu-west-1"})

    env = container.invoke({}).result["env"]

    assert env["TABLE_NAME"] == "runs" and env["AWS_REGION"] == "eu-west-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["_HANDLER"] == "handler.handler" and env["LAMBDA_TASK_ROOT"] == str(code)
    assert "HOST_ONLY_VARIABLE" not in env and "VIRTUAL_ENV" not in env and "PYTHONPATH" not in env


def test_a_warm_container_keeps_module_state_and_a_timeout_replaces_it(tmp_path: Path, container_of) -> None:
    code = write(tmp_path / "code", {"handler.py": """
        import time
        CALLS = []
        def handler(event, context):
            CALLS.append(1)
            time.sleep(event.get("sleep", 0))
            return len(CALLS)
    """})
    container = container_of(image(code, timeout=1.0))

    first, second = container.invoke({}), container.invoke({})
    slow = container.invoke({"sleep": 3})
    after = container.invoke({})

    assert (first.result, second.result) == (1, 2)
    assert first.cold_start and not second.cold_start
    assert not slow.ok and slow.error_type == "Sandbox.Timedout"
    assert slow.error_message == "Task timed out after 1.00 seconds"
    assert slow.seconds < 2.5  # killed at its timeout, not after the sleep
    assert after.ok and after.result == 1 and after.cold_start


@pytest.mark.parametrize(
    "files, handler, error_type, message",
    [
        ({"handler.py": "import not_in_any_layer\n"}, "handler.handler", "Runtime.ImportModuleError",
         "Unable to import module 'handler': No module named 'not_in_any_layer'"),
        ({"handler.py": "def other(e, c):\n    pass\n"}, "handler.handler", "Runtime.HandlerNotFound",
         "Handler 'handler' missing on module 'handler'"),
        ({"handler.py": "def handler(e, c)\n"}, "handler.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'handler'"),
        ({"handler.py": "import os\nTABLE = os.environ['TABLE_NAME']\n"}, "handler.handler", "KeyError", "'TABLE_NAME'"),
        ({"handler.py": ""}, "handler", "Runtime.MalformedHandlerName", "Bad handler 'handler'"),
    ],
)
def test_init_errors_are_reported_as_lambda_reports_them(
    tmp_path: Path, container_of, files: Dict[str, str], handler: str, error_type: str, message: str
) -> None:
    container = container_of(image(write(tmp_path / "code", files), handler=handler))

    first, again = container.invoke({}), container.invoke({})

    assert not first.ok and first.error_type == error_type
    assert first.error_message.startswith(message)
    assert again.error_type == error_type and again.cold_start  # the environment was reset and init ran again


def test_invocation_errors_results_and_logs(tmp_path: Path, container_of) -> None:
    code = write(tmp_path / "code", {"handler.py": """
        import decimal, logging, sys
        def handler(event, context):
            print("printed", event["n"])
            logging.getLogger().warning("warned")
            logging.getLogger().info("not shown: the root logger is at WARNING, as in Lambda")
            if event["n"] == 1:
                raise ValueError("no luck")
            if event["n"] == 2:
                return object()
            if event["n"] == 3:
                sys.exit(3)
            return {"amount": decimal.Decimal("1.5"), "count": decimal.Decimal("2")}
    """})
    container = container_of(image(code))

    raised, unmarshalable, exited, fine = (container.invoke({"n": n}) for n in (1, 2, 3, 4))

    assert (raised.error_type, raised.error_message) == ("ValueError", "no luck")
    assert unmarshalable.error_type == "Runtime.MarshalError"
    assert exited.error_type == "Runtime.ExitError"
    assert fine.ok and fine.result == {"amount": 1.5, "count": 2}
    assert "printed 4" in fine.output and "warned" in fine.output and "not shown" not in fine.output
    assert f"START RequestId: {fine.request_id}" in fine.output and "REPORT RequestId" in fine.output
    error_line = next(line for line in raised.output.splitlines() if line.startswith("{"))
    assert json.loads(error_line)["errorType"] == "ValueError"


def test_the_context_counts_down_from_the_timeout(tmp_path: Path, container_of) -> None:
    container = container_of(image(write(tmp_path / "code", {"handler.py": PROBE}), timeout=3.0))

    result = container.invoke({}, request_id="req-1").result

    assert 2000 < result["remaining"] <= 3000
    assert result["request"] == "req-1" and result["arn"].endswith(":function:fn")


def test_a_pool_runs_invocations_in_parallel_containers(tmp_path: Path, base: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    code = write(tmp_path / "code", {"handler.py": "import os, time\ndef handler(e, c):\n    time.sleep(0.3)\n    return os.getpid()\n"})
    pool = FunctionPool(image(code), lambda_environment={}, base=base, log_dir=tmp_path / "logs", max_containers=3)
    try:
        with ThreadPoolExecutor(6) as threads:
            pids = [i.result for i in threads.map(lambda _: pool.invoke({}), range(6))]
    finally:
        pool.close()

    assert len(set(pids)) == 3 == pool.cold_starts  # never more containers than allowed, each reused


def test_runtime_base_links_only_the_lambda_runtime_modules(base: Path, tmp_path: Path, container_of) -> None:
    code = write(tmp_path / "code", {"handler.py": "import six\ndef handler(e, c):\n    return 1\n"})
    assert container_of(image(code)).invoke({}).ok
    assert not (code / "__pycache__").exists()  # nothing is written into the (deployable) asset folder
    assert {p.name.removesuffix(".py") for p in base.iterdir()} <= set(LAMBDA_RUNTIME_MODULES)
    assert (base / "boto3").is_dir() and (base / "botocore").is_dir()
