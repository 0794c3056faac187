"""Engine, sessions and migrations. SQLite by default (WAL, foreign keys, busy timeout); PostgreSQL by URL."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Integer, Select, any_, bindparam, create_engine, event
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import gatewayd

MIGRATIONS = Path(__file__).parent / "migrations"

Q = TypeVar("Q", bound=Select[Any])


def in_period(query: Q, column: Any, since: datetime | None, until: datetime | None) -> Q:
    """``query`` narrowed to ``since <= column < until``; a missing bound does not narrow."""
    if since:
        query = query.where(column >= since)
    if until:
        query = query.where(column < until)
    return query


def among(column: Any, name: str, session: Session) -> Any:
    """``column`` is one of the integers bound as ``name`` at execution time.

    On PostgreSQL one array parameter (``= ANY(:name)``): the statement's text is the same for any
    number of values, so psycopg prepares it after a few runs instead of parsing a placeholder per
    value each time (a page of 300 tickets: 2.5 → 1.3 ms per query). SQLite has no arrays: an
    expanding ``IN``."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(Integer)))
    return column.in_(bindparam(name, expanding=True))


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    # WAL + NORMAL stays durable across an application crash (kill -9); only power loss can
    # drop the last commits, which a front-desk PC on a UPS can live with.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would look for psycopg2)."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class SchemaTooNew(Exception):
    """The database was migrated by a newer gatewayd than this one (a package downgraded)."""


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest schema revision this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def refuse_newer(revisions: list[str]) -> None:
    """Raise SchemaTooNew if a database (or a backup) is at a revision this code does not know."""
    known = {revision.revision for revision in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    unknown = sorted(set(revisions) - known)
    if unknown:
        raise SchemaTooNew(
            f"the database schema is at revision {', '.join(unknown)}, newer than this gatewayd "
            f"{gatewayd.__version__} (schema {head()}): install the newer gatewayd again, or restore "
            f"a backup taken by this version")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent); refuse a schema newer than the code.

    Migrating down is never automatic: a downgrade would drop what the newer version recorded.
    """
    config = alembic_config()
    with engine.begin() as connection:
        refuse_newer(list(MigrationContext.configure(connection).get_current_heads()))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
