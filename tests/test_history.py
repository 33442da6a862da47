"""History ingestion and query: JSON and CSV paths, every bad input, idempotence, DST, re-aggregation, paging."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.settings import Settings
from tests.conftest import with_role

LONDON = ZoneInfo("Europe/London")


def quarter_hours(start_local: str, n: int, minutes: int = 15) -> list[str]:
    """`n` consecutive interval starts from a London local time, as ISO strings with offsets (DST-correct)."""
    first = datetime.fromisoformat(start_local).replace(tzinfo=LONDON).astimezone(UTC)
    return [(first + timedelta(minutes=minutes * i)).astimezone(LONDON).isoformat() for i in range(n)]


def rows(n: int = 8, start: str = "2026-01-05T00:00:00", minutes: int = 15, **extra: object) -> list[dict]:
    """A valid batch with distinct, realistic values."""
    out = []
    for i, ts in enumerate(quarter_hours(start, n, minutes)):
        offered = 10 + i
        out.append(
            {
                "interval_start": ts,
                "interval_minutes": minutes,
                "offered": offered,
                "answered": offered - 1,
                "abandoned": 1,
                "answered_within_threshold": offered - 2,
                "threshold_seconds": 10,
                "aht_seconds": 280.0 + i,
                **extra,
            }
        )
    return out


def to_csv(batch: list[dict]) -> str:
    cols = list(batch[0])
    lines = [",".join(cols)] + [",".join("" if r.get(c) is None else str(r[c]) for c in cols) for r in batch]
    return "\n".join(lines) + "\n"


def get_all(client: TestClient, channel: str = "999", **params: object) -> list[dict]:
    r = client.get(f"/v1/channels/{channel}/history", params=params)
    assert r.status_code == 200, r.text
    return r.json()["intervals"]


def assert_rejected(r, *expect: tuple[int | None, str]) -> list[dict]:
    """A 422 problem document listing at least the (row, field) pairs given."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == 422
    if r.request.method == "POST":
        assert "nothing was written" in body["detail"]
    got = {(e["row"], e["field"]) for e in body["errors"]}
    for pair in expect:
        assert pair in got, f"{pair} not in {got}"
    return body["errors"]


# --- happy paths ---------------------------------------------------------------------------------------------


def test_json_upload_round_trip(client: TestClient) -> None:
    batch = rows(8)
    r = client.post("/v1/channels/999/history", json=batch)
    assert r.status_code == 200, r.text
    assert r.json() | {"first_interval": None, "last_interval": None} == {
        "channel": "999",
        "rows": 8,
        "inserted": 8,
        "updated": 0,
        "unchanged": 0,
        "interval_minutes": 15,
        "first_interval": None,
        "last_interval": None,
    }
    got = get_all(client)
    assert [g["offered"] for g in got] == [b["offered"] for b in batch]
    assert [datetime.fromisoformat(g["interval_start"]) for g in got] == [
        datetime.fromisoformat(b["interval_start"]) for b in batch
    ]
    assert got[3]["aht_seconds"] == pytest.approx(283.0)
    assert got[0]["answered_within_threshold"] == 8 and got[0]["threshold_seconds"] == 10


def test_csv_upload_matches_json(client: TestClient) -> None:
    batch = rows(6)
    r = client.post("/v1/channels/101/history", content=to_csv(batch), headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 6
    assert [g["offered"] for g in get_all(client, "101")] == [b["offered"] for b in batch]


def test_multipart_file_upload(client: TestClient) -> None:
    batch = rows(4)
    r = client.post("/v1/channels/999/history", files={"file": ("h.csv", to_csv(batch), "text/csv")})
    assert r.status_code == 200, r.text
    r = client.post("/v1/channels/999/history", files={"file": ("h.json", json.dumps(rows(5)), "application/json")})
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 1 and r.json()["unchanged"] == 4


def test_csv_with_empty_optional_cells(client: TestClient) -> None:
    csv = "interval_start,interval_minutes,offered,answered,abandoned,aht_seconds\n"
    csv += "2026-01-05T00:00:00+00:00,15,12,,,\n2026-01-05T00:15:00+00:00,15,9,9,0,301.5\n"
    r = client.post("/v1/channels/999/history", content=csv, headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    got = get_all(client)
    assert got[0]["answered"] is None and got[0]["aht_seconds"] is None
    assert got[1]["answered"] == 9 and got[1]["aht_seconds"] == 301.5


def test_same_batch_twice_changes_nothing(client: TestClient) -> None:
    batch = rows(12)
    assert client.post("/v1/channels/999/history", json=batch).json()["inserted"] == 12
    before = get_all(client)
    again = client.post("/v1/channels/999/history", json=batch).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 12)
    assert get_all(client) == before
    # The same rows as CSV, and with offsets written in UTC instead of local: still the same intervals.
    utc = [
        {**b, "interval_start": datetime.fromisoformat(b["interval_start"]).astimezone(UTC).isoformat()} for b in batch
    ]
    again = client.post("/v1/channels/999/history", content=to_csv(utc), headers={"content-type": "text/csv"})
    assert again.json()["unchanged"] == 12


def test_upsert_updates_changed_rows_only(client: TestClient) -> None:
    batch = rows(4)
    client.post("/v1/channels/999/history", json=batch)
    batch[2]["offered"] += 5
    r = client.post("/v1/channels/999/history", json=batch).json()
    assert (r["inserted"], r["updated"], r["unchanged"]) == (0, 1, 3)
    assert get_all(client)[2]["offered"] == batch[2]["offered"]


def test_agents_staffed_is_kept(client: TestClient) -> None:
    r = client.post("/v1/channels/999/history", json=rows(2, agents_staffed=7.5))
    assert r.status_code == 200
    assert [g["agents_staffed"] for g in get_all(client)] == [7.5, 7.5]


# --- bad input: 422 naming row and field, nothing written -------------------------------------------------------


def assert_nothing_written(client: TestClient, channel: str = "999") -> None:
    assert get_all(client, channel) == []


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda r: r.update(offered=-1), "offered"),
        (lambda r: r.update(answered=-3), "answered"),
        (lambda r: r.update(abandoned=-1), "abandoned"),
        (lambda r: r.update(answered=20, abandoned=5, offered=21), "row"),
        (lambda r: r.update(interval_start="2026-01-05T00:07:00+00:00"), "interval_start"),
        (lambda r: r.update(interval_start="not a date"), "interval_start"),
        (lambda r: r.update(interval_start="2026-13-45T00:00:00+00:00"), "interval_start"),
        (lambda r: r.update(interval_start="2026-01-05T00:00:00"), "interval_start"),  # no offset
        (lambda r: r.update(interval_minutes=20), "interval_minutes"),
        (lambda r: r.update(aht_seconds=0), "aht_seconds"),
        (lambda r: r.update(answered_within_threshold=99), "row"),
        (lambda r: r.update(threshold_seconds=None), "row"),
        (lambda r: r.update(surprise=1), "surprise"),
        (lambda r: r.update(channel="101"), "channel"),
    ],
)
def test_one_bad_row_rejects_batch(client: TestClient, mutate, field: str) -> None:
    batch = rows(6)
    mutate(batch[4])
    r = client.post("/v1/channels/999/history", json=batch)
    errors = assert_rejected(r)
    assert any(e["row"] == 4 and (e["field"] == field or field == "row") for e in errors), errors
    assert all(e["row"] == 4 for e in errors), errors  # only the bad row is blamed
    assert_nothing_written(client)


def test_answered_plus_abandoned_over_offered_message(client: TestClient) -> None:
    batch = rows(3)
    batch[1].update(offered=10, answered=8, abandoned=3)
    errors = assert_rejected(client.post("/v1/channels/999/history", json=batch))
    assert "exceeds offered" in errors[0]["message"] and errors[0]["row"] == 1


def test_misaligned_interval_is_named(client: TestClient) -> None:
    batch = rows(3, minutes=60, start="2026-01-05T00:00:00")
    batch[2]["interval_start"] = "2026-01-05T02:30:00+00:00"
    errors = assert_rejected(client.post("/v1/channels/999/history", json=batch), (2, "interval_start"))
    assert "60-minute grid" in errors[0]["message"]


def test_duplicates_inside_batch(client: TestClient) -> None:
    batch = rows(4)
    batch[3]["interval_start"] = batch[1]["interval_start"]
    errors = assert_rejected(client.post("/v1/channels/999/history", json=batch), (3, "interval_start"))
    assert "also row 1" in errors[0]["message"]
    # The same instant written with another offset is the same interval.
    batch = rows(4)
    batch[3]["interval_start"] = (
        datetime.fromisoformat(batch[0]["interval_start"]).astimezone(ZoneInfo("America/New_York")).isoformat()
    )
    assert_rejected(client.post("/v1/channels/999/history", json=batch), (3, "interval_start"))
    assert_nothing_written(client)


def test_unknown_channel(client: TestClient) -> None:
    errors = assert_rejected(client.post("/v1/channels/112/history", json=rows(2)), (None, "channel"))
    assert "unknown channel '112'" in errors[0]["message"] and "999" in errors[0]["message"]
    assert client.get("/v1/channels/112/history").status_code == 404


def test_mixed_interval_lengths_in_batch(client: TestClient) -> None:
    batch = rows(4, minutes=15) + rows(2, minutes=30, start="2026-01-06T00:00:00")
    errors = assert_rejected(
        client.post("/v1/channels/999/history", json=batch), (4, "interval_minutes"), (5, "interval_minutes")
    )
    assert len(errors) == 2
    assert_nothing_written(client)


def test_batch_interval_must_match_stored(client: TestClient) -> None:
    assert client.post("/v1/channels/999/history", json=rows(4, minutes=15)).status_code == 200
    errors = assert_rejected(
        client.post("/v1/channels/999/history", json=rows(2, minutes=60, start="2026-02-01T00:00:00")),
        (None, "interval_minutes"),
    )
    assert "stores 15-minute history" in errors[0]["message"]


def test_every_bad_row_listed_with_csv_line_numbers(client: TestClient) -> None:
    batch = rows(5)
    batch[1]["offered"] = -2
    batch[3]["interval_start"] = "yesterday"
    r = client.post("/v1/channels/999/history", content=to_csv(batch), headers={"content-type": "text/csv"})
    # CSV rows are reported by line number: header is line 1, batch[1] is line 3, batch[3] is line 5.
    assert_rejected(r, (3, "offered"), (5, "interval_start"))
    assert r.json()["error_count"] == 2
    assert_nothing_written(client)


def test_csv_header_problems(client: TestClient) -> None:
    r = client.post(
        "/v1/channels/999/history",
        content="interval_start,calls\n2026-01-05T00:00:00Z,3\n",
        headers={"content-type": "text/csv"},
    )
    assert_rejected(r, (1, "calls"))
    r = client.post("/v1/channels/999/history", content="", headers={"content-type": "text/csv"})
    assert_rejected(r, (1, "header"))
    r = client.post(
        "/v1/channels/999/history",
        content="interval_start,interval_minutes,offered\n2026-01-05T00:00:00Z,15,3,99\n",
        headers={"content-type": "text/csv"},
    )
    assert_rejected(r, (2, "row"))


def test_malformed_json_and_shapes(client: TestClient) -> None:
    h = {"content-type": "application/json"}
    assert_rejected(client.post("/v1/channels/999/history", content="[{", headers=h), (None, "body"))
    assert_rejected(client.post("/v1/channels/999/history", content='{"a": 1}', headers=h), (None, "body"))
    assert_rejected(client.post("/v1/channels/999/history", content="[]", headers=h), (None, "body"))
    assert_rejected(client.post("/v1/channels/999/history", content="[1, 2]", headers=h), (0, "row"), (1, "row"))
    r = client.post("/v1/channels/999/history", content="<xml/>", headers={"content-type": "application/xml"})
    assert r.status_code == 415 and r.headers["content-type"].startswith("application/problem+json")


def test_body_over_size_limit_is_413(db_url: str) -> None:
    from app.main import create_app

    app = create_app(Settings(DATABASE_URL=db_url, FCR_MAX_UPLOAD_BYTES=2000, FCR_MAX_BATCH_ROWS=5))
    with TestClient(app) as client:
        with_role(client, "planner")
        big = to_csv(rows(40))
        assert len(big) > 2000
        r = client.post("/v1/channels/999/history", content=big, headers={"content-type": "text/csv"})
        assert r.status_code == 413, r.text
        assert "FCR_MAX_UPLOAD_BYTES" in r.json()["detail"]
        r = client.post("/v1/channels/999/history", files={"file": ("h.csv", big, "text/csv")})
        assert r.status_code == 413
        # Every endpoint has the limit, chunked bodies (no Content-Length) included.
        r = client.post("/v1/staffing", content=b"x" * 2001, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
        r = client.post("/v1/staffing", content=iter([b"x" * 1500, b"x" * 1500]),
                        headers={"content-type": "application/json"})
        assert r.status_code == 413
        # A small chunked body is replayed intact to the endpoint (which then names the missing field).
        r = client.post("/v1/staffing", content=iter([b"{", b"}"]), headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "intervals", r.text
        # Small enough in bytes but over the row limit.
        r = client.post("/v1/channels/999/history", json=[{"x": 1}] * 6)
        assert r.status_code == 413 and "FCR_MAX_BATCH_ROWS" in r.json()["detail"]
        assert get_all(client) == []


# --- daylight saving ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "expected"), [("2026-03-29", 92), ("2026-10-25", 100), ("2026-06-01", 96)])
def test_dst_days_round_trip(client: TestClient, day: str, expected: int) -> None:
    # Three local days of 15-minute intervals centred on the transition day.
    d = datetime.fromisoformat(day)
    start = (d - timedelta(days=1)).replace(tzinfo=LONDON)
    end = (d + timedelta(days=2)).replace(tzinfo=LONDON)
    n = int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() // 900)
    batch = [
        {"interval_start": ts, "interval_minutes": 15, "offered": i % 7}
        for i, ts in enumerate(quarter_hours(start.replace(tzinfo=None).isoformat(), n))
    ]
    r = client.post("/v1/channels/999/history", json=batch)
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == n
    got = get_all(client, start=day, end=(d + timedelta(days=1)).date().isoformat())
    assert len(got) == expected
    instants = [datetime.fromisoformat(g["interval_start"]) for g in got]
    assert len(set(instants)) == expected
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(instants))
    assert {g["interval_start"][-6:] for g in got} == ({"+00:00", "+01:00"} if expected != 96 else {"+01:00"})
    hours = get_all(client, start=day, end=(d + timedelta(days=1)).date().isoformat(), interval_minutes=60)
    assert len(hours) == expected // 4
    assert all(h["source_intervals"] == 4 for h in hours)
    assert sum(h["offered"] for h in hours) == sum(g["offered"] for g in got)


def test_dst_repeated_hour_calls_aggregate_separately(client: TestClient) -> None:
    # 01:10 BST and 01:10 GMT on 2026-10-25 are an hour apart: two different intervals.
    calls = [
        {"arrived_at": "2026-10-25T01:10:00+01:00", "wait_seconds": 3, "outcome": "answered", "handle_seconds": 200},
        {"arrived_at": "2026-10-25T01:10:00+00:00", "wait_seconds": 30, "outcome": "abandoned"},
    ]
    r = client.post("/v1/channels/999/calls", json=calls)
    assert r.status_code == 200, r.text
    got = get_all(client)
    assert [(g["interval_start"], g["offered"], g["abandoned"]) for g in got] == [
        ("2026-10-25T01:00:00+01:00", 1, 0),
        ("2026-10-25T01:00:00+00:00", 1, 1),
    ]


# --- re-aggregation and paging --------------------------------------------------------------------------------


def test_reaggregation_15_30_60(client: TestClient) -> None:
    batch = rows(8)
    batch[5]["aht_seconds"] = 600.0
    client.post("/v1/channels/999/history", json=batch)
    halves = get_all(client, interval_minutes=30)
    hours = get_all(client, interval_minutes=60)
    assert len(halves) == 4 and len(hours) == 2
    assert [h["offered"] for h in halves] == [batch[i]["offered"] + batch[i + 1]["offered"] for i in (0, 2, 4, 6)]
    assert hours[1]["abandoned"] == 4 and hours[1]["answered"] == sum(b["answered"] for b in batch[4:])
    assert hours[0]["answered_within_threshold"] == sum(b["answered_within_threshold"] for b in batch[:4])
    # AHT of an hour is weighted by answered calls.
    part = batch[4:]
    expect = sum(b["aht_seconds"] * b["answered"] for b in part) / sum(b["answered"] for b in part)
    assert hours[1]["aht_seconds"] == pytest.approx(expect)
    assert hours[0]["interval_start"] == "2026-01-05T00:00:00+00:00"


def test_reaggregation_keeps_unknowns_unknown(client: TestClient) -> None:
    batch = rows(4)
    batch[2]["answered"] = None
    client.post("/v1/channels/999/history", json=batch)
    hour = get_all(client, interval_minutes=60)[0]
    assert hour["answered"] is None and hour["abandoned"] == 4 and hour["offered"] == sum(b["offered"] for b in batch)


def test_finer_than_stored_is_rejected(client: TestClient) -> None:
    client.post("/v1/channels/999/history", json=rows(4, minutes=30))
    r = client.get("/v1/channels/999/history", params={"interval_minutes": 15})
    assert_rejected(r, (None, "interval_minutes"))
    r = client.get("/v1/channels/999/history", params={"interval_minutes": 45})
    assert r.status_code == 422


def test_query_bad_params(client: TestClient) -> None:
    assert_rejected(client.get("/v1/channels/999/history", params={"start": "soon"}), (None, "start"))
    assert_rejected(
        client.get("/v1/channels/999/history", params={"start": "2026-01-02", "end": "2026-01-01"}), (None, "end")
    )
    assert_rejected(client.get("/v1/channels/999/history", params={"cursor": "abc"}), (None, "cursor"))
    assert_rejected(client.get("/v1/channels/999/history", params={"limit": 10**9}), (None, "limit"))


@pytest.mark.parametrize("interval", [15, 60])
def test_paging_covers_everything_once(client: TestClient, interval: int) -> None:
    batch = rows(4 * 25)  # 25 hours of quarter-hours
    client.post("/v1/channels/999/history", json=batch)
    seen: list[str] = []
    cursor = None
    for _ in range(200):
        params = {"limit": 7, "interval_minutes": interval}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/channels/999/history", params=params).json()
        assert page["count"] <= 7
        seen += [i["interval_start"] for i in page["intervals"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == (100 if interval == 15 else 25)


def test_query_window_with_offsets(client: TestClient) -> None:
    client.post("/v1/channels/999/history", json=rows(8))
    got = get_all(client, start="2026-01-05T00:30:00+00:00", end="2026-01-05T01:15:00Z")
    assert [g["interval_start"][11:16] for g in got] == ["00:30", "00:45", "01:00"]
    # '+' unescaped in a query string arrives as a space.
    r = client.get("/v1/channels/999/history?start=2026-01-05T01:30:00+01:00")
    assert [g["interval_start"][11:16] for g in r.json()["intervals"]] == [
        "00:30",
        "00:45",
        "01:00",
        "01:15",
        "01:30",
        "01:45",
    ]
