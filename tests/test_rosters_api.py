"""Roster jobs over HTTP: solve, audit, exports, bad input named, cancel, requirements from forecasts."""

from __future__ import annotations

import copy
import csv as csvlib
import io
import time
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.schemas.rosters import ROSTER_EXAMPLE
from tests.conftest import with_role
from tests.test_forecasts_api import hourly_history, wait_done


def wait_roster(client: TestClient, rid: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/rosters/{rid}").json()
        if body["status"] in ("done", "failed", "cancelled"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"roster {rid} did not finish: {body}")


def example(**kw: object) -> dict:
    return copy.deepcopy(ROSTER_EXAMPLE) | kw


def test_roster_solve_audit_and_exports(client: TestClient) -> None:
    r = client.post("/v1/rosters", json=example())
    assert r.status_code == 202, r.text
    rid = r.json()["id"]
    assert r.headers["location"] == f"/v1/rosters/{rid}"
    done = wait_roster(client, rid)
    assert done["status"] == "done", done
    res = done["result"]
    assert res["violations"] == [] and res["assignments"]
    assert len(res["coverage"]) == 7 * 48
    assert res["kpis"]
    # The example's PCRO-001 ends a night at 07:00 on the first morning: 11 h rest before their next start.
    first = min(datetime.fromisoformat(a["start"]) for a in res["assignments"] if a["staff_id"] == "PCRO-001")
    assert first >= datetime.fromisoformat("2027-01-04T18:00:00+00:00")
    # ... and covers 00:00-07:00 of it: on the phones in the coverage, as the previous period's, but for its break
    # at 02:00-02:30 (on break then).
    carried = [c["interval_start"] for c in res["coverage"] if c["carried_in"] == 1]
    assert (carried[0], carried[-1], len(carried)) == ("2027-01-04T00:00:00+00:00", "2027-01-04T06:30:00+00:00", 13)
    assert "2027-01-04T02:00:00+00:00" not in carried
    at_two = next(c for c in res["coverage"] if c["interval_start"] == "2027-01-04T02:00:00+00:00")
    assert at_two["on_break"] >= 1
    assert all(c["scheduled"] >= c["carried_in"] for c in res["coverage"])
    assert res["kpis"]["carried_in_agent_hours"] == 6.5
    csv = client.get(f"/v1/rosters/{rid}/export", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("staff_id,template,start,end,breaks") and len(lines) == len(res["assignments"]) + 1
    person = res["assignments"][0]["staff_id"]
    ics = client.get(f"/v1/rosters/{rid}/export", params={"format": "ics", "staff_id": person})
    assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR\r\n")
    assert ics.text.count("BEGIN:VEVENT") == sum(a["staff_id"] == person for a in res["assignments"])
    assert client.get(f"/v1/rosters/{rid}/export", params={"format": "ics", "staff_id": "nobody"}).status_code == 422
    assert client.get(f"/v1/rosters/{rid}/export", params={"format": "pdf"}).status_code == 422
    cov = client.get(f"/v1/rosters/{rid}/export", params={"format": "coverage"})
    assert cov.status_code == 200 and cov.headers["content-type"].startswith("text/csv")
    rows = list(csvlib.DictReader(io.StringIO(cov.text)))
    assert len(rows) == len(res["coverage"])
    for row, c in zip(rows, res["coverage"], strict=True):
        assert row["interval_start"] == c["interval_start"]
        assert datetime.fromisoformat(row["local_start"]) == datetime.fromisoformat(c["interval_start"])
        assert [int(row[k]) for k in ("required", "scheduled", "carried_in", "on_break")] == [
            c["required"], c["scheduled"], c["carried_in"], c["on_break"]]
        assert int(row["short"]) - int(row["surplus"]) == c["required"] - c["scheduled"]
    assert sum(int(r["short"]) for r in rows) / 2 == res["kpis"]["under_coverage_agent_hours"]
    viewer = with_role(TestClient(client.app), "viewer")
    assert viewer.get(f"/v1/rosters/{rid}").status_code == 200
    assert viewer.post("/v1/rosters", json=example()).status_code == 403
    assert [x["id"] for x in client.get("/v1/rosters").json()["items"]] == [rid]



def test_short_intervals_say_why_over_http(client: TestClient) -> None:
    """Three times the example's requirement: the result lists the short intervals, each with who could cover it
    and what keeps the others off, and the KPIs split off what lies beyond everyone able."""
    body = example()
    for row in body["requirements"]:
        row["required"] *= 3
    done = wait_roster(client, client.post("/v1/rosters", json=body).json()["id"])
    res = done["result"]
    assert done["status"] == "done" and res["violations"] == [] and res["shortfall"]
    keys = {"able", "on_shift", "pattern", "other_shift", "rest", "consecutive_days", "days_off", "weekly_max",
            "contract", "free"}
    for entry in res["shortfall"]:
        why = entry["why"]
        assert set(why) == keys and why["able"] >= why["on_shift"]
        assert why["able"] == why["on_shift"] + sum(v for k, v in why.items() if k not in ("able", "on_shift"))
    assert 0 <= res["kpis"]["under_coverage_beyond_able_agent_hours"] <= res["kpis"]["under_coverage_agent_hours"]

def test_skill_rows_over_http(client: TestClient) -> None:
    """A 999 row besides the pool's: two of the example's six PCROs are 101-only new starters, and one of the
    four who take 999 must be on the phones 08:00-16:00 (which the earlies cover) and 18:00-20:00 (which no
    template reaches). The result reports the row per interval, in the KPIs and in the shortfall, with why."""
    body = example()
    for s in body["staff"][4:]:
        s["skills"] = ["101"]

    def need(start: str) -> int:
        return int(8 <= int(start[11:13]) < 16 or 18 <= int(start[11:13]) < 20)

    body["requirements"] += [{"interval_start": r["interval_start"], "required": need(r["interval_start"]),
                              "skill": "999"} for r in body["requirements"]]
    done = wait_roster(client, client.post("/v1/rosters", json=body).json()["id"])
    assert done["status"] == "done", done
    res = done["result"]
    assert res["violations"] == [] and len(res["coverage"]) == 7 * 48
    assert all(c["skills"]["999"]["required"] == need(c["interval_start"]) for c in res["coverage"])
    short = [c for c in res["coverage"] if c["skills"]["999"]["scheduled"] < need(c["interval_start"])]
    unreachable = [c["interval_start"] for c in res["coverage"] if 18 <= int(c["interval_start"][11:13]) < 20]
    assert set(unreachable) <= {c["interval_start"] for c in short}
    assert len(short) - len(unreachable) <= 4  # the earlies' hours: measured 0 and 2 of 112 short
    assert res["kpis"]["skills"]["999"] == {
        "required_agent_hours": 10.0 * 7,
        "scheduled_agent_hours": sum(c["skills"]["999"]["scheduled"] for c in res["coverage"]) / 2,
        "under_coverage_agent_hours": sum(need(c["interval_start"]) - c["skills"]["999"]["scheduled"]
                                          for c in short) / 2,
        "intervals_short": len(short),
    }
    entries = {e["interval_start"]: e for e in res["shortfall"] if e["skill"] == "999"}
    assert list(entries) == [c["interval_start"] for c in short]
    assert all(entries[t]["why"]["able"] == 0 and entries[t]["short"] == 1 for t in unreachable)  # no template


def _bad(**change: object) -> dict:
    body = example()
    for path, value in change.items():
        target = body
        *head, last = path.split("__")
        for key in head:
            target = target[int(key)] if key.isdigit() else target[key]
        target[int(last) if last.isdigit() else last] = value
    return body


@pytest.mark.parametrize(
    ("body", "field_part"),
    [
        (_bad(staff__0__allowed_templates=["late"]), "allowed_templates"),
        (_bad(staff__1__id="PCRO-001"), "id"),
        (_bad(days=0), "days"),
        (_bad(days=85), "days"),
        (_bad(requirements__3__interval_start="2027-01-04T03:20:00+00:00"), "requirements"),
        (_bad(interval_minutes=60), "requirements"),
        (
            _bad(
                shift_templates__0__breaks=[
                    {"length_minutes": 30, "earliest_after_minutes": 590, "latest_after_minutes": 700}
                ]
            ),
            "breaks",
        ),
        (_bad(timezone="Mars/Olympus"), "timezone"),
        (
            _bad(staff__0__worked_before=[{"start": "2027-01-05T07:00:00+00:00", "end": "2027-01-05T17:00:00+00:00"}]),
            "staff[0].worked_before[0].start",
        ),
        (
            _bad(staff__0__worked_before=[{"start": "2027-01-03T21:00:00+00:00", "end": "2027-01-04T07:00:00+00:00",
                                           "breaks": [{"start": "2027-01-04T06:45:00+00:00",
                                                       "end": "2027-01-04T07:15:00+00:00"}]}]),
            "staff[0].worked_before[0].breaks[0]",
        ),
        (_bad(staff__1__published=[{"template": "early", "start": "2027-01-05T06:10:00+00:00"}]),
         "staff[1].published[0].start"),
        (_bad(staff__1__published=[{"template": "nosuch", "start": "2027-01-05T06:00:00+00:00"}]),
         "staff[1].published[0].template"),
        (_bad(weights={"keep_published": -1}), "weights.keep_published"),
        (_bad(requirements=None), "requirements"),
        (_bad(requirements__5__skill="dispatch"), "requirements[5].skill"),
        (_bad(staff=[{"id": f"P{i}", "contract_minutes_per_week": 2220} for i in range(1001)]), "staff"),
    ],
)
def test_bad_roster_input_names_the_field(client: TestClient, body: dict, field_part: str) -> None:
    body = copy.deepcopy(body)  # parameters are shared by both database runs
    if body.get("requirements") is None:
        body.pop("requirements", None)
    r = client.post("/v1/rosters", json=body)
    assert r.status_code == 422, r.text
    assert any(field_part in e["field"] for e in r.json()["errors"]), r.json()["errors"]


def test_cancel_a_running_solve(client: TestClient) -> None:
    body = example(days=28, time_limit_seconds=300, interval_minutes=60)
    body["requirements"] = [
        {"interval_start": f"2027-01-{4 + d:02d}T{h:02d}:00:00+00:00", "required": 3}
        for d in range(28)
        for h in range(24)
    ]
    for t in body["shift_templates"]:
        t["start_step_minutes"] = 60
        t["breaks"] = [{"length_minutes": 60, "earliest_after_minutes": 180, "latest_after_minutes": 420}]
    body["staff"] = [{"id": f"P{i:03d}", "contract_minutes_per_week": 2220} for i in range(40)]
    rid = client.post("/v1/rosters", json=body).json()["id"]
    deadline = time.monotonic() + 60
    while client.get(f"/v1/rosters/{rid}").json()["status"] == "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
    r = client.delete(f"/v1/rosters/{rid}")
    assert r.status_code == 202
    assert wait_roster(client, rid, timeout=60)["status"] == "cancelled"


def test_roster_from_forecasts_reports_service(client: TestClient) -> None:
    for ch in ("999", "101"):
        assert client.post(f"/v1/channels/{ch}/history", json=hourly_history("2026-11-02", 35)).status_code == 200
    ids = {}
    for ch in ("999", "101"):
        r = client.post(
            "/v1/forecasts", json={"channel": ch, "start": "2026-12-07", "end": "2026-12-14", "model": "seasonal_naive"}
        )
        ids[ch] = wait_done(client, r.json()["id"])["id"]
    body = example(
        start_date="2026-12-07",
        forecasts=ids,
        shrinkage=0.2,
        interval_minutes=60,
        patience_seconds={"999": 90, "101": 240},
        time_limit_seconds=20,
    )
    body.pop("requirements")
    for t in body["shift_templates"]:
        t["start_step_minutes"] = 60
        t["breaks"] = [{"length_minutes": 60, "earliest_after_minutes": 180, "latest_after_minutes": 420}]
    body["staff"] = [{"id": f"P{i:03d}", "contract_minutes_per_week": 2220} for i in range(30)]
    r = client.post("/v1/rosters", json=body)
    assert r.status_code == 202, r.text
    done = wait_roster(client, r.json()["id"])
    assert done["status"] == "done", done
    res = done["result"]
    assert set(res["service"]) == {"999", "101"} and res["violations"] == []
    first = res["coverage"][0]
    assert set(first["channels"]) == {"999", "101"} and first["required"] >= 0
    # The requirement was sized to meet each channel's targets, so wherever the roster covers it the predicted
    # service level (same engine, the channel's own answer-within threshold) meets the target too.
    target = {ch: client.get(f"/v1/channels/{ch}").json()["target_service_level"] for ch in ("999", "101")}
    covered = [c for c in res["coverage"] if c["required"] > 0 and c["scheduled"] >= c["required"]]
    assert covered
    for c in covered:
        for ch in ("999", "101"):
            assert c["channels"][ch]["service_level"] >= target[ch] - 1e-6, (c, ch)
    # The abandonment endpoint given this roster agrees with the roster's own prediction: 101 shares the pool
    # with 999 (which goes first), at the roster's shrinkage.
    ab = client.post(f"/v1/forecasts/{ids['101']}/abandonment",
                     json={"roster_id": done["id"], "patience_seconds": 240})
    assert ab.status_code == 200, ab.text
    ab = ab.json()
    assert ab["shared_with"] == ["999"] and ab["shrinkage"] == 0.2 and ab["intervals_outside_roster"] == 0
    assert len(ab["intervals"]) == len(res["coverage"])
    for iv, c in zip(ab["intervals"], res["coverage"], strict=True):
        assert iv["abandon_rate"] == pytest.approx(c["channels"]["101"]["abandon_rate"], rel=1e-4, abs=1e-6)
        assert iv["service_level"] == pytest.approx(c["channels"]["101"]["service_level"], rel=1e-4, abs=1e-6)
    assert ab["total_abandoned"] == pytest.approx(res["service"]["101"]["expected_abandoned"], rel=1e-4)
    # The coverage export carries each channel's predicted service per interval.
    cov = client.get(f"/v1/rosters/{done['id']}/export", params={"format": "coverage"}).text
    rows = list(csvlib.DictReader(io.StringIO(cov)))
    assert {"999_service_level", "101_abandon_rate", "101_expected_abandoned"} <= set(rows[0])
    for row, c in zip(rows, res["coverage"], strict=True):
        got = row["101_abandon_rate"]
        want = c["channels"]["101"]["abandon_rate"]
        assert (got == "" and want is None) or float(got) == pytest.approx(want)
    body["forecasts"] = {"999": ids["101"]}
    r = client.post("/v1/rosters", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "forecasts.999"
    # Staff listing skills, a third of them 101-only: 999 also gets a skill row, its requirement on its own.
    body["forecasts"] = ids
    for i, s in enumerate(body["staff"]):
        s["skills"] = ["101"] if i % 3 == 0 else ["999", "101"]
    done = wait_roster(client, client.post("/v1/rosters", json=body).json()["id"])
    assert done["status"] == "done", done
    res = done["result"]
    assert res["violations"] == [] and all(set(c["skills"]) == {"999"} for c in res["coverage"])
    rows = [c["skills"]["999"]["required"] for c in res["coverage"]]
    assert max(rows) > 0 and all(r <= c["required"] for r, c in zip(rows, res["coverage"], strict=True))
    # Short of 999 only where no template reaches (the first night, 18:00-20:00: nobody on the phones at all) but
    # for one interval in the runs measured.
    reached = [c for c in res["coverage"]
               if c["scheduled"] > 0 and c["skills"]["999"]["scheduled"] < c["skills"]["999"]["required"]]
    assert len(reached) <= 3, reached
    for s in body["staff"]:
        s["skills"] = ["101"]  # nobody takes 999: named, not a roster that ignores 999
    r = client.post("/v1/rosters", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "staff", r.text


def test_abandonment_of_a_roster_on_a_coarser_forecast_grid(client: TestClient) -> None:
    """A 30-minute roster over an hourly forecast: each hour is evaluated as its two half-hours (the roster's
    agents, half the hour's calls each), as an independent Erlang A computation here confirms; forecast hours
    outside the roster are left out and counted."""
    from scheduling import evaluate

    assert client.post("/v1/channels/999/history", json=hourly_history("2026-11-02", 63)).status_code == 200
    rid = client.post("/v1/rosters", json=example()).json()["id"]
    fid = client.post("/v1/forecasts", json={"channel": "999", "start": "2027-01-04", "end": "2027-01-14",
                                             "model": "seasonal_naive", "interval_minutes": 60}).json()["id"]
    fc = wait_done(client, fid)
    roster = wait_roster(client, rid)
    assert roster["status"] == "done" and fc["status"] == "done"
    url = f"/v1/forecasts/{fid}/abandonment"
    out = client.post(url, json={"roster_id": rid, "patience_seconds": 120})
    assert out.status_code == 200, out.text
    out = out.json()
    assert out["roster_id"] == rid and out["shared_with"] == [] and out["shrinkage"] == 0
    assert len(out["intervals"]) == 7 * 24 and out["intervals_outside_roster"] == 3 * 24
    heads = {datetime.fromisoformat(c["interval_start"]): c["scheduled"] for c in roster["result"]["coverage"]}
    points = {p["interval_start"]: p for p in fc["points"]}
    total = 0.0
    for iv in out["intervals"]:
        p = points[iv["interval_start"]]
        t = datetime.fromisoformat(iv["interval_start"])
        halves = [heads[t], heads[t + timedelta(minutes=30)]]
        m = evaluate("erlang_a", halves, p["calls"] / 2, 30, p["aht_seconds"], patience_seconds=120,
                     answer_within_seconds=out["answer_within_seconds"])
        abandoned = float((m.abandon_rate * p["calls"] / 2).sum())
        assert iv["agents"] == pytest.approx(sum(halves) / 2)
        assert iv["abandoned"] == pytest.approx(abandoned, rel=1e-5, abs=1e-5)  # rounded to 6 places
        total += abandoned
    assert out["total_abandoned"] == pytest.approx(total, rel=1e-5)
    # bad requests, each naming its field
    for body, field in (
        ({"roster_id": rid, "agents": [1] * len(fc["points"])}, "agents"),
        ({"patience_seconds": 120}, "agents"),
        ({"roster_id": "nope", "patience_seconds": 120}, "roster_id"),
        ({"agents": [1] * len(fc["points"]), "shrinkage": 0.2, "patience_seconds": 120}, "shrinkage"),
    ):
        r = client.post(url, json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, (body, r.text)
    later = client.post("/v1/forecasts", json={"channel": "999", "start": "2027-01-11", "end": "2027-01-14",
                                               "model": "seasonal_naive", "interval_minutes": 60}).json()["id"]
    wait_done(client, later)
    r = client.post(f"/v1/forecasts/{later}/abandonment", json={"roster_id": rid, "patience_seconds": 120})
    assert r.status_code == 422 and "covers none" in r.json()["errors"][0]["message"]


def test_coverage_export_tells_the_two_one_oclocks_of_the_autumn_change_apart() -> None:
    from app.services.rosters import export_coverage_csv

    # 2027-10-31, Europe/London: 00:00 and 01:00 UTC are both 01:00 local, first in BST then in GMT.
    coverage = [{"interval_start": f"2027-10-31T0{h}:00:00+00:00", "required": 3, "scheduled": s, "on_break": 0,
                 "carried_in": 0, "skills": {}} for h, s in ((0, 2), (1, 4))]
    rows = list(csvlib.DictReader(io.StringIO(export_coverage_csv({"coverage": coverage}, "Europe/London"))))
    assert [r["local_start"] for r in rows] == ["2027-10-31T01:00:00+01:00", "2027-10-31T01:00:00+00:00"]
    assert [(r["short"], r["surplus"]) for r in rows] == [("1", "0"), ("0", "1")]


def test_re_roster_with_a_published_roster(client: TestClient) -> None:
    body = example(time_limit_seconds=5)
    body["staff"][1]["published"] = [{"template": "early", "start": "2027-01-05T06:00:00+00:00"}]
    r = client.post("/v1/rosters", json=body)
    assert r.status_code == 202, r.text
    done = wait_roster(client, r.json()["id"])
    assert done["status"] == "done", done
    changes = done["result"]["kpis"]["published_changes"]
    assert changes["kept"] + changes["moved"] + changes["dropped"] == 1
    assert done["result"]["violations"] == []


def test_rest_of_period_gives_a_re_roster_body_that_keeps_the_roster(client: TestClient) -> None:
    # Solve the example, ask for the body that re-rosters it from its fourth day, put one person on leave for a
    # day they work after it, post it: the rules hold across the new start (the audit sees the days before), the
    # shifts before it come back as worked_before with their breaks, and the rest of the roster is mostly kept.
    rid = client.post("/v1/rosters", json=example(time_limit_seconds=5)).json()["id"]
    first = wait_roster(client, rid)["result"]
    r = client.get(f"/v1/rosters/{rid}/rest-of-period", params={"from_date": "2027-01-07"})
    assert r.status_code == 200, r.text
    body = r.json()
    split = datetime.fromisoformat("2027-01-07T00:00:00+00:00")
    assert (body["start_date"], body["days"], body["contract_period_start"]) == ("2027-01-07", 4, "2027-01-04")
    assert len(body["requirements"]) == 4 * 48
    assert min(datetime.fromisoformat(q["interval_start"]) for q in body["requirements"]) == split
    by_id = {s["id"]: s for s in body["staff"]}

    def span(x: dict) -> tuple[datetime, datetime]:
        return datetime.fromisoformat(x["start"]), datetime.fromisoformat(x["end"])

    for a in first["assignments"]:
        person = by_id[a["staff_id"]]
        if datetime.fromisoformat(a["start"]) < split:
            assert (span(a), [span(b) for b in a["breaks"]]) in [
                (span(w), [span(b) for b in w["breaks"]]) for w in person["worked_before"]]
        else:
            assert (a["template"], datetime.fromisoformat(a["start"])) in [
                (p["template"], datetime.fromisoformat(p["start"])) for p in person["published"]]
    sick = next(s for s in body["staff"] if s["published"])
    day = datetime.fromisoformat(sick["published"][0]["start"]).date()
    sick["unavailable"] = [{"start": f"{day}T00:00:00+00:00", "end": f"{day + timedelta(days=1)}T00:00:00+00:00"}]
    again = client.post("/v1/rosters", json=body)
    assert again.status_code == 202, again.text
    res = wait_roster(client, again.json()["id"])["result"]
    assert res["violations"] == []
    changes = res["kpis"]["published_changes"]
    assert changes["dropped"] >= 1 and changes["kept"] >= 0.5 * sum(len(s["published"]) for s in body["staff"])
    for bad in ("2027-01-04", "2027-01-11", "2026-12-01"):
        r = client.get(f"/v1/rosters/{rid}/rest-of-period", params={"from_date": bad})
        assert r.status_code == 422 and "from_date" in r.text, bad


def test_rest_of_period_moves_each_pattern_offset_on_and_drops_what_lies_behind() -> None:
    # A person who followed 4on4off at offset 6 (day d has letter cycle[(d + 6) % 8]) re-rostered from day 3 of
    # the roster follows it at offset (6 + 3) % 8 = 1; leave that ended before the new start and previous shifts
    # more than 14 days before it are dropped; a roster more than 14 days old gives no contract_period_start.
    from datetime import date

    from app.services.rosters import rest_of_period

    request = {
        "start_date": "2027-01-04", "days": 28, "timezone": "Europe/London",
        "requirements": [{"interval_start": "2027-01-04T00:00:00+00:00", "required": 1},
                         {"interval_start": "2027-01-07T00:00:00+00:00", "required": 2}],
        "patterns": [{"name": "4on4off", "cycle": ["D", "D", "N", "N", "-", "-", "-", "-"],
                      "letters": {"D": ["day"], "N": ["night"]}}],
        "staff": [{"id": "P1", "contract_minutes_per_week": 2220, "pattern": "auto",
                   "unavailable": [{"start": "2027-01-04T00:00:00+00:00", "end": "2027-01-05T00:00:00+00:00"},
                                   {"start": "2027-01-08T00:00:00+00:00", "end": "2027-01-09T00:00:00+00:00"}],
                   "worked_before": [{"start": "2027-01-02T07:00:00+00:00", "end": "2027-01-02T19:00:00+00:00"}]}],
    }
    result = {"patterns_chosen": {"P1": {"pattern": "4on4off", "offset": 6}}, "assignments": []}
    body = rest_of_period(request, result, date(2027, 1, 7))
    person = body["staff"][0]
    assert (person["pattern"], person["pattern_offset"]) == ("4on4off", 1)
    assert [u["start"] for u in person["unavailable"]] == ["2027-01-08T00:00:00+00:00"]
    assert len(person["worked_before"]) == 1 and body["requirements"] == request["requirements"][1:]
    late = rest_of_period(request, result, date(2027, 1, 20))
    assert "contract_period_start" not in late and late["staff"][0]["worked_before"] == []
    assert request["staff"][0]["pattern"] == "auto"  # the stored request is not changed
    fixed = {**request, "staff": [{**request["staff"][0], "pattern": "4on4off", "pattern_offset": 5}]}
    assert rest_of_period(fixed, {"assignments": []}, date(2027, 1, 7))["staff"][0]["pattern_offset"] == 0
