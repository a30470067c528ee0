"""Table and column names that are safe to write into SQL.

A table or column name comes from the user or from a result table; it is put into statements
only quoted and only when it is a plain identifier, so a name can never inject SQL.
"""

from __future__ import annotations

import re
from typing import TypeGuard

from ...errors import ConfigError

MAX_IDENTIFIER = 64  # MySQL's limit on table names
IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def is_identifier(name: object) -> TypeGuard[str]:
    """True for letters, digits and underscores, starting with a letter or underscore, <= 64."""
    return isinstance(name, str) and IDENTIFIER_RE.match(name) is not None


def validate_identifier(name: object, what: str = "table name") -> str:
    """The name itself if it is a plain SQL identifier, else ConfigError (before connecting)."""
    if not is_identifier(name):
        raise ConfigError(
            f"invalid {what} {name!r}: expected letters, digits and underscores, starting with a"
            f" letter or underscore, at most {MAX_IDENTIFIER} characters"
        )
    return name
