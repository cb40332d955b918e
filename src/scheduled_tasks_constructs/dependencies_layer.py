"""A Lambda layer built from a requirements file, without Docker.

:class:`DependenciesLayer` installs the packages of a ``requirements.txt``-style
file with the ``pip`` of the Python that runs the CDK app, asking pip for wheels
built for the Lambda runtime and architecture (``--platform``,
``--python-version``, ``--only-binary=:all:``). It uses the CDK's local bundling
hook, so a Docker engine is never needed (and never tried).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from typing import Any, List, Optional, Sequence

import jsii
from aws_cdk import (
    AssetHashType,
    BundlingOptions,
    DockerImage,
    ILocalBundling,
    RemovalPolicy,
)
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from . import _defaults
from ._validation import Problems

__all__ = ["DependenciesLayer", "pip_install_command"]

#: The runtime of the layer when none is given.
DEFAULT_RUNTIME = _defaults.FUNCTION_RUNTIME
#: The architecture of the layer when none is given.
DEFAULT_ARCHITECTURE = _defaults.FUNCTION_ARCHITECTURE

#: The image CDK would run if local bundling declined. It never does: the local
#: bundler either succeeds or raises, so this image is never pulled.
_NEVER_PULLED_IMAGE = "scheduled-tasks-constructs/local-bundling-only"

#: Part of the asset hash: change it when the bundling recipe changes in a way
#: the pip command below does not show.
_RECIPE_VERSION = "dependencies-layer/1"

_PYTHON_RUNTIME_NAME = re.compile(r"^python3\.(\d+)$")
_ALLOWED_RUNTIME = "a Python 3 Lambda runtime such as Runtime.PYTHON_3_14"
_ALLOWED_ARCHITECTURE = "Architecture.ARM_64 or Architecture.X86_64"

#: Machine names pip uses in platform tags, by Lambda architecture name.
_PLATFORM_MACHINE = {"arm64": "aarch64", "x86_64": "x86_64"}

#: glibc of the Lambda execution environment: Amazon Linux 2023 from
#: python3.12 on, Amazon Linux 2 before.
_AL2023_FIRST_MINOR = 12
_GLIBC_MINOR_AL2023 = 34
_GLIBC_MINOR_AL2 = 26

#: Lines of pip's output kept in the error raised when it fails.
_PIP_OUTPUT_TAIL_LINES = 25

_NESTED_FILE_OPTION = re.compile(
    r"^(?:-[rc]\s*|--(?:requirement|constraint)(?:\s*=\s*|\s+))([^\s#]+)"
)


def _python_version(runtime_name: str) -> Optional[str]:
    """Return ``"3.14"`` for ``"python3.14"``; None for anything that is not Python 3."""
    match = _PYTHON_RUNTIME_NAME.match(runtime_name)
    return f"3.{match.group(1)}" if match else None


def _platform_tags(python_version: str, architecture_name: str) -> List[str]:
    """Every manylinux tag the Lambda environment of this runtime can load, newest first."""
    machine = _PLATFORM_MACHINE[architecture_name]
    minor = int(python_version.split(".")[1])
    glibc_minor = _GLIBC_MINOR_AL2023 if minor >= _AL2023_FIRST_MINOR else _GLIBC_MINOR_AL2
    # pip does not widen manylinux_2_N to older glibc versions by itself, so
    # name each one; manylinux2014 (= manylinux_2_17) also brings in
    # manylinux2010 and manylinux1 on x86_64.
    tags = [f"manylinux_2_{n}_{machine}" for n in range(glibc_minor, 17, -1)]
    tags.append(f"manylinux2014_{machine}")
    return tags


def pip_install_command(
    *,
    requirements_file: str,
    target: str,
    runtime: lambda_.Runtime = DEFAULT_RUNTIME,
    architecture: lambda_.Architecture = DEFAULT_ARCHITECTURE,
    pip_args: Sequence[str] = (),
    python: str = sys.executable,
) -> List[str]:
    """Build the ``pip install`` command that fills a layer for a Lambda runtime.

    Parameters
    ----------
    requirements_file : str
        The requirements file to install.
    target : str
        The directory pip installs into (the layer's ``python/`` folder).
    runtime : aws_cdk.aws_lambda.Runtime, optional
        A Python 3 runtime; its version becomes ``--python-version``.
        Default: the library's default function runtime (``PYTHON_3_14``).
    architecture : aws_cdk.aws_lambda.Architecture, optional
        ``ARM_64`` or ``X86_64``; selects the ``--platform`` tags.
        Default: ``ARM_64``.
    pip_args : sequence of str, optional
        Extra arguments appended to the command. Default: none.
    python : str, optional
        The interpreter that runs pip. Default: the running interpreter.

    Returns
    -------
    list of str
        The command, ready for :func:`subprocess.run`.

    Raises
    ------
    ValueError
        When ``runtime`` is not a Python 3 runtime or ``architecture`` is
        neither ``ARM_64`` nor ``X86_64``.

    Examples
    --------
    >>> from aws_cdk import aws_lambda as lambda_
    >>> cmd = pip_install_command(
    ...     requirements_file="requirements-layer.txt",
    ...     target="out/python",
    ...     runtime=lambda_.Runtime.PYTHON_3_13,
    ...     architecture=lambda_.Architecture.X86_64,
    ...     python="python",
    ... )
    >>> cmd[:4]
    ['python', '-m', 'pip', 'install']
    >>> "manylinux2014_x86_64" in cmd
    True
    """
    python_version = _python_version(runtime.name)
    if python_version is None:
        raise ValueError(f"runtime must be {_ALLOWED_RUNTIME}, got {runtime.name!r}")
    if architecture.name not in _PLATFORM_MACHINE:
        raise ValueError(f"architecture must be {_ALLOWED_ARCHITECTURE}, got {architecture.name!r}")
    command = [
        python, "-m", "pip", "install",
        "--requirement", requirements_file,
        "--target", target,
        "--implementation", "cp",
        "--python-version", python_version,
        "--only-binary=:all:",
        "--upgrade",
        "--no-compile",
        "--disable-pip-version-check",
        "--no-input",
    ]  # fmt: skip
    for tag in _platform_tags(python_version, architecture.name):
        command += ["--platform", tag]
    command += list(pip_args)
    return command


def _requirements_fingerprint(path: str, seen: Optional[set] = None) -> str:
    """Hash a requirements file's bytes and those of the files it includes with -r / -c."""
    seen = set() if seen is None else seen
    real = os.path.realpath(path)
    digest = hashlib.sha256()
    if real in seen:
        return digest.hexdigest()
    seen.add(real)
    try:
        with open(real, "rb") as handle:
            content = handle.read()
    except OSError:
        # A missing nested file is pip's error to report, at bundling time.
        digest.update(b"<missing>")
        return digest.hexdigest()
    digest.update(content)
    base = os.path.dirname(real)
    for line in content.decode("utf-8", "replace").splitlines():
        match = _NESTED_FILE_OPTION.match(line.strip())
        if match and "://" not in match.group(1):
            nested = os.path.join(base, match.group(1))
            digest.update(_requirements_fingerprint(nested, seen).encode())
    return digest.hexdigest()


def _lists_requirements(path: str) -> bool:
    """Return True when the file has at least one line that is not blank or a comment."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return any(line.split("#", 1)[0].strip() for line in handle)


@jsii.implements(ILocalBundling)
class _PipLocalBundling:
    """Runs ``pip install --target`` on this machine; never hands over to Docker."""

    def __init__(
        self,
        *,
        requirements_file: str,
        runtime: lambda_.Runtime,
        architecture: lambda_.Architecture,
        pip_args: Sequence[str],
    ) -> None:
        self._requirements_file = requirements_file
        self._runtime = runtime
        self._architecture = architecture
        self._pip_args = list(pip_args)

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        """Install the requirements into ``<output_dir>/python``.

        Returns True on success. Raises RuntimeError with the tail of pip's
        output when pip fails, so that the CDK never falls back to Docker.
        """
        target = os.path.join(output_dir, "python")
        os.makedirs(target, exist_ok=True)
        command = pip_install_command(
            requirements_file=self._requirements_file,
            target=target,
            runtime=self._runtime,
            architecture=self._architecture,
            pip_args=self._pip_args,
        )
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
        try:
            result = subprocess.run(
                command,
                cwd=os.path.dirname(self._requirements_file),
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as error:
            raise RuntimeError(
                f"DependenciesLayer could not start pip ({shlex.join(command[:3])}): {error}"
            ) from error
        if result.returncode != 0:
            raise RuntimeError(self._failure_message(result))
        return True

    def _failure_message(self, result: "subprocess.CompletedProcess[str]") -> str:
        output = (result.stderr.strip() or result.stdout.strip()).splitlines()
        tail = "\n".join(output[-_PIP_OUTPUT_TAIL_LINES:])
        message = (
            f"DependenciesLayer could not install {self._requirements_file} for "
            f"{self._runtime.name}/{self._architecture.name}: pip exited with status "
            f"{result.returncode}.\n{tail}"
        )
        if "No matching distribution found" in tail or "Could not find a version" in tail:
            message += (
                "\nEvery package needs a wheel for this Python version and a manylinux "
                f"{_PLATFORM_MACHINE[self._architecture.name]} platform (or a pure-Python "
                "wheel): packages published only as source cannot be built without Docker."
            )
        if "No module named pip" in tail:
            message += f"\nInstall pip into the Python that runs the CDK app ({sys.executable})."
        return message


class DependenciesLayer(Construct):
    """A Lambda layer holding the Python packages of a requirements file.

    The packages are installed at synth time by the ``pip`` of the Python that
    runs the CDK app, into the layer's ``python/`` folder, as wheels for the
    layer's runtime and architecture. No Docker engine is used. Every package
    (and dependency) must therefore be available as a wheel for that platform,
    or as a pure-Python wheel.

    The asset hash is derived from the requirements file's content (and that
    of files it includes with ``-r`` / ``-c``), the runtime, the architecture
    and ``pip_args``. Other files next to the requirements file do not change
    it, and an unchanged hash reuses the bundle already in the cloud assembly.
    Unpinned requirements are not re-resolved while the hash is unchanged: pin
    versions to control upgrades.

    Parameters
    ----------
    scope : constructs.Construct
        The parent construct.
    id : str
        The construct id.
    requirements_file : str
        Path to the requirements file (for example ``requirements-layer.txt``).
        Relative paths are resolved from the current directory. It must exist
        and list at least one requirement. pip runs in the file's directory.
    runtime : aws_cdk.aws_lambda.Runtime, optional
        The Python 3 runtime the packages are installed for; it is the layer's
        only compatible runtime. Default: ``Runtime.PYTHON_3_14``, the
        library's function runtime.
    architecture : aws_cdk.aws_lambda.Architecture, optional
        ``ARM_64`` or ``X86_64``; the layer's only compatible architecture.
        Default: ``Architecture.ARM_64``.
    pip_args : sequence of str, optional
        Extra arguments for ``pip install``, for example
        ``["--no-index", "--find-links", "wheels"]`` for an offline build.
        Relative paths are resolved from the requirements file's directory.
        Default: none (pip's own configuration and index).
    description : str, optional
        The layer version's description. Default: no description.
    removal_policy : aws_cdk.RemovalPolicy, optional
        What happens to a layer version when it is replaced or its stack is
        deleted. Default: ``RemovalPolicy.DESTROY`` (the ``LayerVersion``
        default; functions already using a version keep working).

    Attributes
    ----------
    layer : aws_cdk.aws_lambda.ILayerVersion
        The layer version (child id ``"Layer"``).
    requirements_file : str
        The absolute path of the requirements file.
    runtime : aws_cdk.aws_lambda.Runtime
        The runtime the packages were installed for.
    architecture : aws_cdk.aws_lambda.Architecture
        The architecture the packages were installed for.

    Raises
    ------
    ScheduledTasksValidationError
        (a ``ValueError``) when the requirements file is missing or empty, the
        runtime is not a Python 3 runtime, the architecture is neither
        ``ARM_64`` nor ``X86_64``, or ``pip_args`` is not a list of strings.
    RuntimeError
        When pip fails; the message ends with the last lines of pip's output.

    Examples
    --------
    A layer for the library's default runtime (Python 3.14 on arm64)::

        from aws_cdk import aws_lambda as lambda_
        from scheduled_tasks_constructs.dependencies_layer import DependenciesLayer

        deps = DependenciesLayer(
            stack, "Dependencies", requirements_file="requirements-layer.txt"
        )
        lambda_.Function(
            stack,
            "Task",
            runtime=deps.runtime,
            architecture=deps.architecture,
            layers=[deps.layer],
            handler="task.handler",
            code=lambda_.Code.from_asset("src"),
        )

    An offline build from a folder of wheels, for x86_64::

        DependenciesLayer(
            stack,
            "OfflineDependencies",
            requirements_file="layer/requirements-layer.txt",
            architecture=lambda_.Architecture.X86_64,
            pip_args=["--no-index", "--find-links", "wheels"],
        )
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        requirements_file: str,
        runtime: Optional[lambda_.Runtime] = None,
        architecture: Optional[lambda_.Architecture] = None,
        pip_args: Optional[Sequence[str]] = None,
        description: Optional[str] = None,
        removal_policy: Optional[RemovalPolicy] = None,
    ) -> None:
        super().__init__(scope, id)

        runtime = DEFAULT_RUNTIME if runtime is None else runtime
        architecture = DEFAULT_ARCHITECTURE if architecture is None else architecture
        requirements_path = os.path.abspath(os.fspath(requirements_file))

        problems = Problems("DependenciesLayer")
        if not os.path.isfile(requirements_path):
            problems.add("requirements_file", "an existing file", requirements_path)
        elif not _lists_requirements(requirements_path):
            problems.add(
                "requirements_file", "a file listing at least one requirement", requirements_path
            )
        runtime_name = runtime.name if isinstance(runtime, lambda_.Runtime) else runtime
        if not isinstance(runtime_name, str) or _python_version(runtime_name) is None:
            problems.add("runtime", _ALLOWED_RUNTIME, runtime_name)
        is_architecture = isinstance(architecture, lambda_.Architecture)
        arch_name = architecture.name if is_architecture else architecture
        if not is_architecture or arch_name not in _PLATFORM_MACHINE:
            problems.add("architecture", _ALLOWED_ARCHITECTURE, arch_name)
        if pip_args is not None and (
            isinstance(pip_args, (str, bytes)) or not all(isinstance(a, str) for a in pip_args)
        ):
            problems.add("pip_args", "a list of strings", pip_args)
        problems.raise_if_any()

        pip_args = list(pip_args or ())
        self._requirements_file = requirements_path
        self._runtime = runtime
        self._architecture = architecture

        asset_hash = hashlib.sha256(
            json.dumps(
                {
                    "recipe": _RECIPE_VERSION,
                    "requirements": _requirements_fingerprint(requirements_path),
                    # The command with placeholder paths: any change to the
                    # flags, platform tags or pip_args changes the hash.
                    "command": pip_install_command(
                        requirements_file="<requirements>",
                        target="<target>",
                        runtime=runtime,
                        architecture=architecture,
                        pip_args=pip_args,
                        python="python",
                    ),
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()

        code = lambda_.Code.from_asset(
            os.path.dirname(requirements_path),
            asset_hash=asset_hash,
            asset_hash_type=AssetHashType.CUSTOM,
            bundling=BundlingOptions(
                image=DockerImage.from_registry(_NEVER_PULLED_IMAGE),
                local=_PipLocalBundling(
                    requirements_file=requirements_path,
                    runtime=runtime,
                    architecture=architecture,
                    pip_args=pip_args,
                ),
            ),
        )
        self._layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=code,
            compatible_runtimes=[runtime],
            compatible_architectures=[architecture],
            description=description,
            removal_policy=removal_policy,
        )

    @property
    def layer(self) -> lambda_.ILayerVersion:
        """The layer version holding the packages (child id ``"Layer"``)."""
        return self._layer

    @property
    def requirements_file(self) -> str:
        """The absolute path of the requirements file the layer was built from."""
        return self._requirements_file

    @property
    def runtime(self) -> lambda_.Runtime:
        """The runtime the packages were installed for (the layer's only one)."""
        return self._runtime

    @property
    def architecture(self) -> lambda_.Architecture:
        """The architecture the packages were installed for (the layer's only one)."""
        return self._architecture
