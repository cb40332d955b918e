"""RuntimeLayer: one layer per stack with the runtime helpers, shared by every function that needs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from constructs import Construct

from scheduled_tasks_constructs import RuntimeLayer, ScheduledLambdaToTable, ScheduledTaskFanout

HOURLY = scheduler.ScheduleExpression.rate(Duration.hours(1))
CODE = lambda_.Code.from_inline("def handler(event, context):\n    return {}\n")


def _logical_id(construct) -> str:
    return Stack.of(construct).get_logical_id(construct.node.default_child)


class _Shared(Stack):
    """A stack with both constructs built from user code and a function of the user's own."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        nested = Construct(self, "Nested")
        self.table = ScheduledLambdaToTable(nested, "Runs", schedule=HOURLY, code=CODE, handler="index.handler")
        self.fanout = ScheduledTaskFanout(
            self, "Jobs", schedule=HOURLY, tasks=[1], worker_code=CODE, worker_handler="index.handler"
        )
        # The docstring's example: a function of your own that imports the runtime helpers.
        self.own = lambda_.Function(
            self,
            "Report",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            code=CODE,
            handler="index.handler",
            layers=[RuntimeLayer.of(self)],
        )


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> "tuple[_Shared, Template, Path]":
    outdir = tmp_path_factory.mktemp("runtime-layer")
    # Asset metadata (as the CDK CLI asks for) names each asset's staged folder.
    app = App(outdir=str(outdir), context={"aws:cdk:enable-asset-metadata": True})
    stack = _Shared(app, "Shared")
    app.synth()
    return stack, Template.from_stack(stack), outdir


@pytest.fixture(scope="module")
def bundled() -> "tuple[ScheduledLambdaToTable, Template]":
    """GIVEN a construct with the bundled handler, WHEN its runtime_layer is read (twice)."""
    stack = Stack(App(), "Bundled")
    construct = ScheduledLambdaToTable(stack, "Runs", schedule=HOURLY)
    assert construct.runtime_layer is construct.runtime_layer
    return construct, Template.from_stack(stack)


def test_one_layer_per_stack_at_the_stack_root(shared):
    stack, template, _ = shared
    layer = RuntimeLayer.of(stack)
    assert layer is RuntimeLayer.of(stack.table) is stack.table.runtime_layer is stack.fanout.runtime_layer
    assert layer.node.scope is stack and layer.node.id == "ScheduledTasksRuntimeLayer"
    template.resource_count_is("AWS::Lambda::LayerVersion", 1)
    template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {
            "CompatibleRuntimes": ["python3.14"],
            "CompatibleArchitectures": ["arm64"],
            "Description": "scheduled-tasks-constructs runtime helpers",
        },
    )


def test_every_function_from_user_code_has_the_same_layer(shared):
    stack, template, _ = shared
    layer = {"Ref": _logical_id(RuntimeLayer.of(stack))}
    resources = template.to_json()["Resources"]
    for function in (stack.table.function, stack.fanout.worker, stack.own):
        assert resources[_logical_id(function)]["Properties"]["Layers"] == [layer], function.node.path
    # The bundled producer's asset holds the runtime package itself.
    assert "Layers" not in resources[_logical_id(stack.fanout.producer)]["Properties"]


def test_layer_puts_the_runtime_package_on_opt_python(shared):
    stack, template, outdir = shared
    resource = template.to_json()["Resources"][_logical_id(RuntimeLayer.of(stack))]
    root = outdir / resource["Metadata"]["aws:asset:path"] / "python" / "scheduled_tasks_constructs"
    assert (root / "runtime" / "events.py").is_file()
    assert (root / "runtime" / "worker.py").is_file()
    # Only the runtime subpackage ships: the package's own __init__ (which imports aws_cdk) does not.
    assert "aws_cdk" not in (root / "__init__.py").read_text()


def test_reading_it_on_a_bundled_handler_construct_creates_exactly_one_layer(bundled):
    construct, template = bundled
    template.resource_count_is("AWS::Lambda::LayerVersion", 1)
    function = template.to_json()["Resources"][_logical_id(construct.function)]
    assert "Layers" not in function["Properties"]


def test_logical_id_is_stable(bundled):
    construct, template = bundled
    (layer_id,) = template.find_resources("AWS::Lambda::LayerVersion")
    assert layer_id == _logical_id(construct.runtime_layer)
    assert layer_id.startswith("ScheduledTasksRuntimeLayer")


def test_a_stack_without_it_gets_none():
    stack = Stack(App(), "Plain")
    ScheduledLambdaToTable(stack, "Runs", schedule=HOURLY)
    Template.from_stack(stack).resource_count_is("AWS::Lambda::LayerVersion", 0)


def test_the_construct_id_is_reserved():
    stack = Stack(App(), "Taken")
    sqs.Queue(stack, "ScheduledTasksRuntimeLayer")
    with pytest.raises(TypeError) as info:
        RuntimeLayer.of(stack)
    assert str(info.value) == (
        "Taken/ScheduledTasksRuntimeLayer must be a RuntimeLayer (the construct ID is reserved "
        "for it), got Queue"
    )

