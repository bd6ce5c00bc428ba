"""Translating the store's ``?`` placeholders for psycopg, literal by literal."""

from __future__ import annotations

import pytest

from lumenlater_sdk.backend.db._placeholders import to_psycopg


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = %s AND b = %s"),
        ("INSERT INTO t (a, b) VALUES (?,?)", "INSERT INTO t (a, b) VALUES (%s,%s)"),
        ("SELECT 1", "SELECT 1"),
        ("", ""),
    ],
)
def test_code_placeholders_become_psycopg_ones(sql: str, expected: str) -> None:
    assert to_psycopg(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        # A "?" in a string literal is text; a "%" is doubled wherever it is.
        ("SELECT '?' , ?", "SELECT '?' , %s"),
        ("SELECT 'a%b?' || ?", "SELECT 'a%%b?' || %s"),
        # '' is a quote inside the literal, not its end.
        ("SELECT 'it''s ?' , ?", "SELECT 'it''s ?' , %s"),
        ("SELECT '''?''' , ?", "SELECT '''?''' , %s"),
        ("SELECT '' , ?", "SELECT '' , %s"),
        # Standard strings keep a backslash as text; E'' strings escape with it.
        ("SELECT 'a\\' , ?", "SELECT 'a\\' , %s"),
        ("SELECT E'a\\' ?' , ?", "SELECT E'a\\' ?' , %s"),
        ("SELECT e'\\\\' , ?", "SELECT e'\\\\' , %s"),
        # A name ending in e before a quote is no E'' prefix.
        (
            "SELECT * FROM t WHERE type='?\\' AND x = ?",
            "SELECT * FROM t WHERE type='?\\' AND x = %s",
        ),
        # Quoted identifiers, with "" inside.
        ('SELECT "why?" FROM t WHERE "a""?" = ?', 'SELECT "why?" FROM t WHERE "a""?" = %s'),
        # Dollar quoting, tagged or not; $1 and a$b are code.
        ("SELECT $$ ? % $$, ?", "SELECT $$ ? %% $$, %s"),
        ("SELECT $q$ ?$$? $q$, ?", "SELECT $q$ ?$$? $q$, %s"),
        ("SELECT a$b, ?", "SELECT a$b, %s"),
        ("SELECT $1, ?", "SELECT $1, %s"),
    ],
)
def test_literals_keep_question_marks(sql: str, expected: str) -> None:
    assert to_psycopg(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE name LIKE '%x%'", "SELECT * FROM t WHERE name LIKE '%%x%%'"),
        ("SELECT * FROM t WHERE name LIKE ? || '%'", "SELECT * FROM t WHERE name LIKE %s || '%%'"),
        ("SELECT 7 % ?", "SELECT 7 %% %s"),
        ("SELECT '50%' , '%s' , ?", "SELECT '50%%' , '%%s' , %s"),
        ("SELECT '%%'", "SELECT '%%%%'"),
    ],
)
def test_percent_is_escaped_everywhere(sql: str, expected: str) -> None:
    assert to_psycopg(sql) == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT ? -- why? 100%\n, ?", "SELECT %s -- why? 100%%\n, %s"),
        ("SELECT ? -- to the end?", "SELECT %s -- to the end?"),
        ("SELECT /* ? */ ?", "SELECT /* ? */ %s"),
        # Block comments nest.
        ("SELECT /* a /* ? */ b? */ ?", "SELECT /* a /* ? */ b? */ %s"),
        # A quote in a comment opens nothing.
        ("SELECT ? /* it's */ , ?", "SELECT %s /* it's */ , %s"),
        ("SELECT ? -- it's\n, ?", "SELECT %s -- it's\n, %s"),
        # "-" and "/" alone are operators.
        ("SELECT 4 - ? / 2", "SELECT 4 - %s / 2"),
    ],
)
def test_comments_keep_question_marks(sql: str, expected: str) -> None:
    assert to_psycopg(sql) == expected


@pytest.mark.parametrize(
    "sql", ["SELECT 'open ?", 'SELECT "open ?', "SELECT /* open ?", "SELECT $$ open ?", "E'a\\"]
)
def test_unterminated_text_runs_to_the_end(sql: str) -> None:
    # The server reports the syntax error; the translation must not invent code.
    assert to_psycopg(sql) == sql


def test_translation_is_cached_per_sql_string() -> None:
    sql = "SELECT ? AS cached_probe"
    assert to_psycopg(sql) is to_psycopg(sql)
