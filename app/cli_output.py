"""The single place where the CLI writes to the terminal (ruff bans print elsewhere)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def emit(text: str = "") -> None:
    """A line for humans on stdout."""
    sys.stdout.write(text + "\n")


def emit_json(value: Any) -> None:
    """Machine output: JSON on stdout (Decimals as strings, dates ISO 8601)."""
    sys.stdout.write(json.dumps(value, default=_default, ensure_ascii=False, indent=2) + "\n")


def error(text: str) -> None:
    """An error line on stderr."""
    sys.stderr.write(text + "\n")
