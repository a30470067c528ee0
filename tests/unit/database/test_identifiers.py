"""Names put into SQL: only plain identifiers pass, so a table name can never inject SQL."""

from __future__ import annotations

import pytest

from telco_analytics.errors import ConfigError
from telco_analytics.io.database.identifiers import (
    MAX_IDENTIFIER,
    is_identifier,
    validate_identifier,
)


@pytest.mark.parametrize("name", ["satisfaction", "_t", "T_2024", "a" * MAX_IDENTIFIER])
def test_plain_identifiers_pass_unchanged(name):
    assert is_identifier(name)
    assert validate_identifier(name) == name


@pytest.mark.parametrize(
    "name", ["", "1abc", "a-b", "a b", "t`x", "x; DROP TABLE y", "é", "a" * 65, None, 5, b"t"]
)
def test_anything_else_is_a_config_error_naming_what(name):
    assert not is_identifier(name)
    with pytest.raises(ConfigError, match=r"invalid order-by column .*at most 64 characters"):
        validate_identifier(name, "order-by column")


def test_default_what_is_the_table_name():
    with pytest.raises(ConfigError, match="invalid table name '1x'"):
        validate_identifier("1x")
