"""The time grid of a roster and the shift options on it: the compiled form the solver works on.

Intervals are real instants (UTC) from local midnight of ``start_date`` to local midnight after the last day,
so a Europe/London spring-forward day has 92 quarter-hours and a fall-back day 100. A shift option is one
template started on one local day at one local wall time; its length is in real minutes, so its local end
moves on DST nights. Wall times that do not exist (the spring-forward gap) are skipped; ambiguous ones (the
fall-back hour) take their first occurrence.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.rostering.types import OFF_LETTER, WEEKDAYS, Period, RosterRequest, Staff

#: UK Working Time Regulations "night time" (23:00-06:00 by default) and the 3 hours in it that make a night shift.
NIGHT_START_MINUTE, NIGHT_END_MINUTE, NIGHT_MIN_MINUTES = 23 * 60, 6 * 60, 180
#: ``date.weekday()`` of Saturday and Sunday: shifts starting on these local days are weekend shifts.
WEEKEND = (5, 6)


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a local wall time, None if it does not exist (DST gap); first occurrence if ambiguous."""
    local = datetime.combine(day, wall, tzinfo=tz)
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # round trip fails only in the spring-forward gap
    return utc


@dataclass(frozen=True)
class Option:
    """One shift option: template ``template`` (index) started on local day ``day`` at ``wall`` local time."""

    idx: int
    template: int
    name: str
    day: int
    wall: time
    start: datetime
    end: datetime
    first: int  # grid index of the start (may be >= n_intervals only if the grid is shorter than a day)
    length: int  # intervals
    minutes: int
    breaks: tuple[tuple[int, ...], ...]  # per break rule, the grid indices at which it may start
    break_lengths: tuple[int, ...]  # per break rule, its length in intervals
    night: bool
    weekend: bool

    @property
    def start_minute(self) -> int:
        """Local wall-clock start in minutes after midnight (for stable start times)."""
        return self.wall.hour * 60 + self.wall.minute


@dataclass
class StaffInfo:
    """Per-person facts the model needs: options they may work, available days and contract band (minutes)."""

    index: int
    staff: Staff
    allowed: frozenset[int]  # template indices
    blocked_options: frozenset[int]  # options overlapping an unavailability
    leave_days: frozenset[int]  # local days wholly unavailable
    touched_days: frozenset[int]  # local days any unavailability overlaps
    contract_lo: int  # the band narrowed to totals whole shifts of the person's options reach (reachable_band)
    contract_hi: int
    #: The band before that narrowing: for checks that relax a family (allowed templates, unavailability, rest,
    #: pattern) and so offer options whose lengths the narrowing did not see.
    band: tuple[int, int]
    pattern_choices: list[tuple[int, int]] = field(default_factory=list)  # (pattern index, offset); [] = free
    # The previous period (``worked_before``): options too close to its last shifts (rest or overlap), and
    # minutes worked per local day before the roster (day -1 is the day before the first).
    rest_blocked: frozenset[int] = frozenset()
    prior_minutes: dict[int, int] = field(default_factory=dict)
    preferred_templates: frozenset[int] = frozenset()
    preferred_off_days: frozenset[int] = frozenset()
    #: The published roster being re-rostered (``Staff.published``): per local day the option the person was
    #: published on; days missing were published off. Empty: nothing published for this person.
    published: dict[int, int] = field(default_factory=dict)
    skills: frozenset[str] = frozenset()  # of the skills the request has requirements for, those this person has
    cls: int = 0  # index of ``skills`` in Compiled.classes


@dataclass
class Compiled:
    """A validated request turned into grid indices: intervals, requirements, options and staff facts."""

    request: RosterRequest
    tz: ZoneInfo
    t0: datetime
    step: timedelta
    n_intervals: int
    day_first: list[int]  # grid index of each local midnight, len days + 1
    #: Agents this roster must put on the phones per interval: the request's requirement less ``carried``.
    required: list[int]
    options: list[Option]
    by_day: list[list[int]]
    staff: list[StaffInfo]
    pattern_letters: list[dict[str, frozenset[int]]] = field(default_factory=list)
    #: Per skill with requirement rows: agents with that skill needed on the phones per interval (on top of the
    #: pool's ``required``, which anyone counts towards). Empty when the request has no skill rows.
    skill_required: dict[str, list[int]] = field(default_factory=dict)
    #: The distinct ``StaffInfo.skills`` sets (one empty set when there are no skill rows): count-based models key
    #: shifts by (option, class) when skills matter, since who works a shift then decides which requirements it meets.
    classes: list[frozenset[str]] = field(default_factory=lambda: [frozenset()])
    #: Per interval, agents of the previous period (``worked_before``) still on shift for all of it: they cover
    #: the roster's first hours, so ``required`` and ``skill_required`` are net of them (``skill_carried``: those
    #: with each skill). Off the phones in any interval one of their listed breaks touches.
    carried: list[int] = field(default_factory=list)
    skill_carried: dict[str, list[int]] = field(default_factory=dict)

    @property
    def skill_names(self) -> list[str]:
        """The skills with requirement rows, sorted (the order of every per-skill array)."""
        return sorted(self.skill_required)

    @property
    def republishing(self) -> bool:
        """Whether the request re-rosters a published roster (someone has ``published`` shifts)."""
        return any(info.published for info in self.staff)

    @property
    def days(self) -> int:
        """Number of local days in the roster."""
        return self.request.days

    def instant(self, k: int) -> datetime:
        """UTC start of grid interval k."""
        return self.t0 + k * self.step

    def index_of(self, instant: datetime) -> int | None:
        """Grid index of an instant on the grid, None if off-grid or outside the horizon."""
        delta = instant - self.t0
        k, rem = divmod(delta, self.step)
        if rem or not 0 <= k < self.n_intervals:
            return None
        return int(k)

    def letter_templates(self, pattern: int, offset: int, day: int) -> frozenset[int] | None:
        """Templates allowed on ``day`` by a pattern at an offset; None on a rest day."""
        pat = self.request.patterns[pattern]
        letter = pat.cycle[(day + offset) % len(pat.cycle)]
        if letter == OFF_LETTER:
            return None
        return self.pattern_letters[pattern][letter]


def pattern_followed(comp: Compiled, person: StaffInfo, day_templates: dict[int, int]) -> tuple[int, int] | None:
    """The first of the person's (pattern, offset) choices that a roster follows (``day_templates``: local day ->
    template index of its shift): rest days off, working days on a template of the day's letter, a working day
    left off only where unavailability touches it. None if it follows none."""
    for pi, off in person.pattern_choices:
        for d in range(comp.days):
            allowed = comp.letter_templates(pi, off, d)
            if d in day_templates and (allowed is None or day_templates[d] not in allowed):
                break
            if allowed is not None and d not in day_templates and d not in person.touched_days:
                break
        else:
            return pi, off
    return None


def night_minutes(start_minute: int, length: int) -> int:
    """Minutes of a shift (local start minute, length) inside 23:00-06:00, by nominal wall-clock arithmetic."""
    total = 0
    for day_offset in (-1, 0, 1, 2):
        lo = day_offset * 1440 + NIGHT_START_MINUTE
        hi = (day_offset + 1) * 1440 + NIGHT_END_MINUTE
        total += max(0, min(start_minute + length, hi) - max(start_minute, lo))
    return total


def _covered(span_start: datetime, span_end: datetime, periods: list[Period]) -> bool:
    """Whether [span_start, span_end) lies inside the union of ``periods`` (sorted, merged on the fly)."""
    cursor = span_start
    for p in sorted(periods, key=lambda p: p.start):
        if p.start > cursor:
            break
        cursor = max(cursor, p.end)
        if cursor >= span_end:
            return True
    return cursor >= span_end


def _carried_in(
    request: RosterRequest, t0: datetime, step: timedelta, n: int, skills: list[str]
) -> tuple[list[int], dict[str, list[int]]]:
    """Per grid interval, the previous period's shifts (``worked_before``) that run through all of it, less any
    interval one of their breaks touches, in total and per skill with requirement rows: a night that ends at 07:00 on
    the first morning covers 00:00-07:00 but for its breaks."""
    carried = [0] * n
    per_skill = {sk: [0] * n for sk in skills}
    for s in request.staff:
        mine = [per_skill[sk] for sk in skills if sk in s.skills]
        on: set[int] = set()  # a set: a person counts once where their listed shifts overlap
        off: set[int] = set()
        for w in s.worked_before:
            first = max(0, -(-(w.start - t0) // step))  # the first whole interval inside the shift
            on.update(range(first, min(n, (w.end - t0) // step)))
            for b in w.breaks:  # every interval the break touches
                off.update(range(max(0, (b.start - t0) // step), min(n, -(-(b.end - t0) // step))))
        for k in on - off:
            carried[k] += 1
            for arr in mine:
                arr[k] += 1
    return carried, per_skill


def compile_request(request: RosterRequest) -> Compiled:
    """Build the grid, the shift options and per-person facts from a validated request."""
    tz = ZoneInfo(request.timezone)
    step = timedelta(minutes=request.interval_minutes)
    midnights = [
        datetime.combine(request.start_date + timedelta(days=d), time(0), tzinfo=tz).astimezone(UTC)
        for d in range(request.days + 1)
    ]
    t0 = midnights[0]
    day_first = [int((m - t0) / step) for m in midnights]
    n = day_first[-1]
    required = [0] * n
    skill_required: dict[str, list[int]] = {}
    for r in request.requirements:
        k = int((r.interval_start - t0) / step)
        if r.skill is None:
            required[k] = r.required
        else:
            skill_required.setdefault(r.skill, [0] * n)[k] = r.required

    options: list[Option] = []
    by_day: list[list[int]] = [[] for _ in range(request.days)]
    for d in range(request.days):
        day = request.start_date + timedelta(days=d)
        for ti, tpl in enumerate(request.shift_templates):
            for wall in tpl.start_times():
                start = local_instant(day, wall, tz)
                if start is None:
                    continue
                first = int((start - t0) / step)
                length = tpl.length_minutes // request.interval_minutes
                breaks = tuple(
                    tuple(
                        first + off // request.interval_minutes
                        for off in range(b.earliest_after_minutes, b.latest_after_minutes + 1, request.interval_minutes)
                    )
                    for b in tpl.breaks
                )
                sm = wall.hour * 60 + wall.minute
                opt = Option(
                    idx=len(options),
                    template=ti,
                    name=tpl.name,
                    day=d,
                    wall=wall,
                    start=start,
                    end=start + timedelta(minutes=tpl.length_minutes),
                    first=first,
                    length=length,
                    minutes=tpl.length_minutes,
                    breaks=breaks,
                    break_lengths=tuple(b.length_minutes // request.interval_minutes for b in tpl.breaks),
                    night=night_minutes(sm, tpl.length_minutes) >= NIGHT_MIN_MINUTES,
                    weekend=day.weekday() in WEEKEND,
                )
                options.append(opt)
                by_day[d].append(opt.idx)

    names = {t.name: i for i, t in enumerate(request.shift_templates)}
    pattern_letters = [
        {letter: frozenset(names[t] for t in tpls) for letter, tpls in pat.letters.items()} for pat in request.patterns
    ]
    option_at = {(o.template, o.start): o.idx for o in options}  # a published shift is one of these (validation)
    staff: list[StaffInfo] = []
    for si, s in enumerate(request.staff):
        allowed = (
            frozenset(range(len(request.shift_templates)))
            if s.allowed_templates is None
            else frozenset(names[t] for t in s.allowed_templates)
        )
        periods = list(s.unavailable)
        blocked = frozenset(o.idx for o in options if any(p.start < o.end and o.start < p.end for p in periods))
        leave = frozenset(
            d for d in range(request.days) if periods and _covered(midnights[d], midnights[d + 1], periods)
        )
        touched = frozenset(
            d for d in range(request.days) if any(p.start < midnights[d + 1] and midnights[d] < p.end for p in periods)
        )
        # The contract's period: this roster's days, or from ``contract_period_start`` with the previous period's
        # minutes since then counted (re-rostering the rest of a period); leave pro-rates it by roster days.
        prior_minutes: dict[int, int] = {}  # minutes worked per local day before the roster (negative days)
        for w in s.worked_before:
            d = (w.start.astimezone(tz).date() - request.start_date).days
            prior_minutes[d] = prior_minutes.get(d, 0) + round((w.end - w.start) / timedelta(minutes=1))
        pre = (request.start_date - request.contract_period_start).days if request.contract_period_start else 0
        period_days = request.days + pre
        worked = sum(m for d, m in prior_minutes.items() if d >= -pre) if pre else 0
        target = s.contract_minutes_per_week * (period_days - len(leave)) / 7
        tol = request.rules.contract_tolerance_minutes * period_days / 7
        lo, hi = max(0, math.ceil(target - tol - worked)), max(0, math.floor(target + tol - worked))
        info = StaffInfo(
            index=si,
            staff=s,
            allowed=allowed,
            blocked_options=blocked,
            leave_days=leave,
            touched_days=touched,
            contract_lo=lo,  # narrowed below, once the options are compiled
            contract_hi=hi,
            band=(lo, hi),
            preferred_templates=frozenset(names[t] for t in s.prefers.templates if t in names),
            preferred_off_days=frozenset(_preferred_days(s, request)),
            skills=frozenset(s.skills) & frozenset(skill_required),
        )
        for ps in s.published:
            oi = option_at[(names[ps.template], ps.start)]
            info.published[options[oi].day] = oi
        info.pattern_choices = _pattern_choices(s, request)
        rest = timedelta(minutes=request.rules.min_rest_minutes)
        info.rest_blocked = frozenset(
            o.idx for o in options if any(o.start < w.end + rest and w.start < o.end for w in s.worked_before)
        )
        info.prior_minutes = prior_minutes
        staff.append(info)

    carried, skill_carried = _carried_in(request, t0, step, n, sorted(skill_required))
    required = [max(0, r - c) for r, c in zip(required, carried, strict=True)]
    for sk, arr in skill_required.items():
        skill_required[sk] = [max(0, r - c) for r, c in zip(arr, skill_carried[sk], strict=True)]
    classes = sorted({info.skills for info in staff}, key=sorted) or [frozenset()]
    for info in staff:
        info.cls = classes.index(info.skills)
    comp = Compiled(
        request=request,
        tz=tz,
        t0=t0,
        step=step,
        n_intervals=n,
        day_first=day_first,
        required=required,
        options=options,
        by_day=by_day,
        staff=staff,
        pattern_letters=pattern_letters,
        skill_required=skill_required,
        classes=classes,
        carried=carried,
        skill_carried=skill_carried,
    )
    for info in staff:  # every option allowed templates, unavailability and rest leave them (pattern letters not
        # applied: a wider set, so the narrowed band holds whichever pattern and offset they follow)
        per_day = workable_options(comp, info, frozenset({"pattern"}))
        info.contract_lo, info.contract_hi = reachable_band(
            *info.band, frozenset(comp.options[oi].minutes for day in per_day for oi in day), sum(map(bool, per_day))
        )
    return comp


def workable_options(comp: Compiled, person: StaffInfo, relax: frozenset[str] = frozenset()) -> list[list[int]]:
    """Per roster day, the options this person may work (allowed template, not unavailable, pattern letter)."""
    out: list[list[int]] = []
    patterned = person.pattern_choices and "pattern" not in relax
    for d in range(comp.days):
        letters: set[int] | None = None
        if patterned:
            letters = set()
            for pi, off in person.pattern_choices:
                allowed = comp.letter_templates(pi, off, d)
                if allowed:
                    letters |= allowed
        day = []
        for oi in comp.by_day[d]:
            o = comp.options[oi]
            if "allowed_templates" not in relax and o.template not in person.allowed:
                continue
            if "unavailability" not in relax and oi in person.blocked_options:
                continue
            if "rest" not in relax and oi in person.rest_blocked:
                continue
            if letters is not None and o.template not in letters:
                continue
            day.append(oi)
        out.append(day)
    return out


@functools.lru_cache(maxsize=1024)  # people alike share one band: computed once per request, not per person
def reachable_band(lo: int, hi: int, minutes: frozenset[int], max_shifts: int) -> tuple[int, int]:
    """The contract band [lo, hi] (minutes) narrowed to totals some roster can reach: sums of at most
    ``max_shifts`` shift lengths from ``minutes``. Every roster keeps within the narrowed band exactly when it keeps
    within the band, so nothing feasible is lost, but the LP relaxations can no longer plan hours no whole shift can
    fill (with 6-12 h shifts a band ending 60 min past an even hour leaves those 60 min to fractional shifts only;
    the bench's large instance: 148 h of band, its LP bound 246.6 -> 252.7 agent-h under). The band as it is when no
    total in it is reachable (the pre-check then names the contract conflict). Written by hand: a bounded
    subset-sum over a bit set, a few lines where a solver call per person would cost more."""
    lengths = sorted(m for m in minutes if 0 < m <= hi)
    if hi < lo or hi < 0:
        return lo, hi
    mask = (1 << (hi + 1)) - 1
    reach = 1  # bit v set: a total of v minutes is reachable with the shifts so far
    for _ in range(max_shifts):
        grown = reach
        for m in lengths:
            grown |= (reach << m) & mask
        if grown == reach:
            break
        reach = grown
    inside = reach >> max(lo, 0)
    if not inside:
        return lo, hi
    new_lo = max(lo, 0) + ((inside & -inside).bit_length() - 1)
    return new_lo, reach.bit_length() - 1


def _pattern_choices(s: Staff, request: RosterRequest) -> list[tuple[int, int]]:
    """(pattern index, offset) pairs a person may follow: one fixed pair, all offsets of one pattern, or all."""
    index = {p.name: i for i, p in enumerate(request.patterns)}
    if s.pattern_auto:
        return [(i, off) for i, p in enumerate(request.patterns) for off in range(len(p.cycle))]
    if s.pattern is None:
        return []
    i = index[s.pattern]
    if s.pattern_offset is not None:
        return [(i, s.pattern_offset % len(request.patterns[i].cycle))]
    return [(i, off) for off in range(len(request.patterns[i].cycle))]


def _preferred_days(s: Staff, request: RosterRequest) -> list[int]:
    """Roster days a person would rather have off (weekday names or ISO dates)."""
    out = []
    for d in range(request.days):
        day = request.start_date + timedelta(days=d)
        for want in s.prefers.days_off:
            w = want.strip().lower()
            if w == day.isoformat() or (len(w) >= 3 and WEEKDAYS[day.weekday()].startswith(w)):
                out.append(d)
                break
    return out
