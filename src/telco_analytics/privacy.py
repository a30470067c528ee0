"""Privacy helpers: keyed pseudonyms for subscriber ids, and database URLs without passwords."""

from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd

from .errors import ConfigError

PSEUDONYM_KEY_ENV = "TELCO_PSEUDONYM_KEY"
PSEUDONYM_LENGTH = 16  # hex characters kept of the HMAC-SHA256 digest (64 bits)
MASKED_URL_PLACEHOLDER = "<unparseable database URL>"


def _key_bytes(key: bytes | str) -> bytes:
    """The HMAC key as bytes (text keys are UTF-8 encoded); an empty key is refused."""
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not raw:
        raise ConfigError("pseudonymization key is empty: expected a non-empty secret")
    return raw


def pseudonymize(values: pd.Series, key: bytes | str) -> pd.Series:
    """Deterministic keyed pseudonyms (HMAC-SHA256, hex, first 16 chars) of identifiers.

    The same id and key always give the same pseudonym, so joins across tables still work;
    without the key the mapping cannot be recomputed from a list of candidate numbers.
    Missing values stay missing. The index and name of `values` are kept.
    """
    secret = _key_bytes(key)
    cache: dict[str, str] = {}  # many sessions share a subscriber: hash each id once

    def one(value: object) -> object:
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            return None
        text = str(value)
        out = cache.get(text)
        if out is None:
            digest = hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()
            out = cache[text] = digest[:PSEUDONYM_LENGTH]
        return out

    return pd.Series([one(v) for v in values], index=values.index, name=values.name, dtype="string")


def pseudonym_key_from_env(var: str = PSEUDONYM_KEY_ENV) -> bytes:
    """The pseudonymization key from the environment (never from code or config files)."""
    value = os.environ.get(var)
    if not value:
        raise ConfigError(
            f"pseudonymization key not set: expected a secret in the environment variable {var}"
            f" (e.g. export {var}=$(openssl rand -hex 32)), found it unset or empty"
        )
    return value.encode("utf-8")


def mask_url(url: str) -> str:
    """A database URL safe to log or show: the password replaced by ***; never raises."""
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(str(url))
        # an unencoded "@" in a password makes the parser cut the password short and put the
        # rest into the host: showing that host would leak part of the secret
        if parsed.host and "@" in parsed.host:
            return MASKED_URL_PLACEHOLDER
        return parsed.render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - garbage in must never leak or crash an error message
        return MASKED_URL_PLACEHOLDER
