"""The command line shared by the scripts that generate a checked-in file (API.md, CONTRACTS.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, List, Optional


def main(
    render: Callable[[], str], *, output: Path, regenerate: str, description: str, argv: Optional[List[str]] = None
) -> int:
    """Write ``render()`` to ``--output`` (default ``output``), or with ``--check`` exit 1 when it differs."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-o", "--output", type=Path, default=output, help=f"file to write (default: {output.name})")
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the file is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; regenerate it with: {regenerate}", file=sys.stderr)
            return 1
        return 0
    args.output.write_bytes(text.encode("utf-8"))
    return 0
