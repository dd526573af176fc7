"""Client-chosen text made safe to put in a log line."""

from __future__ import annotations

LOG_TEXT_LIMIT = 64
"""Characters of a client-chosen string that reach a log line."""


def for_log(value: object, limit: int = LOG_TEXT_LIMIT) -> str:
    """``value`` as a quoted, escaped, length-capped literal for a log line.

    Strings are cut to ``limit`` characters and escaped like ``ascii()`` (control
    characters, line breaks and every non-ASCII character become ``\\x..``/``\\u..``
    escapes), so client input can neither forge log lines nor flood them; a cut string
    says how long it was. Anything else is shown by its type name only.
    """
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"
    if len(value) <= limit:
        return ascii(value)
    return f"{value[:limit]!a}... ({len(value)} characters)"
