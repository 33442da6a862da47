"""Roster jobs: requirements (given, or derived from forecasts by the shared-pool staffing engine), the CP-SAT
solve with progress and cancel, predicted service per channel, and CSV / iCalendar exports."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from sqlalchemy.orm import Session

from app.errors import BatchRejected, FieldError, invalid
from app.jobs import JobCancelled, JobContext, JobFailed
from app.models import Channel, Job
from app.schemas.rosters import RosterCreate
from app.services.forecasts import _to_utc, resolve_patience
from forecasting.distribution import count_quantile
from scheduling import ChannelLoad, Targets, evaluate_shared_pool, required_agents, required_agents_shared_pool
from scheduling.rostering import RosterValidationError, solve_roster, validate_request
from scheduling.rostering.types import RosterRequest
from scheduling.rostering.validation import WORKED_BEFORE_DAYS


def validate_roster_request(session: Session, body: RosterCreate) -> dict[str, Any]:
    """The library-ready request dict (requirements filled from forecasts if asked), or a 422 naming fields."""
    try:
        tz = ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid("timezone", f"unknown IANA timezone {body.timezone!r}") from None
    data = body.model_dump(
        mode="json", exclude_none=True, exclude={"forecasts", "targets", "patience_seconds", "quantile", "shrinkage"}
    )
    if body.requirements is not None and body.forecasts is not None:
        raise invalid("forecasts", "give requirements or forecasts, not both")
    service: dict[str, Any] | None = None
    if body.forecasts is not None:
        data["requirements"], service = requirements_from_forecasts(session, body, tz)
    elif body.requirements is None:
        raise invalid("requirements", "give requirements, or forecasts with targets and shrinkage")
    for s in data["staff"]:
        if s.get("prefers") is None:
            s.pop("prefers", None)
    errors = validate_request(data)
    if errors:
        n = len(errors)
        raise BatchRejected(
            [FieldError(field=path, message=msg) for path, msg in errors],
            detail=f"roster request rejected: {n} problem{'s' if n != 1 else ''} found",
        )
    return {"request": data, "service": service}


def _forecast_points(session: Session, channel: str, fid: str, field: str) -> tuple[dict[str, Any], Job]:
    job = session.get(Job, fid)
    if job is None or job.kind != "forecast":
        raise invalid(field, f"no forecast with id {fid!r}")
    if job.status != "done" or not job.result:
        raise invalid(field, f"forecast {fid} is {job.status}, not done")
    if job.channel_code != channel:
        raise invalid(field, f"forecast {fid} is for channel {job.channel_code!r}, not {channel!r}")
    return json.loads(job.result), job


def requirements_from_forecasts(
    session: Session, body: RosterCreate, tz: ZoneInfo
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Agents on the phones per roster interval for all channels at once (shared pool, priority order), after
    shrinkage: ceil(agents / (1 - shrinkage)). Returns the requirements and what the service evaluation needs."""
    assert body.forecasts is not None
    start = _to_utc(body.start_date, tz)
    end = _to_utc(body.start_date + timedelta(days=body.days), tz)
    grid = [
        start + timedelta(minutes=body.interval_minutes * i)
        for i in range(int((end - start) / timedelta(minutes=body.interval_minutes)))
    ]
    channels = []
    for code, fid in body.forecasts.items():
        field = f"forecasts.{code}"
        ch = session.get(Channel, code)
        if ch is None:
            raise invalid(field, f"unknown channel {code!r}")
        result, _job = _forecast_points(session, code, fid, field)
        if result["interval_minutes"] != body.interval_minutes:
            raise invalid(
                field,
                f"forecast {fid} is {result['interval_minutes']}-minute; the roster is {body.interval_minutes}-minute",
            )
        by_start = {datetime.fromisoformat(p["interval_start"]).astimezone(UTC): p for p in result["points"]}
        missing = [t for t in grid if t not in by_start]
        if missing:
            raise invalid(
                field,
                f"forecast {fid} does not cover the roster period: {len(missing)} intervals "
                f"missing, first {missing[0].astimezone(tz).isoformat()}",
            )
        pts = [by_start[t] for t in grid]
        mu = np.array([p["calls"] for p in pts], float)
        calls = (
            mu
            if body.quantile is None
            else count_quantile(body.quantile, mu, np.array([p["dispersion"] for p in pts], float))
        )
        given = (body.patience_seconds or {}).get(code)
        patience, source = resolve_patience(session, code, given, body.interval_minutes)
        t = (body.targets or {}).get(code)
        targets = Targets(
            service_level=t.service_level if t else ch.target_service_level,
            answer_within_seconds=t.answer_within_seconds if t else ch.target_answer_seconds,
            sl_definition=t.sl_definition if t else ch.sl_definition,
            max_abandon_rate=t.max_abandon_rate if t else ch.max_abandon_rate,
            max_asa_seconds=t.max_asa_seconds if t else None,
            max_occupancy=t.max_occupancy if t else None,
        )
        channels.append(
            {
                "code": code,
                "priority": ch.priority,
                "calls": calls.tolist(),
                "aht": [max(1.0, p["aht_seconds"]) for p in pts],
                "patience": patience,
                "patience_source": source,
                "targets": targets.__dict__,
            }
        )
    channels.sort(key=lambda c: c["priority"])
    loads, targets = _loads(channels)
    try:
        req = required_agents_shared_pool(loads, targets, body.interval_minutes)
    except ValueError as exc:  # the engine's own input checks
        raise invalid("forecasts", str(exc)) from exc
    heads = np.ceil(req.agents / (1 - body.shrinkage) - 1e-9).astype(int)
    requirements = [{"interval_start": t.isoformat(), "required": int(h)} for t, h in zip(grid, heads, strict=True)]
    skill_rows = skill_requirements(body, channels, grid)
    requirements += skill_rows
    service = {
        "channels": channels,
        "shrinkage": body.shrinkage,
        "interval_minutes": body.interval_minutes,
        "infeasible_intervals": int((~req.feasible).sum()),
    }
    return requirements, service


def skill_requirements(
    body: RosterCreate, channels: list[dict[str, Any]], grid: list[datetime]
) -> list[dict[str, Any]]:
    """Skill rows for the channels not every PCRO can answer: where staff list skills and some lack a channel's
    code, the heads that channel needs on its own (its calls, AHT, patience and targets, Erlang A; after
    shrinkage) must be people who list it. A necessary condition, not a sufficient one: those people also take
    the other channels' calls in the shared pool (the pool row sizes that), so the predicted service reported
    with the roster assumes everyone on the phones can take every call. Staff listing no skills count for the
    pool only; a request where nobody lists skills gets no skill rows (one pool, as the channels' shared-pool
    requirement assumes)."""
    if not any(s.skills for s in body.staff):
        return []
    rows: list[dict[str, Any]] = []
    for c in channels:
        code = c["code"]
        if all(code in s.skills for s in body.staff):
            continue
        if not any(code in s.skills for s in body.staff):
            raise invalid("staff", f"no staff member lists skill {code!r}, which channel {code}'s forecast needs: add "
                                   "it to the skills of those who take its calls (or list no skills for anyone)")
        t = c["targets"]
        alone = required_agents(
            "erlang_a", np.array(c["calls"]), body.interval_minutes, np.array(c["aht"]), Targets(**t), c["patience"]
        )
        heads = np.ceil(alone.agents / (1 - body.shrinkage) - 1e-9).astype(int)
        rows += [{"interval_start": g.isoformat(), "required": int(h), "skill": code}
                 for g, h in zip(grid, heads, strict=True)]
    return rows


def _loads(channels: list[dict[str, Any]]) -> tuple[list[ChannelLoad], dict[str, Targets]]:
    """The channels' loads, each with its own service-level threshold and definition (the evaluation reads them
    from the load; without them it would count only calls answered at once), and their targets."""
    loads = [
        ChannelLoad(
            name=c["code"],
            calls=np.array(c["calls"]),
            aht_seconds=np.array(c["aht"]),
            patience_seconds=c["patience"],
            answer_within_seconds=c["targets"]["answer_within_seconds"],
            sl_definition=c["targets"]["sl_definition"],
        )
        for c in channels
    ]
    return loads, {c["code"]: Targets(**c["targets"]) for c in channels}


def predicted_service(service: dict[str, Any], coverage: list[dict[str, Any]]) -> dict[str, Any]:
    """Service level and abandonment per channel the roster delivers: scheduled heads less shrinkage on the
    phones, through the shared-pool engine; per interval (added to coverage) and per channel in total."""
    loads, targets = _loads(service["channels"])
    on_phones = np.floor(np.array([c["scheduled"] for c in coverage], float) * (1 - service["shrinkage"]) + 1e-9)
    metrics = evaluate_shared_pool(on_phones.astype(int), loads, service["interval_minutes"])
    totals = {}
    for load in loads:
        m = metrics[load.name]
        calls = np.asarray(load.calls, float)
        for i, c in enumerate(coverage):
            c.setdefault("channels", {})[load.name] = {
                "service_level": _f(m.service_level[i]),
                "abandon_rate": _f(m.abandon_rate[i]),
                "expected_abandoned": _f(m.abandon_rate[i] * calls[i]),
            }
        ab = m.abandon_rate * calls
        sl_ok = np.isfinite(m.service_level)
        totals[load.name] = {
            "calls": round(float(calls.sum()), 2),
            "expected_abandoned": _f(float(np.nansum(ab))),
            "abandon_rate": _f(float(np.nansum(ab) / calls.sum())) if calls.sum() > 0 else None,
            "service_level": _f(float((m.service_level[sl_ok] * calls[sl_ok]).sum() / calls[sl_ok].sum()))
            if calls[sl_ok].sum() > 0
            else None,
            "target_service_level": targets[load.name].service_level,
            "patience_seconds": next(c["patience"] for c in service["channels"] if c["code"] == load.name),
        }
    return totals


def _f(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 6)


def run_roster(ctx: JobContext) -> dict[str, Any]:
    """The `roster` job: solve with CP-SAT, reporting progress and honouring cancel; the audit comes with it."""
    request = RosterRequest.from_dict(ctx.params["request"])

    def progress(p: Any) -> None:
        ctx.progress(p.fraction, p.stage, best_objective=p.best_objective, best_bound=p.best_bound)

    try:
        result = solve_roster(request, progress=progress, should_cancel=ctx.cancelled)
    except RosterValidationError as exc:
        raise JobFailed(f"invalid request: {exc}") from exc
    if result.status == "CANCELLED" and ctx.cancelled():
        raise JobCancelled
    out = result.to_dict()
    service = ctx.params.get("service")
    if service and out["coverage"]:
        out["service"] = predicted_service(service, out["coverage"])
    return out


def export_csv(result: dict[str, Any]) -> str:
    """One row per shift: staff, template, start, end, breaks, minutes worked and on the phones."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["staff_id", "template", "start", "end", "breaks", "shift_minutes", "break_minutes"])
    for a in sorted(result.get("assignments", []), key=lambda a: (a["staff_id"], a["start"])):
        start, end = datetime.fromisoformat(a["start"]), datetime.fromisoformat(a["end"])
        brk = [(datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"])) for b in a.get("breaks", [])]
        w.writerow(
            [
                a["staff_id"],
                a["template"],
                a["start"],
                a["end"],
                ";".join(f"{s.isoformat()}/{e.isoformat()}" for s, e in brk),
                int((end - start).total_seconds() // 60),
                sum(int((e - s).total_seconds() // 60) for s, e in brk),
            ]
        )
    return buf.getvalue()


def export_coverage_csv(result: dict[str, Any], timezone: str) -> str:
    """One row per interval, for a spreadsheet: its start in UTC and in the roster's local time (the offset tells
    the two 01:00s of the autumn change apart), required, on the phones (the previous period's included,
    ``carried_in`` of them), on break, short and surplus; per skill row its required and on the phones; with
    forecasts, per channel the predicted service level, abandon rate and calls abandoned."""
    tz = ZoneInfo(timezone)
    coverage = result.get("coverage", [])
    skills = sorted({s for c in coverage for s in c.get("skills", {})})
    channels = sorted({ch for c in coverage for ch in c.get("channels", {})})
    per_channel = ("service_level", "abandon_rate", "expected_abandoned")
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["interval_start", "local_start", "required", "scheduled", "carried_in", "on_break", "short", "surplus",
                *(f"{s}_{k}" for s in skills for k in ("required", "scheduled")),
                *(f"{ch}_{k}" for ch in channels for k in per_channel)])
    for c in coverage:
        start = datetime.fromisoformat(c["interval_start"])
        sk = c.get("skills", {})
        ch = c.get("channels", {})
        w.writerow([
            c["interval_start"], start.astimezone(tz).isoformat(), c["required"], c["scheduled"],
            c.get("carried_in", 0), c["on_break"], max(0, c["required"] - c["scheduled"]),
            max(0, c["scheduled"] - c["required"]),
            *(sk.get(s, {}).get(k, "") for s in skills for k in ("required", "scheduled")),
            *("" if (v := ch.get(name, {}).get(k)) is None else v for name in channels for k in per_channel),
        ])
    return buf.getvalue()


def _ics_time(ts: str) -> str:
    return datetime.fromisoformat(ts).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """RFC 5545 line folding at 75 octets (written by hand: a few lines, no dependency needed)."""
    out, cur = [], ""
    for ch in line:
        if len((cur + ch).encode()) > 75:
            out.append(cur)
            cur = " " + ch
        else:
            cur += ch
    out.append(cur)
    return "\r\n".join(out)


def export_ics(result: dict[str, Any], roster_id: str, staff_id: str | None) -> str:
    """An iCalendar feed of shifts (one person's with `staff_id`, else everyone's), breaks in the description."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"Rota {staff_id}" if staff_id else "Rota"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//fcr-planner//roster//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{name}",
    ]
    for i, a in enumerate(sorted(result.get("assignments", []), key=lambda a: (a["staff_id"], a["start"]))):
        if staff_id is not None and a["staff_id"] != staff_id:
            continue
        breaks = ", ".join(
            f"{datetime.fromisoformat(b['start']).strftime('%H:%M')}-{datetime.fromisoformat(b['end']).strftime('%H:%M')}"
            for b in a.get("breaks", [])
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{roster_id}-{i}@fcr-planner",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ics_time(a['start'])}",
            f"DTEND:{_ics_time(a['end'])}",
            f"SUMMARY:{a['template']} shift" + ("" if staff_id else f" ({a['staff_id']})"),
            f"DESCRIPTION:Breaks {breaks}" if breaks else "DESCRIPTION:No breaks",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(x) for x in lines) + "\r\n"


def rest_of_period(request: dict[str, Any], result: dict[str, Any], from_date: date) -> dict[str, Any]:
    """A request body that re-rosters a solved roster from ``from_date`` to its end: the requirements from that day,
    each person's shifts before it as ``worked_before`` (the 14 days the rules look back, with breaks) and from it as
    ``published``, people on a pattern fixed at the pattern and offset they follow, and ``contract_period_start`` the
    roster's first day where that is at most 14 days back. The planner then adds the change (leave, sickness) and
    posts it to ``POST /v1/rosters``."""
    start, days = date.fromisoformat(request["start_date"]), int(request["days"])
    delta = (from_date - start).days
    if not 1 <= delta < days:
        last = (start + timedelta(days=days - 1)).isoformat()
        raise invalid("from_date", f"must be a day of the roster after its first ({start.isoformat()}): "
                                   f"{(start + timedelta(days=1)).isoformat()} to {last}")
    tz = ZoneInfo(request.get("timezone", "Europe/London"))
    split = datetime.combine(from_date, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    back = split - timedelta(days=WORKED_BEFORE_DAYS)
    body = json.loads(json.dumps(request))  # a deep copy of plain JSON
    body["start_date"], body["days"] = from_date.isoformat(), days - delta
    body["requirements"] = [r for r in request["requirements"] if _instant(r["interval_start"]) >= split]
    period = date.fromisoformat(request.get("contract_period_start", request["start_date"]))
    if (from_date - period).days <= WORKED_BEFORE_DAYS:
        body["contract_period_start"] = period.isoformat()
    else:
        body.pop("contract_period_start", None)
    cycles = {p["name"]: len(p["cycle"]) for p in request.get("patterns", [])}
    followed = result.get("patterns_chosen") or {}
    shifts: dict[str, list[dict[str, Any]]] = {}
    for a in result.get("assignments", []):
        shifts.setdefault(a["staff_id"], []).append(a)
    for s in body["staff"]:
        mine = sorted(shifts.get(s["id"], []), key=lambda shift: _instant(shift["start"]))
        before = [w for w in s.get("worked_before", []) if _instant(w["start"]) >= back]
        before += [{"start": a["start"], "end": a["end"], "breaks": [{"start": b["start"], "end": b["end"]}
                                                                      for b in a.get("breaks", [])]}
                   for a in mine if back <= _instant(a["start"]) < split]
        s["worked_before"] = before
        s["published"] = [{"template": a["template"], "start": a["start"]} for a in mine
                          if _instant(a["start"]) >= split]
        s["unavailable"] = [u for u in s.get("unavailable", []) if _instant(u["end"]) > split]
        chosen = followed.get(s["id"])
        if not chosen and s.get("pattern") in cycles and s.get("pattern_offset") is not None:
            chosen = {"pattern": s["pattern"], "offset": s["pattern_offset"]}  # fixed in the request itself
        if chosen and chosen["pattern"] in cycles:  # the cycle goes on where it was: fixed, offset moved on
            s["pattern"] = chosen["pattern"]
            s["pattern_offset"] = (chosen["offset"] + delta) % cycles[chosen["pattern"]]
    return body


def _instant(value: str) -> datetime:
    """A stored ISO 8601 time with its offset, as UTC."""
    return datetime.fromisoformat(value).astimezone(UTC)
