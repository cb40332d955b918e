"""Tests of DependenciesLayer: a Lambda layer from a requirements file, built without Docker.

Every synth installs a small hand-made wheel from a local folder with
``--no-index``, so the tests need no network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

try:
    import scheduled_tasks_constructs  # noqa: F401
except ImportError:  # not installed: use the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Template

from scheduled_tasks_constructs.dependencies_layer import DependenciesLayer, pip_install_command

PACKAGE = "tinydep"
STACK = "LayerStack"


def write_wheel(directory: Path, name: str = PACKAGE, version: str = "0.1.0") -> Path:
    """Write a valid pure-Python wheel by hand (no build backend needed)."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist_info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def synth(requirements_file: Path, outdir: Path, wheels: Path, **props) -> dict:
    """Synthesize one stack with a DependenciesLayer; return what the tests look at."""
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, STACK)
    deps = DependenciesLayer(
        stack,
        "Deps",
        requirements_file=str(requirements_file),
        pip_args=["--no-index", "--find-links", str(wheels)],
        **props,
    )
    assembly = app.synth()
    template = assembly.get_stack_by_name(STACK).template
    (layer,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::LayerVersion"
    ]
    asset_hash = layer["Properties"]["Content"]["S3Key"].removesuffix(".zip")
    manifest = json.loads((outdir / f"{STACK}.assets.json").read_text())
    asset = manifest["files"][asset_hash]
    assert asset["source"]["packaging"] == "zip"
    asset_dir = outdir / asset["source"]["path"]
    return {"deps": deps, "template": template, "asset_hash": asset_hash, "asset_dir": asset_dir}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("wheels")
    write_wheel(directory)
    return directory


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("project")
    (directory / "requirements-layer.txt").write_text(f"{PACKAGE}==0.1.0\n")
    return directory


@pytest.fixture(scope="module")
def built(tmp_path_factory, project, wheels) -> dict:
    return synth(project / "requirements-layer.txt", tmp_path_factory.mktemp("out"), wheels)


def test_layer_is_compatible_with_the_default_runtime_and_architecture(built):
    template = Template.from_json(built["template"])
    template.resource_count_is("AWS::Lambda::LayerVersion", 1)
    template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"CompatibleRuntimes": ["python3.14"], "CompatibleArchitectures": ["arm64"]},
    )


def test_bundled_asset_holds_the_packages_under_python(built):
    asset_dir = built["asset_dir"]
    assert (asset_dir / "python" / PACKAGE / "__init__.py").read_text() == "VERSION = '0.1.0'\n"
    assert (asset_dir / "python" / f"{PACKAGE}-0.1.0.dist-info" / "METADATA").is_file()
    # Only the installed packages: the requirements folder itself is not copied.
    assert sorted(p.name for p in asset_dir.iterdir()) == ["python"]
    assert not list(asset_dir.rglob("*.pyc"))


def test_attributes_report_the_defaults(built, project):
    deps = built["deps"]
    assert deps.requirements_file == str(project / "requirements-layer.txt")
    assert deps.runtime.name == "python3.14"
    assert deps.architecture.name == "arm64"
    assert deps.layer.node.id == "Layer"


def test_asset_hash_is_stable_and_ignores_unrelated_files(tmp_path, built, project, wheels):
    # GIVEN an unrelated file next to the requirements file
    (project / "notes.md").write_text("not a dependency\n")
    try:
        # WHEN the same app is synthesized again, into a fresh assembly
        again = synth(project / "requirements-layer.txt", tmp_path / "out", wheels)
    finally:
        (project / "notes.md").unlink()
    # THEN the asset hash is the same
    assert again["asset_hash"] == built["asset_hash"]


def test_asset_hash_changes_with_the_requirements(tmp_path, built, wheels):
    changed = tmp_path / "requirements-layer.txt"
    changed.write_text(f"{PACKAGE}>=0.1\n")
    other = synth(changed, tmp_path / "out", wheels)
    assert other["asset_hash"] != built["asset_hash"]
    assert (other["asset_dir"] / "python" / PACKAGE / "__init__.py").is_file()


def test_bundling_is_skipped_when_the_assembly_already_has_the_asset(tmp_path, project):
    # GIVEN an assembly that already holds the bundled layer
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels)
    first = synth(project / "requirements-layer.txt", tmp_path / "out", wheels)
    # WHEN the wheel is gone (pip would fail) and the app is synthesized again
    (wheels / f"{PACKAGE}-0.1.0-py3-none-any.whl").unlink()
    cdk.AssetStaging.clear_asset_hash_cache()
    second = synth(project / "requirements-layer.txt", tmp_path / "out", wheels)
    # THEN the existing bundle is reused
    assert second["asset_hash"] == first["asset_hash"]
    assert (second["asset_dir"] / "python" / PACKAGE / "__init__.py").is_file()


def test_missing_requirements_file_is_rejected(tmp_path):
    missing = tmp_path / "requirements-layer.txt"
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "out")), STACK)
    with pytest.raises(ValueError) as raised:
        DependenciesLayer(stack, "Deps", requirements_file=str(missing))
    assert str(raised.value) == (
        "DependenciesLayer: invalid props (1):\n"
        f"  - requirements_file must be an existing file, got {str(missing)!r}"
    )


def test_non_python_runtime_is_rejected(tmp_path, project):
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "out")), STACK)
    with pytest.raises(ValueError) as raised:
        DependenciesLayer(
            stack,
            "Deps",
            requirements_file=str(project / "requirements-layer.txt"),
            runtime=lambda_.Runtime.NODEJS_22_X,
        )
    assert str(raised.value) == (
        "DependenciesLayer: invalid props (1):\n"
        "  - runtime must be a Python 3 Lambda runtime such as Runtime.PYTHON_3_14,"
        " got 'nodejs22.x'"
    )


def test_every_problem_is_reported_at_once(tmp_path):
    empty = tmp_path / "requirements-layer.txt"
    empty.write_text("# nothing yet\n\n")
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "out")), STACK)
    with pytest.raises(ValueError) as raised:
        DependenciesLayer(
            stack,
            "Deps",
            requirements_file=str(empty),
            runtime=lambda_.Runtime.PYTHON_2_7,
            architecture=lambda_.Architecture.custom("riscv64"),
            pip_args="--no-index",
        )
    assert str(raised.value) == (
        "DependenciesLayer: invalid props (4):\n"
        "  - requirements_file must be a file listing at least one requirement,"
        f" got {str(empty)!r}\n"
        "  - runtime must be a Python 3 Lambda runtime such as Runtime.PYTHON_3_14,"
        " got 'python2.7'\n"
        "  - architecture must be Architecture.ARM_64 or Architecture.X86_64, got 'riscv64'\n"
        "  - pip_args must be a list of strings, got '--no-index'"
    )


def test_pip_failure_raises_with_its_output_and_never_tries_docker(tmp_path, wheels):
    requirements = tmp_path / "requirements-layer.txt"
    requirements.write_text("not-published-anywhere==1.0\n")
    with pytest.raises(RuntimeError) as raised:
        synth(requirements, tmp_path / "out", wheels)
    message = str(raised.value)
    assert "DependenciesLayer could not install" in message
    assert "for python3.14/arm64: pip exited with status 1." in message
    assert "No matching distribution found for not-published-anywhere==1.0" in message
    assert "packages published only as source cannot be built without Docker" in message
    assert "docker run" not in message.lower()


def test_pip_command_targets_the_lambda_platform():
    command = pip_install_command(
        requirements_file="req.txt",
        target="out/python",
        runtime=lambda_.Runtime.PYTHON_3_13,
        architecture=lambda_.Architecture.X86_64,
        pip_args=["--no-index"],
        python="python",
    )
    assert command[:12] == [
        "python", "-m", "pip", "install",
        "--requirement", "req.txt",
        "--target", "out/python",
        "--implementation", "cp",
        "--python-version", "3.13",
    ]  # fmt: skip
    assert "--only-binary=:all:" in command and "--upgrade" in command
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    # Amazon Linux 2023 (glibc 2.34) back to manylinux2014, newest first.
    assert platforms[0] == "manylinux_2_34_x86_64"
    assert platforms[-2:] == ["manylinux_2_18_x86_64", "manylinux2014_x86_64"]
    assert len(platforms) == 18
    assert command[-1] == "--no-index"


def test_pip_command_for_an_amazon_linux_2_runtime_on_arm():
    command = pip_install_command(
        requirements_file="req.txt",
        target="t",
        runtime=lambda_.Runtime.PYTHON_3_11,
        architecture=lambda_.Architecture.ARM_64,
    )
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms[0] == "manylinux_2_26_aarch64"
    assert platforms[-1] == "manylinux2014_aarch64"
    assert command[command.index("--python-version") + 1] == "3.11"
