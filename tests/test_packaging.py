"""The published artifacts work: build, check, install, synthesize.

Builds the sdist and, from it, the wheel (``python -m build``), checks both
with ``twine check``, looks inside them, installs the wheel into a fresh
virtual environment and synthesizes a small consumer app there.

Keeping it fast: the fresh environment is created without system site
packages and without pip; the wheel is installed with ``--no-deps`` (by this
environment's pip, via ``pip --python``), and its dependencies (aws-cdk-lib
etc.) are made importable by a ``.pth`` file that appends this environment's
site-packages directory. Python does not process ``.pth`` files found in a
directory that a ``.pth`` file added, so the editable install of the project
(its ``.pth`` points at ``src/``) does not leak into the fresh environment;
the consumer app runs in isolated mode (``-I``) from a temporary directory and
asserts that ``scheduled_tasks_constructs`` is imported from the installed
wheel.

Select it alone with ``pytest -m packaging``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "scheduled_tasks_constructs"
RUNTIME_FILES = sorted(p.name for p in (ROOT / "src" / PACKAGE / "runtime").glob("*.py"))
RECORD_RUN_HANDLER = f"{PACKAGE}.runtime.record_run.handler"

CONSUMER_APP = textwrap.dedent(
    """
    import json
    import sys

    import scheduled_tasks_constructs
    from importlib import metadata

    from aws_cdk import App, Duration, Stack, aws_scheduler
    from packaging.requirements import Requirement
    from scheduled_tasks_constructs import ScheduledLambdaToTable

    # The declared runtime requirements are satisfied by what is importable.
    unmet = []
    for line in metadata.requires("scheduled-tasks-constructs") or []:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            found = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            unmet.append(f"{req} (not installed)")
            continue
        if not req.specifier.contains(found, prereleases=True):
            unmet.append(f"{req} (found {found})")

    app = App(outdir="cdk.out")
    stack = Stack(app, "Consumer")
    ScheduledLambdaToTable(
        stack, "Run", schedule=aws_scheduler.ScheduleExpression.rate(Duration.minutes(5))
    )
    app.synth()

    print(json.dumps({"package_file": scheduled_tasks_constructs.__file__, "sys_path": sys.path, "unmet": unmet}))
    """
)


def _run(args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: int = 180) -> str:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _build(out: Path) -> tuple[Path, Path]:
    # Without --sdist/--wheel, build makes the sdist and then the wheel *from
    # the sdist*, so a file missing from the sdist breaks the wheel too.
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=ROOT, timeout=300)
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


def _check_wheel_contents(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_points_text = archive.read(entry_points).decode()
    assert f"{PACKAGE}/py.typed" in names, "py.typed missing from the wheel"
    assert f"{PACKAGE}/__init__.py" in names
    assert "record_run.py" in RUNTIME_FILES
    missing = [f for f in RUNTIME_FILES if f"{PACKAGE}/runtime/{f}" not in names]
    assert not missing, f"runtime files missing from the wheel: {missing}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")], "bytecode in the wheel"
    assert "scheduled-tasks = scheduled_tasks_constructs.local.cli:main" in entry_points_text


def _check_sdist_contents(sdist: Path) -> None:
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in ("README.md", "API.md", "CONTRACTS.md", "LICENSE", "pyproject.toml", f"src/{PACKAGE}/py.typed"):
        assert required in names, f"{required} missing from the sdist"
    missing = [f for f in RUNTIME_FILES if f"src/{PACKAGE}/runtime/{f}" not in names]
    assert not missing, f"runtime files missing from the sdist: {missing}"


def test_build_check_install_and_synthesize(tmp_path: Path) -> None:
    """One test, not several: the steps share one (slow-ish) build."""
    try:
        from scheduled_tasks_constructs import ScheduledLambdaToTable  # noqa: F401
    except ImportError as error:  # pragma: no cover - only while the construct is being written
        pytest.skip(f"scheduled_tasks_constructs.ScheduledLambdaToTable is not importable yet: {error}")

    # The sdist and the wheel build, pass twine check and contain what they must
    wheel, sdist = _build(tmp_path / "dist")
    _run([sys.executable, "-m", "twine", "check", "--strict", str(wheel), str(sdist)], cwd=ROOT)
    _check_wheel_contents(wheel)
    _check_sdist_contents(sdist)

    # GIVEN a fresh environment (no system site packages) with only the wheel installed
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=False, symlinks=os.name != "nt").create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib_query = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    target_purelib = Path(_run([str(python), "-c", purelib_query], cwd=tmp_path).strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (target_purelib / "_dependencies_from_test_env.pth").write_text("".join(f"{p}\n" for p in ours))
    pip_install = [sys.executable, "-m", "pip", "--python", str(python), "install"]
    _run([*pip_install, "--quiet", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)

    # WHEN a consumer app that imports only the installed package is synthesized
    app_dir = tmp_path / "consumer"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(CONSUMER_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
    report = json.loads(_run([str(python), "-I", "app.py"], cwd=app_dir, env=env).strip().splitlines()[-1])

    # THEN the package came from the wheel, not from src/
    package_file = Path(report["package_file"])
    print("scheduled_tasks_constructs.__file__ =", package_file)
    assert package_file.is_relative_to(target_purelib), package_file
    src = str(ROOT / "src")
    assert not [p for p in report["sys_path"] if p.startswith(src)], report["sys_path"]
    assert not report["unmet"], f"declared requirements not met: {report['unmet']}"

    # AND the template has the schedule and the function, whose asset ships the handler
    outdir = app_dir / "cdk.out"
    template = json.loads((outdir / "Consumer.template.json").read_text())
    resources = template["Resources"].values()
    types = {r["Type"] for r in resources}
    assert "AWS::Scheduler::Schedule" in types
    assert "AWS::Lambda::Function" in types
    functions = [
        r
        for r in resources
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("Handler") == RECORD_RUN_HANDLER
    ]
    assert functions, f"no function with handler {RECORD_RUN_HANDLER}"
    assets = json.loads((outdir / "Consumer.assets.json").read_text())["files"]
    for function in functions:
        asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        asset_dir = outdir / assets[asset_hash]["source"]["path"]
        assert (asset_dir / PACKAGE / "runtime" / "record_run.py").is_file(), sorted(
            str(p.relative_to(asset_dir)) for p in asset_dir.rglob("*")
        )

    # AND the installed command runs the synthesized app locally, from the wheel's own files
    assert (target_purelib / PACKAGE / "local" / "_bootstrap.py").is_file()
    run = json.loads(
        _run(
            [str(python), "-I", "-m", f"{PACKAGE}.local.cli", "run", "cdk.out", "--runs", "2", "--json"],
            cwd=app_dir,
            env=env,
        )
    )
    (construct,) = run["constructs"]
    assert run["ok"] and construct["path"] == "Consumer/Run"
    assert construct["runs_succeeded"] == construct["table_items"] == 2
