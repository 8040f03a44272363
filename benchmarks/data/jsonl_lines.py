"""JSONL reading shared by the validators here (standard library only)."""

import json
from pathlib import Path
from typing import Any


def load_lines(path: Path, keys: set[str], errors: list[str]) -> list[dict[str, Any]]:
    """Parse a JSONL file, one object per non-empty line; record lines that do not parse, blank
    lines, and objects whose keys are not exactly `keys`."""
    rows: list[dict[str, Any]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {n}: empty line")
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: not JSON: {e}")
            continue
        if not isinstance(row, dict):
            errors.append(f"line {n}: not a JSON object")
            continue
        if set(row) != keys:
            errors.append(f"line {n}: keys {sorted(row)}, want {sorted(keys)}")
        rows.append(row)
    return rows
