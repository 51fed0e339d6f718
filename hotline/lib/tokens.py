"""One-way keyed tokens for phone numbers (framework-free).

A token stands for a number where the number itself may no longer be kept (retention, ADR 0002)
or should not be copied (the audit log): the same number under the same key always gives the
same token, and nobody without the key can test a guessed number against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "anon-"
# 20 characters in all: it fits every phone column (Caller.phone is 20). 15 base32 characters
# are 75 bits, so two numbers of one city never share a token in practice.
TOKEN_CHARS = 15


def phone_token(phone: str, key: bytes) -> str:
    """``anon-`` + 15 base32 characters of HMAC-SHA256(key, phone); a token maps to itself."""
    if is_token(phone):
        return phone
    digest = hmac.new(key, phone.encode(), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode().lower()[:TOKEN_CHARS]


def is_token(value: str) -> bool:
    return value.startswith(PREFIX) and len(value) == len(PREFIX) + TOKEN_CHARS
