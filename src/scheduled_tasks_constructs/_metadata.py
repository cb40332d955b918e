"""The construct metadata each scheduled construct publishes in the cloud assembly.

Tools that read a synthesized app (the local runner among them) find a
construct's resources here rather than in the construct's Python object. Each
construct adds one metadata entry of type :data:`METADATA_TYPE` to its own
node; CDK resolves it with the construct's stack and writes it to that stack's
artifact metadata (the manifest's ``artifacts[<stack>].metadata`` or the file
named by ``additionalMetadataFile``) under the key ``"/<construct path>"``::

    {"type": "scheduled-tasks-constructs",
     "data": {"version": 1,
              "construct": "ScheduledLambdaToTable",
              "resources": {"<role>": <reference>, ...}}}

The roles are ``schedule``, ``function``, ``table``, ``ledger`` (the same
table) and ``deadLetterQueue`` for ``ScheduledLambdaToTable``; ``schedule``,
``producer``, ``worker``, ``queue``, ``deadLetterQueue`` (the tasks' one),
``runDeadLetterQueue``, ``eventSourceMapping``, ``webhookSecret`` and
``ledger`` (the run ledger) for ``ScheduledTaskFanout``; both add
``watchdog`` (the watchdog function) and ``watchdogSchedule`` (the schedule
that runs it) unless ``watchdog=False``. A reader that does not know a role
ignores it.

A reference names a resource defined in this app, in any of its stacks, as
``{"stack": <artifact ID of its stack>, "logicalId": <its logical ID>}``, and
a resource imported by name or ARN as ``{"arn": <its ARN>}`` (a string, or the
CloudFormation intrinsic it resolves to). A role without a resource (a
dead-letter queue of a queue you brought, a webhook secret not given) is left
out of ``resources``: jsii carries no JSON null, so readers treat a missing
role as null. A change to this shape that readers must know of bumps
:data:`METADATA_VERSION`.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from aws_cdk import CfnResource, Stack
from constructs import Construct, IConstruct

#: The metadata entry type of every scheduled construct.
METADATA_TYPE = "scheduled-tasks-constructs"
#: The version of the entry's shape.
METADATA_VERSION = 1

#: ARN attributes of the resources a construct may be given, in the order tried.
_ARN_ATTRIBUTES = ("function_arn", "table_arn", "queue_arn", "secret_arn", "schedule_arn")


def reference(resource: Optional[IConstruct]) -> Optional[Dict[str, Any]]:
    """How the metadata names ``resource`` (None when there is no resource).

    A resource whose default child is a ``CfnResource`` is defined in this app:
    it is named by its stack's artifact ID and its logical ID (a token that
    follows ``override_logical_id``). Anything else is named by its ARN: an
    imported resource, and also a wrapper without a CloudFormation resource
    of its own (a ``SingletonFunction``, whose ARN resolves to a
    ``Fn::GetAtt``).
    """
    if resource is None:
        return None
    child = resource.node.default_child
    if isinstance(child, CfnResource):
        return {"stack": Stack.of(resource).artifact_id, "logicalId": child.logical_id}
    for attribute in _ARN_ATTRIBUTES:
        arn = getattr(resource, attribute, None)
        if arn is not None:
            return {"arn": arn}
    raise TypeError(
        f"{resource.node.path}: a resource with a CloudFormation resource or an ARN attribute "
        f"({', '.join(_ARN_ATTRIBUTES)}), got {type(resource).__name__}"
    )


def publish(construct: Construct, kind: str, resources: Mapping[str, Optional[IConstruct]]) -> None:
    """Add the metadata entry of ``construct``, a ``kind`` construct, naming ``resources`` by role."""
    refs = {role: reference(resource) for role, resource in resources.items()}
    construct.node.add_metadata(
        METADATA_TYPE,
        {
            "version": METADATA_VERSION,
            "construct": kind,
            "resources": {role: ref for role, ref in refs.items() if ref is not None},
        },
    )
