"""API.md is generated from the docstrings and must match the source."""

from __future__ import annotations

import difflib
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
API_MD = ROOT / "API.md"
REGENERATE = "python scripts/gen_api_docs.py  (or the projen task: projen docs)"


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("api") / "API.md"
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_api_docs.py"), "--output", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"scripts/gen_api_docs.py failed:\n{result.stdout}\n{result.stderr}"
    return out.read_text(encoding="utf-8")


def test_api_md_is_up_to_date(regenerated: str) -> None:
    committed = API_MD.read_text(encoding="utf-8") if API_MD.exists() else ""
    if regenerated != committed:
        diff = list(
            difflib.unified_diff(
                committed.splitlines(), regenerated.splitlines(), "API.md (committed)", "API.md (from source)", lineterm=""
            )
        )
        shown = "\n".join(diff[:60]) + ("\n..." if len(diff) > 60 else "")
        pytest.fail(f"API.md is out of date. Regenerate it with:\n\n    {REGENERATE}\n\n{shown}", pytrace=False)


def test_api_md_documents_the_public_api_only(regenerated: str) -> None:
    headings = re.findall(r"^#{2,6} `([\w.]+)`$", regenerated, flags=re.MULTILINE)
    assert "scheduled_tasks_constructs" in headings
    private = [name for name in headings if any(part.startswith("_") for part in name.split("."))]
    assert not private, f"private names in API.md: {private}"
    # Of the local tooling, only its contract with a synthesized app is documented.
    contract = ("scheduled_tasks_constructs.local.assembly", "scheduled_tasks_constructs.local.resources")
    internal = [
        name for name in headings
        if name.startswith("scheduled_tasks_constructs.local") and not name.startswith(contract)
    ]
    assert not internal, f"local tooling beyond the assembly contract is documented: {internal}"
    resources = [name for name in headings if name.startswith(contract[1] + ".")]
    assert sorted(resources) == [
        f"{contract[1]}.{name}" for name in ("ExternalResourceError", "load_external_resources", "name_from_arn")
    ]


# --- every documented public name has a docstring -------------------------------------


def _load_generator():
    """``scripts/gen_api_docs.py`` as a module (it is a script, not part of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("_gen_api_docs", ROOT / "scripts" / "gen_api_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator():
    return _load_generator()


@pytest.fixture(scope="module")
def package(generator):
    """The package as griffe reads it for API.md: statically, nothing imported (no aws_cdk)."""
    return generator.load_package()


def _documented_in_class(cls, name: str) -> bool:
    """Whether the class docstring describes ``name`` (a dataclass field, an ``__init__`` attribute)."""
    if cls.docstring is None:
        return False
    for section in cls.docstring.parsed:
        if section.kind.value in ("parameters", "attributes", "other parameters"):
            if any(item.name == name for item in section.value):
                return True
    return False


def _public_members(obj, selection=None):
    """(name, member) of what API.md renders of ``obj``: public, own (not inherited), no submodules."""
    exports = None
    if obj.is_module:
        exports = obj.exports if obj.exports is not None else None
    for name, member in sorted(obj.members.items()):
        if selection is not None and name not in selection:
            continue
        if name.startswith("_"):
            continue
        if obj.is_module:
            if exports is not None and name not in exports:
                continue
            if exports is None and member.is_alias:
                continue  # an import, not a definition of this module
            if member.is_module:
                continue  # documented on its own, or not at all
        elif member.is_alias:
            continue  # inherited or imported
        yield name, member


def _undocumented(generator, package) -> list[str]:
    missing: list[str] = []

    def visit(obj, path: str, selection=None) -> None:
        for name, member in _public_members(obj, selection):
            target = member.final_target if member.is_alias else member
            qualified = f"{path}.{name}"
            if target.docstring is None or not target.docstring.value.strip():
                if not (obj.is_class and target.is_attribute and _documented_in_class(obj, name)):
                    kind = "property" if "property" in target.labels else target.kind.value
                    missing.append(f"{qualified} ({kind}, {target.relative_filepath}:{target.lineno})")
            if target.is_class:
                visit(target, qualified)

    for relative in generator.MODULES:
        module = package[relative] if relative else package
        path = f"{generator.PACKAGE}.{relative}" if relative else generator.PACKAGE
        if module.docstring is None or not module.docstring.value.strip():
            missing.append(f"{path} (module)")
        visit(module, path, generator.MEMBERS.get(relative))
    return missing


def test_every_documented_public_name_has_a_docstring(generator, package) -> None:
    missing = _undocumented(generator, package)
    assert not missing, "public names without a docstring (give each one, or a #: comment above an attribute):\n  " + (
        "\n  ".join(missing)
    )


def test_api_md_documents_every_exported_name(generator, package, regenerated: str) -> None:
    """Every name in each documented module's ``__all__`` has a heading (a lazy import must not hide one)."""
    headings = set(re.findall(r"^#{2,6} `([\w.]+)`$", regenerated, flags=re.MULTILINE))
    absent = []
    for relative in generator.MODULES:
        module = package[relative] if relative else package
        path = f"{generator.PACKAGE}.{relative}" if relative else generator.PACKAGE
        names = generator.MEMBERS.get(relative) or module.exports or []
        absent += [f"{path}.{name}" for name in names if f"{path}.{name}" not in headings]
    assert not absent, f"exported but not in API.md: {absent}"
