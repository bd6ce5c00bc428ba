"""From the ``?`` placeholders the store's SQL is written with to psycopg's ``%s``.

psycopg reads ``%`` as the start of a placeholder anywhere in the text, string
literals included, so every ``%`` is doubled. A ``?`` becomes ``%s`` only where
PostgreSQL would read it as code: inside a quoted literal, a quoted identifier or
a comment it is text and stays as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["to_psycopg"]

# Where something other than plain code may begin. "-" and "/" alone are operators.
_SPECIAL = re.compile(r"""[?%'"$]|--|/\*""")
# A standard string ('' is a quote; a backslash is text) and an escape string
# (E'...', where a backslash escapes the next character). Unterminated: to the end.
_STRING = re.compile(r"'(?:[^']|'')*(?:'|\Z)")
_ESCAPE_STRING = re.compile(r"'(?:[^'\\]|''|\\.)*(?:'|\\?\Z)", re.DOTALL)
_IDENTIFIER = re.compile(r'"(?:[^"]|"")*(?:"|\Z)')
_LINE_COMMENT = re.compile(r"--[^\n]*")
_COMMENT_EDGE = re.compile(r"/\*|\*/")
_DOLLAR_TAG = re.compile(r"\$(?:[^\W\d]\w*)?\$")


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


def _text_end(sql: str, start: int) -> int | None:
    """Where the literal, identifier or comment starting at *start* ends, or None
    when the character there is code after all (a ``$1``, an ``a$b``)."""
    ch = sql[start]
    if ch == "'":
        escaped = (
            start > 0
            and sql[start - 1] in "eE"
            and (start < 2 or not _is_word_char(sql[start - 2]))
        )
        found = (_ESCAPE_STRING if escaped else _STRING).match(sql, start)
    elif ch == '"':
        found = _IDENTIFIER.match(sql, start)
    elif ch == "-":
        found = _LINE_COMMENT.match(sql, start)
    elif ch == "/":
        return _comment_end(sql, start)
    else:  # "$": a dollar-quoted string, unless it is part of a name or a $n
        if start > 0 and _is_word_char(sql[start - 1]):
            return None
        found = _DOLLAR_TAG.match(sql, start)
        if found is None:
            return None
        close = sql.find(found.group(), found.end())
        return len(sql) if close < 0 else close + len(found.group())
    assert found is not None  # each pattern matches its own opening character
    return found.end()


def _comment_end(sql: str, start: int) -> int:
    # PostgreSQL's block comments nest.
    depth = 0
    for edge in _COMMENT_EDGE.finditer(sql, start):
        depth += 1 if edge.group() == "/*" else -1
        if depth == 0:
            return edge.end()
    return len(sql)


@lru_cache(maxsize=4096)
def to_psycopg(sql: str) -> str:
    """*sql* with each code ``?`` as ``%s`` and every ``%`` as ``%%``.

    Cached: the store runs the same few hundred statements over and over.
    """
    out: list[str] = []
    pos = 0
    while (found := _SPECIAL.search(sql, pos)) is not None:
        start = found.start()
        out.append(sql[pos:start])
        token = found.group()
        if token == "?":
            out.append("%s")
            pos = start + 1
        elif token == "%":
            out.append("%%")
            pos = start + 1
        elif (end := _text_end(sql, start)) is None:
            out.append(token)
            pos = start + len(token)
        else:
            out.append(sql[start:end].replace("%", "%%"))
            pos = end
    out.append(sql[pos:])
    return "".join(out)
