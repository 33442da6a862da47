"""FastAPI dependencies: the settings and a database session per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.settings import Settings


def get_app_settings(request: Request) -> Settings:
    """The settings the running app was built with."""
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One database session for the request, closed (and rolled back if uncommitted) at its end."""
    with request.app.state.session_factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
