"""Slack request signing (v0), as described in Slack's "Verifying requests" guide.

The fake signs the requests it sends to the bot exactly like Slack does, so the bot's real
verification code (Bolt's SignatureVerifier) is exercised rather than bypassed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"

# Slack (and Bolt) reject requests whose timestamp is more than five minutes away from now.
MAX_AGE_SECONDS = 5 * 60


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """Return the `v0=<hex>` signature of `body` sent at `timestamp`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Return the two headers Slack attaches to a request carrying `body`.

    `timestamp` defaults to now; pass an old one to build a stale (replayed) request.
    """
    ts = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(secret, body, ts)}


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    max_age: int = MAX_AGE_SECONDS,
) -> bool:
    """Check `headers` against `body` the way Slack apps must: fresh timestamp, matching HMAC."""
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ts = lowered.get(TIMESTAMP_HEADER.lower())
    given = lowered.get(SIGNATURE_HEADER.lower())
    if raw_ts is None or given is None:
        return False
    try:
        ts = int(raw_ts)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > max_age:
        return False
    # Constant-time comparison: a plain == would leak how many leading characters matched.
    return hmac.compare_digest(signature(secret, body, ts), given)
