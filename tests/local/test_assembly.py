"""Reading a cloud assembly: stacks, metadata, assets, intrinsic functions and event filters."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any, Dict

import pytest

from scheduled_tasks_constructs.local.assembly import (
    AssemblyError,
    CloudAssembly,
    Intrinsics,
    METADATA_TYPE,
    StackArtifact,
    UnresolvableError,
)
from scheduled_tasks_constructs.local.event_filter import FilterError, compile_filters


def entry(data: Dict[str, Any]) -> Dict[str, Any]:
    return {"type": METADATA_TYPE, "data": data}


@pytest.mark.parametrize("metadata_file", [True, False])
def test_constructs_come_from_the_metadata_wherever_synthesis_wrote_it(tmp_path: Path, metadata_file: bool, write_assembly) -> None:
    write_assembly(tmp_path, {"S": {
        "template": {"Resources": {"Sched": {"Type": "AWS::Scheduler::Schedule"}}},
        "metadata": {
            "/S/Jobs": [{"type": "aws:cdk:logicalId", "data": "x"}, entry({
                "version": 1, "construct": "ScheduledTaskFanout",
                "resources": {"schedule": {"stack": "S", "logicalId": "Sched"}, "worker": {"arn": "arn:aws:lambda:r:1:function:w"}},
            })],
        },
    }}, metadata_file=metadata_file)

    (found,) = CloudAssembly(tmp_path).scheduled_constructs()

    assert (found.path, found.construct, found.stack.artifact_id) == ("S/Jobs", "ScheduledTaskFanout", "S")
    assert found.resources["schedule"].logical_id == "Sched" and not found.resources["schedule"].external
    assert found.resources["worker"].external and found.resources["worker"].arn.endswith(":function:w")
    assert found.resources.get("queue") is None


def test_a_newer_metadata_version_is_refused(tmp_path: Path, write_assembly) -> None:
    write_assembly(tmp_path, {"S": {"template": {}, "metadata": {"/S/X": [entry({"version": 2, "resources": {}})]}}})

    with pytest.raises(AssemblyError, match="version 2; this runner reads up to 1"):
        CloudAssembly(tmp_path).scheduled_constructs()


def test_nested_assemblies_are_read(tmp_path: Path, write_assembly) -> None:
    (tmp_path / "assembly-Stage").mkdir()
    write_assembly(tmp_path / "assembly-Stage", {"Inner": {"template": {"Resources": {}}}})
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {
        "Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Stage"}},
    }}))

    assert [s.artifact_id for s in CloudAssembly(tmp_path).stacks] == ["Inner"]


def test_asset_folders_zip_assets_and_inline_code(tmp_path: Path, write_assembly) -> None:
    (tmp_path / "asset.aaa").mkdir()
    with zipfile.ZipFile(tmp_path / "asset.bbb.zip", "w") as archive:
        archive.writestr("handler.py", "X = 1\n")
    write_assembly(tmp_path, {"S": {"template": {}, "assets": {
        "aaa": {"source": {"path": "asset.aaa", "packaging": "zip"}},
        "bbb": {"source": {"path": "asset.bbb.zip", "packaging": "file"}},
    }}})
    stack = CloudAssembly(tmp_path).stack("S")
    scratch = tmp_path / "scratch"

    assert stack.asset_folder({"S3Bucket": "b", "S3Key": "aaa.zip"}, scratch=scratch) == tmp_path / "asset.aaa"
    assert (stack.asset_folder({"S3Key": "bbb.zip"}, scratch=scratch) / "handler.py").read_text() == "X = 1\n"
    inline = stack.asset_folder({"ZipFile": "def handler(e, c): pass"}, scratch=scratch)
    assert (inline / "index.py").read_text() == "def handler(e, c): pass"
    with pytest.raises(AssemblyError, match="not an asset of this app"):
        stack.asset_folder({"S3Bucket": "someone-elses", "S3Key": "ccc.zip"}, scratch=scratch)
    with pytest.raises(AssemblyError, match="container image"):
        stack.asset_folder({"ImageUri": "x"}, scratch=scratch)


def make_intrinsics(template: Dict[str, Any], exports=None) -> Intrinsics:
    stack = StackArtifact("S", "MyStack", Path("."), template, {}, Path("t.json"))

    def physical(s: StackArtifact, logical_id: str) -> Dict[str, Any]:
        return {"Ref": f"name-of-{logical_id}", "Arn": f"arn:aws:sqs:us-east-1:123456789012:name-of-{logical_id}"}

    return Intrinsics(stack, {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"},
                      physical, exports or {})


TEMPLATE = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}, "Parameters": {"Stage": {"Default": "dev"}}}


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"Ref": "Queue"}, "name-of-Queue"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:us-east-1:123456789012:name-of-Queue"),
        ({"Fn::GetAtt": "Queue.Arn"}, "arn:aws:sqs:us-east-1:123456789012:name-of-Queue"),
        ({"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, {"Ref": "Stage"}]]}, "MyStack-dev"),
        ({"Fn::Sub": "arn:${AWS::Partition}:x:${AWS::Region}:${Queue.Arn}:${!Literal}"},
         "arn:aws:x:us-east-1:arn:aws:sqs:us-east-1:123456789012:name-of-Queue:${Literal}"),
        ({"Fn::Sub": ["${A}-${B}", {"A": "a", "B": {"Ref": "Queue"}}]}, "a-name-of-Queue"),
        ({"Fn::Select": [1, {"Fn::Split": [":", "a:b:c"]}]}, "b"),
        ({"Key": [1, {"Ref": "AWS::NoValue"}, "x"]}, {"Key": [1, "x"]}),
    ],
)
def test_intrinsics_evaluate_to_local_values(value: Any, expected: Any) -> None:
    assert make_intrinsics(TEMPLATE).resolve(value) == expected


def test_import_value_resolves_in_the_exporting_stack() -> None:
    other = StackArtifact("O", "Other", Path("."), {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table"}}}, {}, Path("o"))
    ctx = make_intrinsics(TEMPLATE, {"Other:TableName": (other, {"Ref": "Table"})})

    assert ctx.resolve({"Fn::ImportValue": "Other:TableName"}) == "name-of-Table"


@pytest.mark.parametrize(
    "value, message",
    [
        ({"Ref": "Missing"}, "Missing is not a resource of stack MyStack"),
        ({"Ref": "AWS::NotificationARNs"}, "pseudo parameter AWS::NotificationARNs has no local value"),
        ({"Fn::If": ["C", 1, 2]}, "the intrinsic Fn::If is not supported"),
        ({"Fn::ImportValue": "nobody"}, "no stack of the app exports 'nobody'"),
    ],
)
def test_what_has_no_local_value_is_an_error_naming_it(value: Any, message: str) -> None:
    with pytest.raises(UnresolvableError, match=message):
        make_intrinsics(TEMPLATE).resolve(value)


@pytest.mark.parametrize(
    "pattern, body, matches",
    [
        ({"body": {"kind": ["total"]}}, {"kind": "total"}, True),
        ({"body": {"kind": ["total"]}}, {"kind": "table"}, False),
        ({"body": {"kind": [{"prefix": "to"}]}}, {"kind": "total"}, True),
        ({"body": {"kind": [{"suffix": "le"}]}}, {"kind": "table"}, True),
        ({"body": {"kind": [{"anything-but": ["total"]}]}}, {"kind": "table"}, True),
        ({"body": {"kind": [{"anything-but": {"prefix": "ta"}}]}}, {"kind": "table"}, False),
        ({"body": {"n": [{"numeric": [">", 1, "<=", 5]}]}}, {"n": 5}, True),
        ({"body": {"n": [{"numeric": [">", 1, "<=", 5]}]}}, {"n": 6}, False),
        ({"body": {"n": [{"numeric": [">", 1]}]}}, {"n": "7"}, False),
        ({"body": {"gone": [{"exists": False}]}}, {"n": 1}, True),
        ({"body": {"n": [{"exists": True}]}}, {"n": 1}, True),
        ({"body": {"name": [{"equals-ignore-case": "SALES"}]}}, {"name": "sales"}, True),
        ({"body": {"tags": ["b"]}}, {"tags": ["a", "b"]}, True),
        ({"body": {"flag": [True]}}, {"flag": 1}, False),
        ({"body": {"x": {"y": ["z"]}}}, {"x": {"y": "z"}}, True),
    ],
)
def test_filters_match_as_lambda_event_filtering_does(pattern: Dict[str, Any], body: Any, matches: bool) -> None:
    predicate = compile_filters({"Filters": [{"Pattern": json.dumps(pattern)}]})
    assert predicate({"body": json.dumps(body), "attributes": {}}) is matches


def test_a_plain_text_body_only_matches_a_plain_pattern() -> None:
    predicate = compile_filters({"Filters": [{"Pattern": json.dumps({"body": ["hello"]})}]})
    assert predicate({"body": "hello"}) and not predicate({"body": '{"a": 1}'})
    assert compile_filters(None)({"body": "anything"})


@pytest.mark.parametrize(
    "criteria, message",
    [
        ({"Filters": [{"Pattern": "{not json"}]}, "not JSON"),
        ({"Filters": [{"Pattern": json.dumps({"body": {"a": [{"wildcard": "x*"}]}})}]}, "'wildcard' is not supported"),
        ({"Filters": [{"Pattern": json.dumps({"body": {"a": "x"}})}]}, "leaves must be lists"),
        ({"Filters": [{"Pattern": json.dumps({"body": {"n": [{"numeric": [">"]}]}})}]}, "numeric filter"),
    ],
)
def test_filters_the_runner_cannot_evaluate_are_refused(criteria: Dict[str, Any], message: str) -> None:
    with pytest.raises(FilterError, match=message):
        compile_filters(criteria)
