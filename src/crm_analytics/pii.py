"""Keyed hashes of personal data, so BI can join or count on an email
without seeing it.

The serving file carries no names, emails, phones, street addresses or birth
dates. Where BI needs to link a customer to another system by email it gets
``email_hash``: HMAC-SHA256 of the normalised email under a secret key read
from the environment variable ``CRM_PII_HASH_KEY`` (never from the
repository, never written to dbt's artifacts). Without the key nobody can
test a guessed email against the hash, which a plain sha256 would allow.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable

HASH_KEY_ENV = "CRM_PII_HASH_KEY"
MIN_KEY_LENGTH = 32


class HashKeyError(ValueError):
    """The hash key is missing or too short."""


def hash_key(environ: dict[str, str] | None = None) -> bytes:
    """The secret key from ``CRM_PII_HASH_KEY``; raises HashKeyError with
    what to do when it is unset or shorter than 32 characters."""
    value = (os.environ if environ is None else environ).get(HASH_KEY_ENV, "")
    if len(value) < MIN_KEY_LENGTH:
        state = "is not set" if not value else f"has {len(value)} characters"
        raise HashKeyError(
            f"{HASH_KEY_ENV} {state}: set it to a secret of at least "
            f"{MIN_KEY_LENGTH} characters, e.g. "
            f'export {HASH_KEY_ENV}="$(python -c '
            "'import secrets; print(secrets.token_hex(32))')\" "
            "(make demo and make build create one in warehouse/.pii_hash_key)"
        )
    return value.encode()


def keyed_hash(value: object, key: bytes) -> str | None:
    """Hex HMAC-SHA256 of ``value`` under ``key``; None for a missing value
    (None, NaN, '')."""
    if not isinstance(value, str) or not value:
        return None
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def keyed_hashes(values: Iterable[object], key: bytes) -> list[str | None]:
    """``keyed_hash`` of each value."""
    return [keyed_hash(value, key) for value in values]
