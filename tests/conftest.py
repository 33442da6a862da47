"""Test fixtures: every database test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.

Schemas come from the Alembic migrations (never `create_all`): each backend is migrated once into a template,
and every test gets a fresh copy of it (a file copy for SQLite, CREATE DATABASE ... TEMPLATE for PostgreSQL).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.auth import create_key
from app.main import create_app
from app.migrate import upgrade
from app.settings import Settings

PG_ENV = "TEST_DATABASE_URL"
_counter = itertools.count()


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        raise RuntimeError(f"CI must run the database tests on PostgreSQL too: set {PG_ENV}")
    return url


def _psycopg(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head, copied for each test."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[tuple[str, str] | None]:
    """(admin URL, template database name) on the PostgreSQL server, migrated to head; None without one."""
    admin = _pg_admin_url()
    if not admin:
        yield None
        return
    admin = _psycopg(admin)
    name = f"fcr_tpl_{os.getpid()}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    upgrade(make_url(admin).set(database=name).render_as_string(hide_password=False))
    yield admin, name
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, pg_template: tuple[str, str] | None
) -> Iterator[str]:
    """A fresh, migrated database for one test, on each backend in turn."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if pg_template is None:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (CI sets it)")
    admin, template = pg_template
    name = f"fcr_t_{os.getpid()}_{next(_counter)}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Settings pointing at the test database, with the documented defaults otherwise."""
    return Settings(DATABASE_URL=db_url, FCR_TIMEZONE="Europe/London", FCR_AUTH_CACHE_SECONDS=0)


def make_key(client: TestClient, role: str, name: str | None = None) -> str:
    """Create a key with `role` directly in the client's database; returns the key."""
    with client.app.state.session_factory() as s:
        return create_key(s, name or f"test-{role}-{next(_counter)}", role)[1]


def with_role(client: TestClient, role: str) -> TestClient:
    """Make `client` send a fresh key of `role` on every request."""
    client.headers["Authorization"] = f"Bearer {make_key(client, role)}"
    return client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """An HTTP client, authenticated as an admin, on an app bound to the test database."""
    app = create_app(settings)
    with TestClient(app) as c:
        yield with_role(c, "admin")
