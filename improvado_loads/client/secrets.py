"""Credentials as read, and their scrubbing from every error message.

A token pasted with its newline (``IMPROVADO_API_TOKEN="$TOK"$'\\n'``) is
stripped; one that still holds a character no HTTP header may carry is refused
with a message that names the setting and the position, never the value.
Whatever reaches an error message anyway (an httpx or h11 error quoting a
header) is scrubbed in every form the secret can take there: as is, escaped as
``repr`` writes it (str or bytes), and inside the base64 of Basic credentials.
An API URL holding a username or password is refused, its userinfo masked.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

from improvado_loads.errors import ConfigurationError

__all__ = ["MASK", "clean_credential", "redact_url", "refuse_userinfo", "scrub", "secret_forms"]

MASK = "***"
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.\-]*:)?//)?[^/?#@]*@")


def clean_credential(what: str, value: str | None) -> str | None:
    """``value`` stripped of surrounding whitespace (None when empty); a control character is refused."""
    if value is None:
        return None
    stripped = value.strip()
    for position, char in enumerate(stripped, start=1):
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise ConfigurationError(
                f"the {what} holds a control character (at position {position} of {len(stripped)}) that no "
                "HTTP header may carry; set it again without it (the value is not shown)"
            )
    if what == "token" and not stripped.isascii():
        raise ConfigurationError("the token holds a non-ASCII character; set it again (the value is not shown)")
    return stripped or None


def secret_forms(*values: str | None, basic: tuple[str, str] | None = None) -> list[str]:
    """Every form in which these secrets may appear in a message, longest first."""
    forms: set[str] = set()
    for value in values:
        if not value:
            continue
        forms.update({value, repr(value)[1:-1], repr(value.encode("utf-8", "backslashreplace"))[2:-1]})
        forms.add(value.encode("unicode_escape").decode("ascii"))
    if basic is not None and basic[0] and basic[1]:
        pair = f"{basic[0]}:{basic[1]}".encode()
        forms.add(base64.b64encode(pair).decode("ascii"))
        forms.update(secret_forms(basic[1]))
    # Short fragments (an escaped empty string, a one-letter password) would mask ordinary words.
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)


def scrub(text: str, forms: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``***``."""
    for form in forms:
        text = text.replace(form, MASK)
    return text


def redact_url(url: str) -> str:
    """The URL with any ``user:password@`` replaced by ``***@``."""
    return _USERINFO.sub(lambda m: f"{m.group(1) or ''}{MASK}@", url.strip(), count=1)


def refuse_userinfo(url: str) -> str:
    """The API URL, stripped; refused (masked in the message) when it holds a username or password.

    A password in the URL would be repeated by every message that names the API,
    so it is not accepted at all; :func:`~improvado_loads.client.validation.checked_base_url`
    checks the rest.
    """
    url = url.strip()
    shown = redact_url(url)
    if shown != url:
        raise ConfigurationError(
            f"the API URL must not hold a username or password ({shown}): give the credentials as a token, "
            "or as username, password and workspace id (IMPROVADO_API_TOKEN, improvado:token, ...)"
        )
    return url
