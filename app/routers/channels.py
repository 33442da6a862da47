"""Channels: list, read, create and change the streams of contacts and their default targets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import or_, select

from app.auth import require
from app.deps import SessionDep
from app.errors import ApiError, invalid, problem_responses
from app.models import Channel
from app.schemas.channels import CODE_PATTERN, ChannelCreate, ChannelOut, ChannelPage, ChannelUpdate

router = APIRouter(prefix="/v1/channels", tags=["channels"], responses=problem_responses(400, 401, 403, 422))
READ = [require("channels:read")]
WRITE = [require("channels:write")]


def get_channel_or_404(session: SessionDep, code: str) -> Channel:
    """The channel `code`, or a 404 problem naming it."""
    channel = session.get(Channel, code)
    if channel is None:
        raise ApiError(404, f"unknown channel {code!r}")
    return channel


@router.get("", response_model=ChannelPage, dependencies=READ, summary="List channels, highest priority first")
def list_channels(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(pattern=CODE_PATTERN, description="`next_cursor` of the previous page")] = None,
) -> dict[str, Any]:
    """Channels in the order the shared pool serves them (priority, then code); page with `cursor`."""
    stmt = select(Channel)
    if cursor is not None:
        last = session.get(Channel, cursor)
        if last is None:
            raise invalid("cursor", f"no channel {cursor!r}; pass a next_cursor from a previous page")
        stmt = stmt.where(
            or_(Channel.priority > last.priority, (Channel.priority == last.priority) & (Channel.code > last.code))
        )
    rows = list(session.scalars(stmt.order_by(Channel.priority, Channel.code).limit(limit + 1)))
    nxt = rows[limit - 1].code if len(rows) > limit else None
    return {"items": rows[:limit], "next_cursor": nxt}


@router.post(
    "",
    response_model=ChannelOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=WRITE,
    responses=problem_responses(409),
    summary="Create a channel",
)
def create_channel(body: ChannelCreate, session: SessionDep) -> Channel:
    """Add a channel such as `online` or `email`; 409 if the code is taken."""
    if session.get(Channel, body.code) is not None:
        raise ApiError(409, f"channel {body.code!r} already exists; PATCH it to change its targets")
    channel = Channel(**body.model_dump())
    session.add(channel)
    session.commit()
    return channel


@router.get(
    "/{channel}",
    response_model=ChannelOut,
    dependencies=READ,
    responses=problem_responses(404),
    summary="Read one channel",
)
def read_channel(channel: str, session: SessionDep) -> Channel:
    """One channel and its targets."""
    return get_channel_or_404(session, channel)


@router.patch(
    "/{channel}",
    response_model=ChannelOut,
    dependencies=WRITE,
    responses=problem_responses(404),
    summary="Change a channel's targets or description",
)
def update_channel(channel: str, body: ChannelUpdate, session: SessionDep) -> Channel:
    """Change only the fields given."""
    row = get_channel_or_404(session, channel)
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is None and field != "max_abandon_rate":
            raise invalid(field, "cannot be null")
        setattr(row, field, value)
    session.commit()
    return row
