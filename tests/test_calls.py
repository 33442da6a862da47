"""Call-level records: stored idempotently, aggregated into the interval history, bad rows rejected."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def call(t: str, wait: float, outcome: str = "answered", handle: float = 240.0, **kw: object) -> dict:
    return {
        "arrived_at": t,
        "wait_seconds": wait,
        "outcome": outcome,
        "handle_seconds": handle if outcome == "answered" else 0,
        **kw,
    }


CALLS = [
    call("2026-01-05T09:00:05+00:00", 2, handle=200),
    call("2026-01-05T09:03:00+00:00", 12, handle=300),
    call("2026-01-05T09:07:30+00:00", 45, "abandoned"),
    call("2026-01-05T09:14:59+00:00", 8, handle=400),
    call("2026-01-05T09:15:00+00:00", 0, handle=100),
]


def test_calls_aggregate_into_history(client: TestClient) -> None:
    r = client.post("/v1/channels/999/calls", json=CALLS)
    assert r.status_code == 200, r.text
    assert r.json() | {"channel": "999"} == {
        "channel": "999",
        "rows": 5,
        "inserted": 5,
        "unchanged": 0,
        "intervals_updated": 2,
        "interval_minutes": 15,
    }
    h = client.get("/v1/channels/999/history").json()["intervals"]
    assert [x["interval_start"] for x in h] == ["2026-01-05T09:00:00+00:00", "2026-01-05T09:15:00+00:00"]
    first = h[0]
    assert (first["offered"], first["answered"], first["abandoned"]) == (4, 3, 1)
    # 999 threshold is 10 s: waits 2 and 8 are within, 12 is not.
    assert (first["answered_within_threshold"], first["threshold_seconds"]) == (2, 10)
    assert first["aht_seconds"] == pytest.approx(300.0)


def test_calls_resent_change_nothing_and_new_calls_add_up(client: TestClient) -> None:
    client.post("/v1/channels/999/calls", json=CALLS)
    r = client.post("/v1/channels/999/calls", json=CALLS).json()
    assert (r["inserted"], r["unchanged"]) == (0, 5)
    assert client.get("/v1/channels/999/history").json()["intervals"][0]["offered"] == 4
    more = [call("2026-01-05T09:05:00+00:00", 30, "abandoned")]
    assert client.post("/v1/channels/999/calls", json=more).json()["inserted"] == 1
    first = client.get("/v1/channels/999/history").json()["intervals"][0]
    assert (first["offered"], first["abandoned"]) == (5, 2)


def test_identical_calls_in_one_batch_are_two_calls(client: TestClient) -> None:
    twin = call("2026-01-05T10:00:00Z", 5)
    assert client.post("/v1/channels/999/calls", json=[twin, twin]).json()["inserted"] == 2
    assert client.post("/v1/channels/999/calls", json=[twin, twin]).json()["inserted"] == 0


def test_call_id_dedupes(client: TestClient) -> None:
    a = call("2026-01-05T10:00:00Z", 5, call_id="C1")
    assert client.post("/v1/channels/101/calls", json=[a]).json()["inserted"] == 1
    assert client.post("/v1/channels/101/calls", json=[a]).json()["inserted"] == 0
    r = client.post("/v1/channels/101/calls", json=[a, {**a, "wait_seconds": 9}])
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "row": 1,
        "field": "call_id",
        "message": "duplicate call_id 'C1' (also row 0)",
    }


def test_calls_csv_upload(client: TestClient) -> None:
    csv = "arrived_at,wait_seconds,outcome,handle_seconds\n"
    csv += "2026-01-05T09:00:05+00:00,2,answered,200\n2026-01-05T09:01:00+00:00,40,abandoned,0\n"
    r = client.post("/v1/channels/101/calls", content=csv, headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    h = client.get("/v1/channels/101/history").json()["intervals"][0]
    # 101's threshold is 60 s.
    assert (h["offered"], h["answered_within_threshold"], h["threshold_seconds"]) == (2, 1, 60)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"wait_seconds": -1}, "wait_seconds"),
        ({"outcome": "transferred"}, "outcome"),
        ({"arrived_at": "2026-01-05 09:00"}, "arrived_at"),
        ({"handle_seconds": -5}, "handle_seconds"),
        ({"outcome": "abandoned", "handle_seconds": 30}, "row"),
    ],
)
def test_bad_calls_reject_batch(client: TestClient, bad: dict, field: str) -> None:
    batch = [dict(c) for c in CALLS]
    batch[2].update(bad)
    r = client.post("/v1/channels/999/calls", json=batch)
    assert r.status_code == 422, r.text
    errs = r.json()["errors"]
    assert errs[0]["row"] == 2 and (errs[0]["field"] == field or field == "row"), errs
    assert client.get("/v1/channels/999/history").json()["intervals"] == []


def test_calls_use_the_channels_stored_interval(client: TestClient) -> None:
    client.post(
        "/v1/channels/999/history",
        json=[{"interval_start": "2026-01-05T08:00:00Z", "interval_minutes": 60, "offered": 1}],
    )
    r = client.post("/v1/channels/999/calls", json=CALLS).json()
    assert (r["interval_minutes"], r["intervals_updated"]) == (60, 1)
    h = client.get("/v1/channels/999/history").json()["intervals"]
    assert [(x["interval_start"][11:16], x["offered"]) for x in h] == [("08:00", 1), ("09:00", 5)]
