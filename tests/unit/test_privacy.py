"""Keyed pseudonyms and password-free database URLs."""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd
import pytest

from telco_analytics.errors import ConfigError
from telco_analytics.privacy import (
    MASKED_URL_PLACEHOLDER,
    mask_url,
    pseudonym_key_from_env,
    pseudonymize,
)


def test_pseudonym_is_truncated_hmac_sha256():
    out = pseudonymize(pd.Series(["33664962239"]), b"secret")
    expected = hmac.new(b"secret", b"33664962239", hashlib.sha256).hexdigest()[:16]
    assert out.iloc[0] == expected
    assert len(out.iloc[0]) == 16 and all(c in "0123456789abcdef" for c in out.iloc[0])


def test_pseudonyms_are_deterministic_and_keyed():
    ids = pd.Series(["1", "2", "1"], index=[10, 20, 30], name="msisdn")
    a = pseudonymize(ids, "k1")
    assert a.iloc[0] == a.iloc[2] != a.iloc[1]
    assert a.index.tolist() == [10, 20, 30] and a.name == "msisdn"
    pd.testing.assert_series_equal(a, pseudonymize(ids, b"k1"))  # text key = its UTF-8 bytes
    assert (pseudonymize(ids, "k2") != a).all()
    assert not (a == ids).any()


def test_missing_ids_stay_missing():
    out = pseudonymize(pd.Series(["1", None, np.nan]), "k")
    assert out.notna().tolist() == [True, False, False]


def test_no_collisions_on_many_ids():
    ids = pd.Series([f"3366{i:07d}" for i in range(20_000)])
    assert pseudonymize(ids, "k").nunique() == 20_000


def test_empty_key_refused():
    with pytest.raises(ConfigError, match="empty"):
        pseudonymize(pd.Series(["1"]), "")


def test_key_from_env(monkeypatch):
    monkeypatch.setenv("TELCO_PSEUDONYM_KEY", "s3cret")
    assert pseudonym_key_from_env() == b"s3cret"
    monkeypatch.setenv("OTHER_KEY", "x")
    assert pseudonym_key_from_env("OTHER_KEY") == b"x"


def test_key_from_env_unset(monkeypatch):
    monkeypatch.delenv("TELCO_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigError, match="TELCO_PSEUDONYM_KEY"):
        pseudonym_key_from_env()
    monkeypatch.setenv("TELCO_PSEUDONYM_KEY", "")
    with pytest.raises(ConfigError):
        pseudonym_key_from_env()


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "mysql+pymysql://root:hunter2@127.0.0.1:3306/test",
            "mysql+pymysql://root:***@127.0.0.1:3306/test",
        ),
        (
            "mysql+pymysql://app:p%40ss%2Fword@db.example:3306/prod",
            "mysql+pymysql://app:***@db.example:3306/prod",
        ),
        ("sqlite:////tmp/run/telco.db", "sqlite:////tmp/run/telco.db"),
        ("mysql+pymysql://root@127.0.0.1/test", "mysql+pymysql://root@127.0.0.1/test"),
    ],
)
def test_mask_url(url, expected):
    assert mask_url(url) == expected


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a url",
        "mysql+pymysql://u:pw@h:notaport/db",
        None,
        42,
        b"\xff\xfe",
        "mysql+pymysql://root:se@cret@127.0.0.1/test",
    ],
)
def test_mask_url_never_raises_nor_leaks(garbage):
    out = mask_url(garbage)
    assert isinstance(out, str)
    assert "pw" not in out and "cret" not in out
    if garbage in ("", "not a url", None, 42):
        assert out == MASKED_URL_PLACEHOLDER
