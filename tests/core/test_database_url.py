"""PostgreSQL URLs: the password hidden wherever a URL is shown, the schema and options read,
and a libpq password file matched as libpq matches it (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from geocheck.core.database import DatabaseSource, DatabaseURL, _pgpass, is_database_url, redact
from geocheck.core.errors import InputError


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://ann:s3cr%40t@db.example:5433/plan?schema=x",
     "postgresql://ann:***@db.example:5433/plan?schema=x"),
    ("postgres://ann:a:b@h/db", "postgres://ann:***@h/db"),
    ("postgresql://ann:p@ss@h/db", "postgresql://ann:***@h/db"),
    ("plan.gpkg", "plan.gpkg"),
    ("postgresql://ann@h/db", "postgresql://ann@h/db"),
    ("postgresql://h/db", "postgresql://h/db"),
    ("postgresql://:pw@h/db", "postgresql://:***@h/db"),
])
def test_redact_hides_only_the_password(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_a_url_is_parsed_with_its_schema_and_defaults() -> None:
    db = DatabaseURL.parse("postgresql://ann:s3cr%40t@db.example/plan?schema=results")
    assert (db.user, db.password, db.host, db.port, db.database, db.schema) == \
        ("ann", "s3cr@t", "db.example", 5432, "plan", "results")
    assert DatabaseURL.parse("postgresql://ann@h/plan").schema == "public"
    source = DatabaseSource("postgresql://ann:pw@h/plan?schema=s")
    assert (str(source), source.name) == ("postgresql://ann:***@h/plan?schema=s", "plan.s")
    assert is_database_url("postgres://h/db") and not is_database_url("plan.gpkg")


def test_an_unknown_option_is_refused_without_the_password() -> None:
    with pytest.raises(InputError, match=r"postgresql://ann:\*\*\*@h/db\?user=x: unknown URL "
                                         r"option\(s\) user") as caught:
        DatabaseURL.parse("postgresql://ann:pw@h/db?user=x")
    assert ":pw@" not in str(caught.value)


def test_a_password_file_line_matches_like_libpq(tmp_path: Path) -> None:
    f = tmp_path / "pgpass"
    f.write_text("# comment\n"
                 "other:5432:plan:ann:no\n"
                 "h:5432:plan:bob:no\n"
                 "h:*:plan:ann:a\\:colon\n"
                 "*:*:*:*:fallback\n", encoding="utf-8")
    assert _pgpass(f, "h", 5432, "plan", "ann") == "a:colon"
    assert _pgpass(f, "h", 5432, "plan", "carl") == "fallback"
    assert _pgpass(tmp_path / "absent", "h", 5432, "plan", "ann") is None
