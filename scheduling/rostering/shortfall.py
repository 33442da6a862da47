"""Why the roster leaves an interval short: who could cover it, and what keeps each of the others off it.

For every interval short of cover, the people able to work some shift over it (an allowed template, available
then) are split into those already on such a shift and, for the rest, the hard rule that stops them taking one on
top of their roster as it stands. A planner can then tell "more people" (everyone able is on) from "more hours"
(``contract``, ``weekly_max``) from a rule (``rest``, ``days_off``, ``consecutive_days``). Written here because
no library knows these rules; the checks are the model's (model.py) and the polish's, vectorised over people.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from scheduling.rostering.grid import Compiled

#: A person off the interval is counted under the last rule standing: per shift that could cover it, the first
#: of these it would break (in this order) if added to their roster; over all such shifts, the one that gets
#: furthest. ``free``: some covering shift breaks no hard rule (the optimiser left it for the cost elsewhere).
REASONS = ("other_shift", "rest", "consecutive_days", "days_off", "weekly_max", "contract", "free")


def explain_shortfall(
    comp: Compiled,
    workable: list[list[list[int]]],
    roster: list[list[int]],
    short: Sequence[int],
    members: Sequence[bool] | None = None,
) -> dict[int, dict[str, int]]:
    """Per grid interval in ``short``: ``able`` (people with a workable shift over it), ``on_shift`` (of them, on
    such a shift, on the phones or on a break), ``pattern`` (off it and on a rotating pattern, which decides their
    days) and one count per REASONS for the other people able but off it. ``members``: count only these people
    (those with a skill, for a skill's short intervals)."""
    short = sorted(set(short))
    if not short:
        return {}
    n, people, days = comp.n_intervals, len(comp.staff), comp.days
    rules = comp.request.rules
    opts = comp.options
    # Options reaching a short interval, and the short intervals each reaches.
    wanted = set(short)
    reach: dict[int, list[int]] = {}
    for o in opts:
        hit = [t for t in range(max(0, o.first), min(n, o.first + o.length)) if t in wanted]
        if hit:
            reach[o.idx] = hit
    cols = sorted(reach)

    # The roster as arrays: worked days, minutes, and who is on a shift in each short interval.
    worked = np.zeros((people, days), dtype=bool)
    minutes = np.zeros((people, days), dtype=np.int64)
    starts = np.zeros((people, days))
    ends = np.zeros((people, days))
    on_shift = np.zeros((people, n), dtype=bool)
    o_start = np.array([(o.start - comp.t0).total_seconds() for o in opts])  # per option, seconds from t0
    o_end = np.array([(o.end - comp.t0).total_seconds() for o in opts])
    for p, row in enumerate(roster):
        for oi in row:
            o = opts[oi]
            worked[p, o.day], minutes[p, o.day] = True, o.minutes
            starts[p, o.day], ends[p, o.day] = o_start[oi], o_end[oi]
            on_shift[p, max(0, o.first) : min(n, o.first + o.length)] = True

    rest = rules.min_rest_minutes * 60
    prev_end, next_start = _neighbour_times(worked, starts, ends)
    run_ok = _run_before(comp, worked) + 1 + _run_after(worked) <= rules.max_consecutive_days
    days_ok, room = _window_room(comp, worked, minutes)
    contract_room = np.array([s.contract_hi for s in comp.staff]) - minutes.sum(axis=1)

    # Per person and reaching option: -1 if not workable, else the index in REASONS of the first rule it breaks;
    # computed over every (person, reaching option) pair at once.
    reaching = np.zeros(len(opts), dtype=bool)
    reaching[cols] = True
    pair_p, pair_o = [], []
    for p, per_day in enumerate(workable):
        ids = np.fromiter(itertools.chain.from_iterable(per_day), dtype=np.int64)
        ids = ids[reaching[ids]]
        pair_p.append(np.full(len(ids), p, dtype=np.int64))
        pair_o.append(ids)
    pp = np.concatenate(pair_p) if pair_p else np.zeros(0, dtype=np.int64)
    po = np.concatenate(pair_o) if pair_o else np.zeros(0, dtype=np.int64)
    day = np.array([o.day for o in opts], dtype=np.int64)[po]
    mins = np.array([o.minutes for o in opts], dtype=np.int64)[po]
    fails = np.stack([
        worked[pp, day],
        (prev_end[pp, day] + rest > o_start[po]) | (next_start[pp, day] < o_end[po] + rest),
        ~run_ok[pp, day],
        ~days_ok[pp, day],
        mins > room[pp, day],
        mins > contract_room[pp],
    ])
    first = np.where(fails.any(axis=0), fails.argmax(axis=0), len(REASONS) - 1)
    col_index = np.full(len(opts), -1, dtype=np.int64)  # option -> column of the reason matrix
    col_index[cols] = np.arange(len(cols))
    reason = np.full((people, len(cols)), -1, dtype=np.int8)
    reason[pp, col_index[po]] = first

    # Per person and short interval, the furthest reason over the options reaching it (-1: none workable).
    column = {t: i for i, t in enumerate(short)}
    best = np.full((people, len(short)), -1, dtype=np.int8)
    for oi, hit in reach.items():
        at = [column[t] for t in hit]
        best[:, at] = np.maximum(best[:, at], reason[:, col_index[oi], None])
    on = on_shift[:, short]
    able = (best >= 0) | on
    if members is not None:
        mask = np.asarray(members, dtype=bool)[:, None]
        on, able = on & mask, able & mask
    off = able & ~on
    patterned = np.array([bool(s.pattern_choices) for s in comp.staff])[:, None]
    counts = {"able": able.sum(axis=0), "on_shift": on.sum(axis=0), "pattern": (off & patterned).sum(axis=0)}
    free_off = off & ~patterned
    for k, r in enumerate(REASONS):
        counts[r] = (free_off & (best == k)).sum(axis=0)
    return {t: {name: int(v[i]) for name, v in counts.items()} for i, t in enumerate(short)}


def _neighbour_times(worked: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per person and day: the latest end of a shift on an earlier day (-inf if none) and the earliest start of a
    shift on a later day (+inf)."""
    people, days = worked.shape
    prev_end = np.full((people, days), -np.inf)
    next_start = np.full((people, days), np.inf)
    run = np.full(people, -np.inf)
    for d in range(days):
        prev_end[:, d] = run
        run = np.where(worked[:, d], np.maximum(run, ends[:, d]), run)
    run = np.full(people, np.inf)
    for d in range(days - 1, -1, -1):
        next_start[:, d] = run
        run = np.where(worked[:, d], np.minimum(run, starts[:, d]), run)
    return prev_end, next_start


def _run_before(comp: Compiled, worked: np.ndarray) -> np.ndarray:
    """Per person and day: working days in a row just before it (days worked before the roster count)."""
    people, days = worked.shape
    out = np.zeros((people, days), dtype=np.int64)
    run = np.zeros(people, dtype=np.int64)
    for p, s in enumerate(comp.staff):
        while -(run[p] + 1) in s.prior_minutes:
            run[p] += 1
    for d in range(days):
        out[:, d] = run
        run = np.where(worked[:, d], run + 1, 0)
    return out


def _run_after(worked: np.ndarray) -> np.ndarray:
    """Per person and day: working days in a row just after it."""
    people, days = worked.shape
    out = np.zeros((people, days), dtype=np.int64)
    run = np.zeros(people, dtype=np.int64)
    for d in range(days - 1, -1, -1):
        out[:, d] = run
        run = np.where(worked[:, d], run + 1, 0)
    return out


def _window_room(comp: Compiled, worked: np.ndarray, minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per person and free day: whether one more working day fits every 7-day window through it (days off), and
    the most minutes a shift there may last (weekly maximum), over the model's windows (model._windows: inside
    the roster, or reaching back into the previous period for people with one)."""
    rules = comp.request.rules
    people, days = worked.shape
    cap, most = 7 - rules.min_days_off_per_week, rules.max_minutes_per_week
    prior_days = np.zeros((people, 6), dtype=np.int64)
    prior_mins = np.zeros((people, 6), dtype=np.int64)
    has_prior = np.zeros(people, dtype=bool)
    for p, s in enumerate(comp.staff):
        has_prior[p] = bool(s.prior_minutes)
        for k in range(1, 7):
            if -k in s.prior_minutes:
                prior_days[p, 6 - k], prior_mins[p, 6 - k] = 1, s.prior_minutes[-k]
    # Padded by 6 days before the roster: column c is day c - 6.
    wd = np.concatenate([prior_days, worked.astype(np.int64)], axis=1)
    wm = np.concatenate([prior_mins, minutes], axis=1)
    cd = np.concatenate([np.zeros((people, 1), dtype=np.int64), wd.cumsum(axis=1)], axis=1)
    cm = np.concatenate([np.zeros((people, 1), dtype=np.int64), wm.cumsum(axis=1)], axis=1)
    days_ok = np.ones((people, days), dtype=bool)
    room = np.full((people, days), np.iinfo(np.int64).max // 4, dtype=np.int64)
    for w0 in range(-6, days - 6):  # window days w0 .. w0 + 6
        valid = has_prior if w0 < 0 else np.ones(people, dtype=bool)
        in_days = cd[:, w0 + 13] - cd[:, w0 + 6]
        in_mins = cm[:, w0 + 13] - cm[:, w0 + 6]
        for d in range(max(0, w0), w0 + 7):
            days_ok[:, d] &= ~valid | (in_days + 1 <= cap)
            room[:, d] = np.where(valid, np.minimum(room[:, d], most - in_mins), room[:, d])
    return days_ok, room
