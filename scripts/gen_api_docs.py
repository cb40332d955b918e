"""Generate API.md from the package's docstrings.

Usage::

    python scripts/gen_api_docs.py              # writes API.md
    python scripts/gen_api_docs.py -o out.md    # writes somewhere else
    python scripts/gen_api_docs.py --check      # exit 1 when API.md is stale

(also available as the projen task ``docs``).

The package is read statically with griffe (nothing is imported, so no AWS CDK
or node process is started) and rendered with griffe2md. Documented:

* the package root: every name in ``scheduled_tasks_constructs.__all__`` (the
  constructs, ``DependenciesLayer``, ``RuntimeLayer``, ``AlarmWebhook`` and
  ``ScheduledTasksValidationError``);
* the runtime helpers users import in their own Lambda code: ``runtime`` (the
  names of the environment variables the constructs set), ``runtime.events``,
  ``runtime.messages``, ``runtime.fanout``, ``runtime.sharding``, ``runtime.worker``,
  ``runtime.idempotency`` and ``runtime.webhook``;
* the cost model, ``cost``, the run-time model, ``throughput``, and the schedule
  arithmetic, ``schedule_expressions``;
* the local runner's contract with a synthesized app: ``local.assembly`` (the
  construct metadata and how it is read) and ``local.resources`` (what is made
  locally, and the external-resources file).

The bundled handlers (``runtime.record_run``, ``runtime.producer`` and
``runtime.alarm_notifier``) are not documented here: Lambda calls them, users
do not import them. Their contracts (environment, permissions, event and
response) are in CONTRACTS.md, generated from synthesized templates by
``scripts/gen_contracts.py``.

Names starting with an underscore are hidden; ``__init__`` parameters are shown
on the class. An attribute documented by ``#:`` comment lines right above its
assignment (the Sphinx convention the constructs use for the resources they
create) gets those lines as its docstring. The output depends only on the source and on the pinned griffe /
griffe2md versions (the ``dev`` extra), so it is byte-for-byte reproducible.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _generated_file  # noqa: E402  (the scripts folder is not a package)

from griffe import Docstring, Extension, GriffeLoader, Parser, load_extensions
from griffe2md import render_object_docs
from griffe2md._internal import rendering

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
OUTPUT = ROOT / "API.md"
PACKAGE = "scheduled_tasks_constructs"

#: Modules documented, in this order (paths relative to the package).
MODULES = (
    "",
    "runtime",
    "runtime.events",
    "runtime.messages",
    "runtime.fanout",
    "runtime.sharding",
    "runtime.worker",
    "runtime.idempotency",
    "runtime.ledger",
    "runtime.webhook",
    "runtime.caches",
    "cost",
    "throughput",
    "schedule_expressions",
    "local.assembly",
    "local.resources",
)

#: Modules of which only some members are documented (the rest is the runner's own machinery).
MEMBERS = {"local.resources": ["ExternalResourceError", "load_external_resources", "name_from_arn"]}

REGENERATE = "python scripts/gen_api_docs.py"

HEADER = f"""\
# API reference

<!-- Generated from the docstrings by `{REGENERATE}`; do not edit by hand. -->

Construct classes and helpers exported by `{PACKAGE}`; the runtime helpers
that your own Lambda functions can use (`{PACKAGE}.runtime`: the environment
variable names, `.events`, `.fanout`, `.sharding`, `.worker`, `.idempotency`,
`.webhook`); the cost model (`{PACKAGE}.cost`) and the run-time model
(`{PACKAGE}.throughput`); the schedule arithmetic
(`{PACKAGE}.schedule_expressions`); and what the local runner reads from a
synthesized app (`{PACKAGE}.local.assembly`) and makes on the local endpoint
(`{PACKAGE}.local.resources`). What each created function receives (its
environment, permissions, event and limits) and what each construct creates,
alarms on and acknowledges to cdk-nag is in [CONTRACTS.md](CONTRACTS.md).
"""

LINE_LENGTH = 88

CONFIG = {
    "docstring_style": "numpy",
    "docstring_options": {"ignore_init_summary": True},
    "heading_level": 2,
    "show_root_heading": True,
    "show_root_full_path": True,
    "show_submodules": False,
    "show_signature_annotations": True,
    "separate_signature": True,
    "line_length": LINE_LENGTH,
    "merge_init_into_class": True,
    "inherited_members": False,
    "filters": ["!^_"],
    "members_order": "alphabetical",
    "show_if_no_docstring": True,
    # Submodules are not rendered, so do not list them either.
    "summary": {"attributes": True, "classes": True, "functions": True, "modules": False},
}


def _split_top_level(text: str) -> list[str]:
    """Split ``text`` on the commas that are not inside brackets or strings."""
    parts: list[str] = []
    depth = 0
    quote = ""
    start = 0
    for index, char in enumerate(text):
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return parts


def _format(code: str, line_length: int) -> str:
    """Lay out a long signature one parameter per line (black's style).

    griffe2md formats long signatures with black when black happens to be
    installed; this replacement makes the output independent of that. It is
    given ``def <name>(<params>) -> <return>: pass`` and must answer in the
    same shape; any other code is returned unchanged.
    """
    if not (code.startswith("def ") and code.endswith(": pass")):
        return code
    body = code[len("def ") : -len(": pass")]
    open_paren = body.find("(")
    depth = 0
    close_paren = -1
    for index in range(open_paren, len(body)):
        if body[index] in "([{":
            depth += 1
        elif body[index] in ")]}":
            depth -= 1
            if depth == 0:
                close_paren = index
                break
    if open_paren < 0 or close_paren < 0:
        return code
    name = body[:open_paren]
    params = _split_top_level(body[open_paren + 1 : close_paren])
    rest = body[close_paren + 1 :]
    lines = "".join(f"    {param},\n" for param in params)
    return f"def {name}(\n{lines}){rest}:\n    pass\n"


def _use_own_formatter() -> None:
    if not hasattr(rendering, "_get_black_formatter"):
        raise RuntimeError(
            "griffe2md changed its internals; pin the version from the 'dev' extra "
            '(pip install -e ".[dev]")'
        )
    rendering._get_black_formatter = lambda: _format


def _hide_instance_attribute_values(obj) -> None:
    """Drop the right-hand side of ``self.x = ...`` assignments.

    Those values are implementation details of ``__init__`` (griffe2md would
    print them as the attribute's value); class attributes and module
    constants keep theirs.
    """
    for member in obj.members.values():
        if member.is_alias:
            continue
        if member.is_attribute and "instance-attribute" in member.labels:
            member.value = None
        elif member.is_class or member.is_module:
            _hide_instance_attribute_values(member)


_FENCE = re.compile(r"^(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")
_LINK = re.compile(r"\[([^\[\]]+)\]\(#([\w.]+)\)")
_ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|data|exc|obj|const):`~?\.?([^`]+)`")


def _github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading (without the duplicate suffix)."""
    text = heading.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _postprocess(markdown: str) -> str:
    """Make the Markdown work on GitHub and other renderers.

    * links to documented objects point at their heading's anchor; links to
      anything else (``str``, ``aws_cdk...``) become plain text;
    * Sphinx roles (``:class:`X```) become code spans;
    * trailing whitespace is removed.
    """
    lines = markdown.split("\n")
    anchors: dict[str, str] = {}
    seen: dict[str, int] = {}
    in_code = False
    for line in lines:
        if _FENCE.match(line):
            in_code = not in_code
            continue
        match = None if in_code else _HEADING.match(line)
        if not match:
            continue
        slug = _github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if count:
            slug = f"{slug}-{count}"
        title = match.group(2).strip()
        if title.startswith("`") and title.endswith("`"):
            anchors.setdefault(title.strip("`"), slug)

    def relink(match: re.Match[str]) -> str:
        title, target = match.group(1), match.group(2)
        if target in anchors:
            return f"[{title}](#{anchors[target]})"
        return title

    out = []
    in_code = False
    for line in lines:
        if _FENCE.match(line):
            in_code = not in_code
        elif not in_code:
            line = _ROLE.sub(r"`\1`", _LINK.sub(relink, line))
        out.append(line.rstrip())
    return "\n".join(out)


class CommentDocstrings(Extension):
    """Give an attribute without a docstring the ``#:`` comment lines right above it."""

    def on_attribute_instance(self, *, attr, agent, **kwargs) -> None:  # noqa: D102 (griffe hook)
        code = getattr(agent, "code", None)
        if attr.docstring is not None or not attr.lineno or code is None:
            return
        lines = code.splitlines()
        comment: list[str] = []
        index = attr.lineno - 2  # the line above the assignment (lineno is 1-based)
        while index >= 0 and lines[index].strip().startswith("#:"):
            comment.insert(0, lines[index].strip()[2:].strip())
            index -= 1
        if comment:
            attr.docstring = Docstring(
                "\n".join(comment),
                lineno=index + 2,
                endlineno=attr.lineno - 1,
                parent=attr,
                parser=Parser.numpy,
                parser_options=CONFIG["docstring_options"],
            )


def load_package():
    """Load the package statically (nothing is imported) with its aliases resolved."""
    loader = GriffeLoader(
        extensions=load_extensions(CommentDocstrings()),
        search_paths=[str(SRC)],
        docstring_parser=Parser.numpy,
        docstring_options=CONFIG["docstring_options"],
        allow_inspection=False,
    )
    package = loader.load(PACKAGE)
    loader.resolve_aliases(external=False, implicit=False)
    return package


def render() -> str:
    """Return the Markdown text of API.md."""
    _use_own_formatter()
    package = load_package()
    _hide_instance_attribute_values(package)

    sections = [HEADER.strip()]
    for relative in MODULES:
        try:
            module = package[relative] if relative else package
        except KeyError:
            print(f"gen_api_docs: {PACKAGE}.{relative} not found; skipped", file=sys.stderr)
            continue
        config = dict(CONFIG, members=MEMBERS[relative]) if relative in MEMBERS else CONFIG
        sections.append(render_object_docs(module, config).strip())
    return _postprocess("\n\n".join(sections)).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="gen_api_docs: %(name)s: %(message)s")
    return _generated_file.main(
        render, output=OUTPUT, regenerate=REGENERATE, description=__doc__.splitlines()[0], argv=argv
    )


if __name__ == "__main__":
    sys.exit(main())
