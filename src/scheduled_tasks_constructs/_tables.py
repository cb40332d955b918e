"""The DynamoDB tables the constructs create or are given: their props, settings and key check.

Both run tables (``ScheduledLambdaToTable``'s table and the fan-out's run
ledger) have the partition key ``run_id`` (a string) and, when items expire,
the TTL attribute ``expires_at``.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb

from . import _defaults
from ._validation import Described, Problems, is_token
from .runtime.ledger import PARTITION_KEY


def validate_table_props(problems: Problems, given: Mapping[str, Any], prop: str = "table_props") -> None:
    """Check the user's ``TableProps`` of a table the construct creates (``prop`` names them)."""
    for key in ("partition_key", "sort_key", "time_to_live_attribute"):
        if given.get(key) is not None:
            problems.add_message(f"{prop}.{key}: set by the construct, got {key} in {prop}")
    problems.name(
        f"{prop}.table_name",
        given.get("table_name"),
        r"[a-zA-Z0-9_.-]{3,255}",
        "3 to 255 letters, digits, '_', '-' or '.'",
    )
    billing = given.get("billing_mode", _defaults.TABLE_BILLING_MODE)
    for key in ("read_capacity", "write_capacity"):
        if given.get(key) is not None and billing != dynamodb.BillingMode.PROVISIONED:
            problems.add_message(
                f"{prop}.{key}: only applies with billing_mode PROVISIONED, got it "
                "with on-demand billing"
            )


def table_settings(table_props: Optional[dynamodb.TableProps], *, ttl: bool) -> Dict[str, Any]:
    """The created table's props: the library's defaults, then the user's, then the key and TTL."""
    settings: Dict[str, Any] = {
        "billing_mode": _defaults.TABLE_BILLING_MODE,
        "encryption": _defaults.TABLE_ENCRYPTION,
        "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        "removal_policy": _defaults.TABLE_REMOVAL_POLICY,
    }
    user = table_props._values if table_props is not None else {}
    # A default yields to the user's prop that decides the same setting.
    if user.get("encryption_key") is not None:
        settings.pop("encryption")
    if user.get("point_in_time_recovery") is not None:
        settings.pop("point_in_time_recovery_specification")
    settings.update(user)
    settings.update(
        partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=dynamodb.AttributeType.STRING),
        time_to_live_attribute=_defaults.TTL_ATTRIBUTE if ttl else None,
    )
    return settings


def validate_table_key(problems: Problems, table: Optional[dynamodb.ITable], prop: str, writer: str) -> None:
    """Check the key of a table defined in this app is the string ``run_id`` (``writer`` writes it).

    Only a table whose key schema the app holds (its ``CfnTable`` or
    ``CfnGlobalTable``) is checked; an imported table's key is unknown.
    """
    if table is None:
        return
    resource = getattr(getattr(table, "node", None), "default_child", None)
    schema = getattr(resource, "key_schema", None)
    if not isinstance(schema, (list, tuple)) or is_token(schema):
        return
    keys = {getattr(k, "key_type", None): getattr(k, "attribute_name", None) for k in schema}
    partition = keys.get("HASH")
    if not isinstance(partition, str) or is_token(partition):
        return
    definitions = getattr(resource, "attribute_definitions", None)
    if definitions is not None and not isinstance(definitions, (list, tuple)):
        # A TableV2 holds them lazily: as the template will.
        definitions = Stack.of(table).resolve(definitions)
    types = {}
    for item in definitions if isinstance(definitions, (list, tuple)) else []:
        if isinstance(item, Mapping):
            types[item.get("AttributeName", item.get("attributeName"))] = item.get(
                "AttributeType", item.get("attributeType")
            )
        else:
            types[getattr(item, "attribute_name", None)] = getattr(item, "attribute_type", None)
    kind = types.get(partition)
    if partition != PARTITION_KEY or kind not in (None, "S"):
        given = f"partition key {partition!r}" + (f" of type {kind}" if kind else "")
        problems.add(
            prop,
            f"a table whose partition key is the string {PARTITION_KEY!r} ({writer} writes it)",
            Described(given),
        )
