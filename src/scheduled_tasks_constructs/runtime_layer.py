"""RuntimeLayer: the library's runtime helpers as a Lambda layer, one per stack."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from . import _assets, _defaults

__all__ = ["RUNTIME_LAYER_ID", "RuntimeLayer"]

#: The construct ID of the layer, a child of its stack. Stable: renaming it
#: would replace the deployed layer (and every function that uses it).
RUNTIME_LAYER_ID = "ScheduledTasksRuntimeLayer"


class RuntimeLayer(lambda_.LayerVersion):
    """The Lambda layer that puts :mod:`scheduled_tasks_constructs.runtime` on ``/opt/python``.

    With it, a handler can import the helpers the library ships
    (``scheduled_tasks_constructs.runtime.events``, ``.fanout``, ``.worker``,
    ``.webhook`` ...) in Lambda without packaging them itself. There is one
    layer per stack, at the stack root with the construct ID
    ``ScheduledTasksRuntimeLayer``; get it with :meth:`RuntimeLayer.of`, which
    creates it on first use. It is built for the library's default runtime
    and architecture (Python 3.14 on arm64).

    The constructs of this library give it to every function they build from
    your code; their ``runtime_layer`` attribute returns it. Functions you
    create yourself, including the ones you pass as ``existing_function``,
    ``existing_producer`` or ``existing_worker``, need it in their
    ``layers`` when their code imports the runtime helpers.

    Parameters
    ----------
    scope : Construct
        Any construct of the stack the layer belongs to; the layer is created
        at that stack's root. A stack has at most one: creating a second one
        fails with CDK's duplicate construct ID error, so use
        :meth:`RuntimeLayer.of` rather than the constructor.

    Examples
    --------
    A function of your own whose handler imports the runtime helpers::

        from aws_cdk import aws_lambda as lambda_
        from scheduled_tasks_constructs import RuntimeLayer

        lambda_.Function(
            self,
            "Report",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset("report"),
            handler="report.handler",
            layers=[RuntimeLayer.of(self)],
        )
    """

    def __init__(self, scope: Construct) -> None:
        super().__init__(
            Stack.of(scope),
            RUNTIME_LAYER_ID,
            code=_assets.runtime_layer_code(),
            compatible_runtimes=[_defaults.FUNCTION_RUNTIME],
            compatible_architectures=[_defaults.FUNCTION_ARCHITECTURE],
            description="scheduled-tasks-constructs runtime helpers",
        )

    @classmethod
    def of(cls, scope: Construct) -> RuntimeLayer:
        """Return the runtime layer of ``scope``'s stack, creating it on first use.

        Parameters
        ----------
        scope : Construct
            Any construct of the stack.

        Returns
        -------
        RuntimeLayer
            The stack's one layer: the same object on every call.

        Raises
        ------
        TypeError
            When the stack already has a child ``ScheduledTasksRuntimeLayer``
            that is not a :class:`RuntimeLayer`.
        """
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(RUNTIME_LAYER_ID)
        if existing is None:
            return cls(stack)
        if not isinstance(existing, RuntimeLayer):
            raise TypeError(
                f"{stack.node.path}/{RUNTIME_LAYER_ID} must be a RuntimeLayer (the construct ID is "
                f"reserved for it), got {type(existing).__name__}"
            )
        return existing
