"""Forecast and backtest jobs over a channel's stored history, and expected abandonment for a staffing plan."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import invalid
from app.jobs import JobCancelled, JobContext, JobFailed
from app.models import CallRecord, Channel, HistoryInterval, Job
from app.schemas.forecasts import MAX_HORIZON_DAYS, ForecastCreate
from app.services.ingest import stored_interval_minutes
from app.services.staffing import json_float
from app.services.timegrid import floor_local
from forecasting import errors as ferr
from forecasting.api import forecast
from forecasting.backtest import backtest
from forecasting.calendar import Event
from forecasting.distribution import count_quantile
from forecasting.registry import min_history, model_names
from scheduling import ChannelLoad, QueueMetrics, estimate_patience, evaluate, evaluate_shared_pool
from scheduling.patience import calibrate_patience

HISTORY_CAP_DAYS = 3 * 366  # at most three years of history feed one forecast (older adds fit time, not skill)


def _to_utc(value: date | datetime, tz: ZoneInfo) -> datetime:
    """A request time as a UTC instant: dates are local midnight, naive times are local."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def validate_forecast_request(session: Session, body: ForecastCreate, tz: ZoneInfo) -> dict[str, Any]:
    """Check a forecast request against the channel and its history; returns the job's parameters (or 422)."""
    channel = session.get(Channel, body.channel)
    if channel is None:
        known = ", ".join(session.scalars(select(Channel.code).order_by(Channel.priority)))
        raise invalid("channel", f"unknown channel {body.channel!r}; known: {known}")
    if body.model not in model_names():
        raise invalid("model", f"unknown model {body.model!r}; known: {', '.join(model_names())}")
    start, end = _to_utc(body.start, tz), _to_utc(body.end, tz)
    if end <= start:
        raise invalid("end", "must be after start")
    if end - start > timedelta(days=MAX_HORIZON_DAYS):
        raise invalid("end", f"the forecast period is over the maximum of {MAX_HORIZON_DAYS} days")
    stored = stored_interval_minutes(session, channel.code)
    if stored is None:
        raise invalid("channel", f"channel {channel.code!r} has no history yet: upload some first")
    minutes = body.interval_minutes or stored
    if minutes < stored or minutes % stored:
        raise invalid("interval_minutes", f"history is stored at {stored} minutes; ask for a multiple of it")
    hist_from = _to_utc(body.history_start, tz) if body.history_start is not None else None
    q = select(func.min(HistoryInterval.interval_start), func.max(HistoryInterval.interval_start)).where(
        HistoryInterval.channel_code == channel.code, HistoryInterval.interval_start < start
    )
    if hist_from is not None:
        q = q.where(HistoryInterval.interval_start >= hist_from)
    first, last = session.execute(q).one()
    need = min_history(body.model, minutes)
    have = (last - first + timedelta(minutes=stored)) if first is not None else timedelta(0)
    if have < need:
        raise invalid(
            "channel",
            f"model {body.model!r} needs at least {need.days} days of history before the forecast start "
            f"({need}); channel {channel.code!r} has {have.days} days ({have}) before {start.isoformat()}",
        )
    return {
        "channel": channel.code,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "interval_minutes": minutes,
        "model": body.model,
        "level": body.level,
        "events": [{"date": e.date.isoformat(), "name": e.name} for e in body.events],
        "history_start": hist_from.isoformat() if hist_from else None,
        "timezone": tz.key,
        "default_aht": channel.default_aht_seconds,
    }


def load_history(
    session: Session, channel: str, minutes: int, tz: ZoneInfo, *, before: datetime, since: datetime | None
) -> tuple[pd.Series, pd.Series]:
    """(calls, aht) series on the `minutes` grid with UTC index; a coarse interval missing any part is NaN."""
    stored = stored_interval_minutes(session, channel) or minutes
    lower = since or before - timedelta(days=HISTORY_CAP_DAYS)
    rows = session.execute(
        select(
            HistoryInterval.interval_start,
            HistoryInterval.offered,
            HistoryInterval.aht_seconds,
            HistoryInterval.answered,
        )
        .where(
            HistoryInterval.channel_code == channel,
            HistoryInterval.interval_start < before,
            HistoryInterval.interval_start >= lower,
        )
        .order_by(HistoryInterval.interval_start)
    ).all()
    if not rows:
        return pd.Series(dtype=float), pd.Series(dtype=float)
    idx = pd.DatetimeIndex([r[0] for r in rows]).tz_convert("UTC")
    frame = pd.DataFrame(
        {
            "calls": [float(r[1]) for r in rows],
            "aht": [np.nan if r[2] is None else float(r[2]) for r in rows],
            "w": [float(r[3] if r[3] is not None else r[1]) for r in rows],
        },
        index=idx,
    )
    if minutes != stored:
        keys = pd.DatetimeIndex([floor_local(t.to_pydatetime(), minutes, tz).astimezone(UTC) for t in idx])
        frame["aw"] = frame["aht"] * frame["w"]
        g = frame.groupby(keys)
        parts = g["calls"].count()
        calls = g["calls"].sum().where(parts == minutes // stored)
        weight = g["w"].sum()
        aht = (g["aw"].sum(min_count=1) / weight).where(weight > 0)
        return calls.astype(float), aht.astype(float)
    return frame["calls"], frame["aht"]


def _progress(ctx: JobContext, lo: float = 0.0, hi: float = 1.0) -> Any:
    def report(fraction: float, message: str) -> None:
        ctx.check_cancelled()
        ctx.progress(lo + (hi - lo) * fraction, message)

    return report


def run_forecast(ctx: JobContext) -> dict[str, Any]:
    """The `forecast` job: fit the chosen (or `auto`) model on stored history and store the points."""
    p = ctx.params
    tz = ZoneInfo(p["timezone"])
    start, end = datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"])
    since = datetime.fromisoformat(p["history_start"]) if p.get("history_start") else None
    ctx.progress(0.0, "loading history")
    with ctx.session_factory() as s:
        calls, aht = load_history(s, p["channel"], p["interval_minutes"], tz, before=start, since=since)
    if calls.empty:
        raise JobFailed(f"channel {p['channel']!r} has no history before {start.isoformat()}")
    try:
        res = forecast(
            calls,
            start=pd.Timestamp(start).tz_convert(tz),
            end=pd.Timestamp(end).tz_convert(tz),
            interval_minutes=p["interval_minutes"],
            timezone=p["timezone"],
            model=p["model"],
            levels=(p["level"],),
            events=[Event(date.fromisoformat(e["date"]), e["name"]) for e in p["events"]],
            aht_history=aht if aht.notna().any() else None,
            default_aht=p["default_aht"],
            progress=_progress(ctx, 0.02, 0.98),
        )
    except JobCancelled:
        raise
    except ferr.ForecastError as exc:
        raise JobFailed(str(exc)) from exc
    lo, hi = res.interval(p["level"])
    points = [
        {
            "interval_start": ts.isoformat(),
            "calls": round(float(mu), 3),
            "lower": round(float(lo_), 3),
            "upper": round(float(hi_), 3),
            "aht_seconds": round(float(a), 1),
            "dispersion": float(f"{al:.6g}"),
            "events": list(ev),
        }
        for ts, mu, lo_, hi_, a, al, ev in zip(
            res.points["interval_start"],
            res.distribution.mean,
            lo.to_numpy(),
            hi.to_numpy(),
            res.points["aht_seconds"],
            res.distribution.alpha,
            res.points["events"],
            strict=True,
        )
    ]
    return {
        "model": res.model,
        "why": res.why,
        "backtest": res.scores_records(),
        "notes": res.notes,
        "level": p["level"],
        "interval_minutes": res.interval_minutes,
        "timezone": res.timezone,
        "history_end": res.history_end.isoformat(),
        "events": {d.isoformat(): names for d, names in res.events_by_day().items()},
        "points": points,
    }


def run_backtest(ctx: JobContext) -> dict[str, Any]:
    """The `backtest` job: rolling-origin scores per model on the channel's own history."""
    p = ctx.params
    tz = ZoneInfo(p["timezone"])
    ctx.progress(0.0, "loading history")
    with ctx.session_factory() as s:
        calls, _ = load_history(s, p["channel"], p["interval_minutes"], tz, before=datetime.now(UTC), since=None)
    if calls.empty:
        raise JobFailed(f"channel {p['channel']!r} has no history")
    kwargs: dict[str, Any] = {}
    if p.get("models"):
        kwargs["models"] = p["models"]
    try:
        res = backtest(
            calls,
            horizon=timedelta(days=p["horizon_days"]),
            interval_minutes=p["interval_minutes"],
            timezone=p["timezone"],
            n_origins=p["origins"],
            levels=(p["level"],),
            progress=_progress(ctx),
            **kwargs,
        )
    except JobCancelled:
        raise
    except ferr.ForecastError as exc:
        raise JobFailed(str(exc)) from exc
    rows = [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()}
        for r in res.to_records()
    ]
    return {
        "channel": p["channel"],
        "horizon_days": p["horizon_days"],
        "interval_minutes": p["interval_minutes"],
        "origins": [o.isoformat() for o in res.origins],
        "rows": rows,
        "choices": res.choices,
        "notes": res.notes,
    }


def resolve_patience(session: Session, channel: str, given: float | None, minutes: int) -> tuple[float, str]:
    """The callers' mean patience to use: given, else from call records, else calibrated from history."""
    if given is not None:
        return given, "request"
    rows = session.execute(
        select(CallRecord.wait_seconds, CallRecord.outcome).where(CallRecord.channel_code == channel)
    ).all()
    if rows:
        est = estimate_patience(np.array([r[0] for r in rows], float), np.array([r[1] for r in rows]))
        if est.finite:
            return float(est.mean_patience_seconds), f"call records ({est.n_calls} calls, {est.n_abandoned} abandoned)"
    hist = session.execute(
        select(
            HistoryInterval.offered,
            HistoryInterval.abandoned,
            HistoryInterval.agents_staffed,
            HistoryInterval.aht_seconds,
            HistoryInterval.interval_minutes,
        ).where(
            HistoryInterval.channel_code == channel,
            HistoryInterval.agents_staffed.is_not(None),
            HistoryInterval.abandoned.is_not(None),
            HistoryInterval.aht_seconds.is_not(None),
        )
    ).all()
    if hist:
        theta = calibrate_patience(
            np.array([h[0] for h in hist], float),
            np.array([h[1] for h in hist], float),
            np.array([h[2] for h in hist], float),
            np.array([h[3] for h in hist], float),
            hist[0][4],
        )
        if theta is not None:
            return theta, f"calibrated to {len(hist)} history intervals with agents_staffed"
    raise invalid(
        "patience_seconds",
        f"channel {channel!r} has no call records with abandonments and no history with agents_staffed: "
        "give patience_seconds",
    )


def abandonment(session: Session, job_id: str, result: dict[str, Any], channel: Channel, req: Any) -> dict[str, Any]:
    """Erlang A figures per forecast interval for the agents given (or a finished roster's), and totals."""
    points = result["points"]
    if (req.agents is None) == (req.roster_id is None):
        raise invalid("agents", "give agents (one count per forecast interval) or roster_id, not both")
    if req.agents is not None and len(req.agents) != len(points):
        raise invalid("agents", f"has {len(req.agents)} values for {len(points)} forecast intervals")
    if req.roster_id is None and req.shrinkage is not None:
        raise invalid("shrinkage", "applies to a roster's heads: give it with roster_id")
    minutes = result["interval_minutes"]
    mu = np.array([pt["calls"] for pt in points], float)
    calls = (
        mu
        if req.quantile is None
        else count_quantile(req.quantile, mu, np.array([pt["dispersion"] for pt in points], float))
    )
    aht = np.array([pt["aht_seconds"] for pt in points], float)
    patience, source = resolve_patience(session, channel.code, req.patience_seconds, minutes)
    within = req.answer_within_seconds if req.answer_within_seconds is not None else channel.target_answer_seconds
    extra: dict[str, Any] = {}
    if req.agents is not None:
        agents = np.array(req.agents, dtype=float)
        m = evaluate(
            "erlang_a",
            agents,
            calls,
            minutes,
            aht,
            patience_seconds=patience,
            answer_within_seconds=within,
            sl_definition=channel.sl_definition,
        )
        keep = np.arange(len(points))
    else:
        plan = roster_plan(session, req.roster_id, points, minutes, req.shrinkage, channel.code)
        keep = plan.kept
        calls, aht = calls[keep], aht[keep]
        own = ChannelLoad(channel.code, np.repeat(calls / plan.per_interval, plan.per_interval),
                          np.repeat(aht, plan.per_interval), patience, within, channel.sl_definition)
        ranked = sorted([*plan.others, (channel.priority, own)], key=lambda x: x[0])
        sub = evaluate_shared_pool(plan.on_phones, [load for _, load in ranked], plan.sub_minutes)[channel.code]
        m = _per_forecast_interval(sub, np.asarray(own.calls, float), plan.per_interval)
        agents = plan.on_phones.reshape(len(keep), plan.per_interval).mean(axis=1)
        extra = {"roster_id": req.roster_id, "shrinkage": plan.shrinkage,
                 "shared_with": [load.name for _, load in plan.others],
                 "intervals_outside_roster": len(points) - len(keep)}
    abandoned = m.abandon_rate * calls
    total_calls = float(calls.sum())
    total_ab = float(np.nansum(abandoned)) if np.isfinite(abandoned).all() else None
    ok = np.isfinite(m.service_level)
    sl = float((m.service_level[ok] * calls[ok]).sum() / total_calls) if total_calls > 0 and ok.all() else None
    return {
        "forecast_id": job_id,
        "channel": channel.code,
        **extra,
        "patience_seconds": round(patience, 3),
        "patience_source": source,
        "answer_within_seconds": within,
        "intervals": [
            {
                "interval_start": points[k]["interval_start"],
                "calls": round(float(calls[i]), 4),
                "agents": int(agents[i]) if float(agents[i]).is_integer() else round(float(agents[i]), 3),
                "abandoned": json_float(abandoned[i]),
                "service_level": json_float(m.service_level[i]),
                "abandon_rate": json_float(m.abandon_rate[i]),
                "asa_seconds": json_float(m.asa_seconds[i]),
                "occupancy": json_float(m.occupancy[i]),
                "p_wait": json_float(m.p_wait[i]),
            }
            for i, k in enumerate(keep)
        ],
        "total_calls": round(total_calls, 3),
        "total_abandoned": None if total_ab is None else round(total_ab, 3),
        "abandon_rate": None if total_ab is None or total_calls == 0 else round(total_ab / total_calls, 6),
        "service_level": None if sl is None else round(sl, 6),
    }


@dataclass
class RosterPlan:
    """A finished roster laid on a forecast's intervals: the forecast intervals it covers (``kept``), each split
    into ``per_interval`` sub-intervals of ``sub_minutes`` (the finer of the two grids), the PCROs on the phones
    in each sub-interval (heads on the phones less shrinkage, floored), and the other channels of the roster's
    pool as (priority, load on the sub-intervals)."""

    kept: np.ndarray
    per_interval: int
    sub_minutes: int
    on_phones: np.ndarray
    shrinkage: float
    others: list[tuple[int, ChannelLoad]]


def roster_plan(
    session: Session,
    roster_id: str,
    points: list[dict[str, Any]],
    minutes: int,
    shrinkage: float | None,
    channel: str,
) -> RosterPlan:
    """Lay roster ``roster_id``'s coverage on the forecast's intervals (422s name ``roster_id``); ``channel`` is the
    forecast's, whose load the caller adds (the roster's own copy of it, if any, is left out)."""
    job = session.get(Job, roster_id)
    if job is None or job.kind != "roster":
        raise invalid("roster_id", f"no roster with id {roster_id!r}")
    if job.status != "done" or not job.result:
        raise invalid("roster_id", f"roster {roster_id} is {job.status}, not done")
    coverage = json.loads(job.result).get("coverage") or []
    if not coverage:
        raise invalid("roster_id", f"roster {roster_id} has no roster (its hard rules conflict)")
    r_minutes = int(job.params["request"]["interval_minutes"])
    if max(r_minutes, minutes) % min(r_minutes, minutes):
        raise invalid("roster_id", f"roster {roster_id} is {r_minutes}-minute and the forecast {minutes}-minute: "
                                   "one must divide the other")
    service = job.params.get("service") or {}
    s = shrinkage if shrinkage is not None else float(service.get("shrinkage", 0.0))
    r_start = [datetime.fromisoformat(c["interval_start"]).astimezone(UTC) for c in coverage]
    index = {t: i for i, t in enumerate(r_start)}
    heads = np.array([c["scheduled"] for c in coverage], float)
    phones = np.floor(heads * (1 - s) + 1e-9)
    sub = min(r_minutes, minutes)
    per = minutes // sub
    kept: list[int] = []
    cells: list[int] = []  # the roster interval each sub-interval falls in
    step = timedelta(minutes=sub)
    for k, pt in enumerate(points):
        t = datetime.fromisoformat(pt["interval_start"]).astimezone(UTC)
        where = []
        for j in range(per):
            u = t + j * step
            offset = (u - r_start[0]) // timedelta(minutes=r_minutes)
            cell = index.get(r_start[0] + offset * timedelta(minutes=r_minutes)) if u >= r_start[0] else None
            if cell is None:
                break
            where.append(cell)
        if len(where) == per:
            kept.append(k)
            cells += where
    if not kept:
        raise invalid("roster_id", f"roster {roster_id} ({r_start[0].isoformat()} on) covers none of the "
                                   "forecast's intervals")
    cells_a = np.array(cells)
    share = sub / r_minutes  # of a roster interval's calls that fall in one sub-interval
    others = [
        (
            int(c["priority"]),
            ChannelLoad(
                c["code"],
                np.asarray(c["calls"], float)[cells_a] * share,
                np.asarray(c["aht"], float)[cells_a],
                c["patience"],
                c["targets"]["answer_within_seconds"],
                c["targets"]["sl_definition"],
            ),
        )
        for c in service.get("channels", [])
        if c["code"] != channel
    ]
    return RosterPlan(np.array(kept), per, sub, phones[cells_a].astype(int), s, others)


def _per_forecast_interval(m: QueueMetrics, calls: np.ndarray, per: int) -> QueueMetrics:
    """Sub-interval figures back onto forecast intervals (``per`` each): rates and waits weighted by calls
    (plain means where an interval has none), occupancy by time."""
    c = calls.reshape(-1, per)
    total = c.sum(axis=1)

    def weighted(x: np.ndarray) -> np.ndarray:
        x = x.reshape(-1, per)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, (x * c).sum(axis=1) / np.where(total > 0, total, 1), x.mean(axis=1))

    return QueueMetrics(
        agents=m.agents.reshape(-1, per).mean(axis=1),
        service_level=weighted(m.service_level),
        abandon_rate=weighted(m.abandon_rate),
        asa_seconds=weighted(m.asa_seconds),
        occupancy=m.occupancy.reshape(-1, per).mean(axis=1),
        p_wait=weighted(m.p_wait),
        stable=m.stable.reshape(-1, per).all(axis=1),
    )


