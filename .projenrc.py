"""Project configuration: the single source of the generated project files.

Regenerate after editing::

    PROJEN_DISABLE_POST=1 .venv/bin/python .projenrc.py

Every file projen writes is listed in ``.projen/files.json`` and is read-only;
change this file instead of editing them (``tests/test_project_config.py``
checks that the committed files match what this file produces).
"""

from projen import License, SampleReadme
from projen.python import PythonProject

PROJEN_VERSION = "0.104.17"

# Lowest aws-cdk-lib that has everything the constructs use (aws/aws-cdk
# CHANGELOG.v2.md):
#   2.186.0  aws_scheduler / aws_scheduler_targets stable (#33903)
#   2.222.0  lambda.Runtime.PYTHON_3_14 (#35869)
#   2.252.0  Validations.of(...).acknowledge(Acknowledgment(...)) (#37668)
# The test suite passes against 2.252.0 (apart from the cdk-nag checks:
# cdk-nag 3 itself needs aws-cdk-lib >= 2.257.0).
RUNTIME_DEPS = [
    "aws-cdk-lib>=2.252.0,<3",
    "constructs>=10.0.0,<11",
    "jsii>=1.100,<2",
    # The Lambda runtime provides boto3 to the bundled handlers; the local
    # runner (the `scheduled-tasks` command) needs it.
    "boto3>=1.34",
]

# `pip install scheduled-tasks-constructs[local]`: the embedded moto server
# the `scheduled-tasks` command starts when no --endpoint is given. An extra,
# so that CDK apps that only use the constructs do not install a server.
LOCAL_DEPS = ["moto[server]>=5.1,<6"]

# Exact pins where a version change would change committed output
# (API.md rendering, snapshot format, the generated project files).
DEV_DEPS = [
    "pytest>=8",
    "pytest-xdist>=3.5",
    "syrupy>=7,<8",
    "pytest-httpserver>=1.0",
    "cfn-lint>=1",
    "cdk-nag>=3,<4",
    "griffe2md==1.5.1",
    "griffelib==2.4.1",
    "build>=1.2",
    "twine>=6.1",
    f"projen=={PROJEN_VERSION}",
]

project = PythonProject(
    name="scheduled-tasks-constructs",
    module_name="scheduled_tasks_constructs",
    version="0.1.0",
    description=(
        "EventBridge Scheduler + Lambda + SQS + DynamoDB scheduled-task constructs "
        "for the AWS CDK, with roles, grants, retries and dead-letter queues done right."
    ),
    license="Apache-2.0",
    author_name="scheduled-tasks-constructs contributors",
    author_email="",
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Framework :: AWS CDK",
        "Framework :: AWS CDK :: 2",
        "Intended Audience :: Developers",
        "Operating System :: OS Independent",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "Programming Language :: Python :: 3.11",
        "Programming Language :: Python :: 3.12",
        "Programming Language :: Python :: 3.13",
        "Programming Language :: Python :: 3.14",
        "Typing :: Typed",
    ],
    deps=RUNTIME_DEPS,
    # PEP 621 pyproject.toml; the environment is a plain venv + pip
    # (scripts/setup.sh), so the uv-specific tasks are replaced below.
    uv=True,
    pip=False,
    venv=False,
    setuptools=False,
    poetry=False,
    uv_options={
        "project": {
            "name": "scheduled-tasks-constructs",
            "requires_python": ">=3.11",
            "authors": [{"name": "scheduled-tasks-constructs contributors"}],
            "keywords": [
                "aws",
                "aws-cdk",
                "cdk",
                "constructs",
                "eventbridge-scheduler",
                "lambda",
                "sqs",
                "dynamodb",
                "cron",
            ],
            "optional_dependencies": {"local": LOCAL_DEPS, "dev": LOCAL_DEPS + DEV_DEPS},
            "scripts": {"scheduled-tasks": "scheduled_tasks_constructs.local.cli:main"},
        },
        "build_system": {
            "requires": ["hatchling>=1.27"],
            "build_backend": "hatchling.build",
        },
    },
    projenrc_python_options={"projen_version": PROJEN_VERSION},
    pytest=False,
    sample=False,
    github=False,
    clobber=False,
)

# README.md is written by hand; do not let projen create a placeholder.
for component in project.components:
    if isinstance(component, SampleReadme):
        project.node.try_remove_child(component.node.id)

License(project, spdx="Apache-2.0")

# Marker file announcing inline type hints (PEP 561), shipped in the wheel.
# (Created empty by hand: src/scheduled_tasks_constructs/py.typed.)

pyproject = project.try_find_object_file("pyproject.toml")
# Developer tools live in the "dev" extra (pip install -e ".[dev]");
# no PEP 735 dependency group duplicating it.
pyproject.add_deletion_override("dependency-groups")
pyproject.add_override(
    "tool.hatch.build.targets.wheel",
    {"packages": ["src/scheduled_tasks_constructs"]},
)
pyproject.add_override(
    "tool.hatch.build.targets.sdist",
    {
        "include": [
            "/src/scheduled_tasks_constructs",
            "/README.md",
            "/API.md",
            "/CONTRACTS.md",
            "/LICENSE",
        ],
    },
)
pyproject.add_override(
    "tool.pytest.ini_options",
    {
        "testpaths": ["tests"],
        "markers": [
            "packaging: builds the wheel and sdist and installs the wheel "
            "into a fresh virtual environment (select with -m packaging)",
        ],
    },
)

# Keep the entries this repository ignored before projen managed .gitignore,
# and drop the generic "lib/" patterns, which would hide source folders.
project.gitignore.remove_patterns("lib/", "lib64/")
project.gitignore.exclude(
    "",
    "# Project",
    "cdk.out/",
    "node_modules/",
    ".local-run/",
)

# ---------------------------------------------------------------- tasks
# uv is not part of the toolchain: install, package and publish with pip,
# build, twine and publib instead.
for name in ("install", "install:ci", "publish", "publish:test"):
    project.remove_task(name)

project.add_task(
    "install",
    description="Create .venv if needed and install the project with the dev extra",
    exec="bash scripts/setup.sh",
)

project.package_task.reset()
project.package_task.exec("rm -rf dist/python")
project.package_task.exec("python -m build --outdir dist/python .")
project.package_task.exec("python -m twine check --strict dist/python/*")

project.test_task.reset()
project.test_task.exec("python -m pytest -n auto --dist loadgroup -q", receive_args=True)

project.add_task(
    "docs",
    description="Regenerate API.md from the docstrings",
    exec="python scripts/gen_api_docs.py",
)

publish = project.add_task(
    "publish",
    description="Upload dist/python/* to PyPI (needs TWINE_USERNAME/TWINE_PASSWORD "
    "or PYPI_TRUSTED_PUBLISHER; PUBLIB_DRYRUN=true for a dry run)",
)
publish.exec("npx --yes --package publib@0.2 publib-pypi dist/python")

release = project.add_task(
    "release",
    description="Build the wheel and sdist into dist/python and publish them to PyPI",
)
release.spawn(project.package_task)
release.spawn(publish)

project.synth()
