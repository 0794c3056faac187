"""Backups of the ledger: taken while the daemon runs, restored while it is stopped.

A backup is the database itself — an SQLite file made with SQLite's online backup API, or a
``pg_dump --format=custom`` archive — so it can be read with the usual tools. The fax spool (the
received pages) is files: it is backed up beside it (see the README), not inside it.
"""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from gatewayd import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
PG_TIMEOUT_S = 600


class BackupError(Exception):
    """A backup that cannot be taken or restored; the message says what to do."""


def _pg(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq URL for pg_dump/pg_restore, its password in the environment, not on a command line."""
    url = engine.url.set(drivername="postgresql")
    env = {**os.environ, "PGPASSWORD": url.password} if url.password else dict(os.environ)
    return url.set(password=None).render_as_string(hide_password=False), env


def _pg_tool(argv: list[str], env: dict[str, str], stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True, env=env, timeout=PG_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise BackupError(f"{argv[0]} failed: {err} (install postgresql-client)") from err
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} exited {done.returncode}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def dump(engine: Engine) -> bytes:
    """A consistent copy of the whole database while the daemon keeps running."""
    if engine.url.get_backend_name() == "sqlite":
        copy = sqlite3.connect(":memory:")
        try:
            with engine.connect() as connection:
                connection.connection.driver_connection.backup(copy)  # type: ignore[union-attr]
            return copy.serialize()
        finally:
            copy.close()
    url, env = _pg(engine)
    return _pg_tool(["pg_dump", "--format=custom", "--no-owner", f"--dbname={url}"], env)


def _daemon_answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _sqlite_revision(path: Path) -> str:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as backup:
            check = backup.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                raise BackupError(f"{path} is damaged: {'; '.join(row[0] for row in check[:5])}")
            return backup.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{path} is not a readable gatewayd backup: {err}") from err


def _pg_revision(path: Path, env: dict[str, str]) -> str:
    listing = _pg_tool(["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)], env)
    found = re.search(rb"^COPY \S*alembic_version \(version_num\) FROM stdin;\n(.+)$", listing, re.M)
    if not found:
        raise BackupError(f"{path} is not a gatewayd backup: it has no schema revision (alembic_version)")
    return found.group(1).decode()


def restore(engine: Engine, path: Path, *, socket_path: Path, state_dir: Path) -> Path:
    """Put the backup at ``path`` in place of the database; the daemon must be stopped.

    The database as it was is kept first (``<state_dir>/…before-restore-<time>``): a restore never
    loses what it replaces. Returns that copy's path. A backup is brought up to this version's
    schema by the next ``gatewayd run`` or ``gatewayd migrate``.
    """
    if _daemon_answers(socket_path):
        raise BackupError(f"gatewayd is running (it answers on {socket_path}): stop it first "
                          f"(systemctl stop gatewayd)")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as err:
        raise BackupError(f"cannot read {path}: {err.strerror}") from err
    sqlite = engine.url.get_backend_name() == "sqlite"
    kind = "sqlite" if head == SQLITE_MAGIC else "postgresql" if head.startswith(PGDUMP_MAGIC) else None
    if kind is None:
        raise BackupError(f"{path} is not a gatewayd backup (neither an SQLite database nor a pg_dump archive)")
    if kind != ("sqlite" if sqlite else "postgresql"):
        raise BackupError(f"{path} is a {kind} backup but the configured database is "
                          f"{engine.url.render_as_string(hide_password=True)}")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    if sqlite:
        db.refuse_newer([_sqlite_revision(path)])
        target = Path(make_url(engine.url).database or "")
        kept = state_dir / f"{target.name}.before-restore-{stamp}"
        with closing(sqlite3.connect(target)) as current, closing(sqlite3.connect(kept)) as copy:
            current.backup(copy)
        kept.chmod(0o600)
        # Page by page into the existing file: its owner, mode and WAL stay consistent.
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as backup, \
                closing(sqlite3.connect(target)) as current:
            backup.backup(current)
        owner = state_dir.stat()
        for made in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
            if made.exists() and os.geteuid() == 0:  # root restoring for the daemon's user
                os.chown(made, owner.st_uid, owner.st_gid)
        return kept
    url, env = _pg(engine)
    db.refuse_newer([_pg_revision(path, env)])
    kept = state_dir / f"gatewayd.before-restore-{stamp}.pgdump"
    kept.touch(0o600)
    kept.write_bytes(dump(engine))
    # One transaction: the schema emptied (tables a newer version added go too, so an older backup
    # migrates cleanly at the next start) and the backup put in — or nothing changed at all.
    script = _pg_tool(["pg_restore", "--no-owner", "--file=-", str(path)], env)
    _pg_tool(["psql", "--quiet", "--no-psqlrc", "--set=ON_ERROR_STOP=1", "--single-transaction",
              "--command=DROP SCHEMA public CASCADE; CREATE SCHEMA public;", "--file=-", f"--dbname={url}"],
             env, stdin=script)
    return kept
