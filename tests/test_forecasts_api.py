"""Forecast jobs over HTTP: lifecycle, stored results, DST, events, bad requests, abandonment, quantile staffing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import with_role

LONDON = ZoneInfo("Europe/London")


def hourly_history(start: str, days: int, *, seed: int = 7, staffed: bool = False) -> list[dict]:
    """Poisson calls with a daily and weekly shape, hourly, London local days (DST-correct instants)."""
    rng = np.random.default_rng(seed)
    first = datetime.fromisoformat(start).replace(tzinfo=LONDON).astimezone(UTC)
    rows = []
    n = 0
    t = first
    end = (datetime.fromisoformat(start) + timedelta(days=days)).replace(tzinfo=LONDON).astimezone(UTC)
    while t < end:
        local = t.astimezone(LONDON)
        lam = (6 + 10 * np.sin(np.pi * max(0, local.hour - 6) / 18) ** 2) * (0.8 if local.weekday() >= 5 else 1.0)
        offered = int(rng.poisson(lam))
        row = {"interval_start": local.isoformat(), "interval_minutes": 60, "offered": offered}
        if staffed:
            agents = max(1, round(offered * 300 / 3600) + 1)
            row |= {
                "agents_staffed": agents,
                "aht_seconds": 300.0,
                "abandoned": int(offered * 0.05),
                "answered": offered - int(offered * 0.05),
            }
        rows.append(row)
        t += timedelta(hours=1)
        n += 1
    return rows


def wait_done(client: TestClient, fid: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.get(f"/v1/forecasts/{fid}").json()
        if body["status"] in ("done", "failed", "cancelled"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"forecast {fid} did not finish: {body}")


@pytest.fixture
def history(client: TestClient) -> TestClient:
    r = client.post("/v1/channels/999/history", json=hourly_history("2026-08-03", 77))
    assert r.status_code == 200, r.text
    return client


def create(client: TestClient, **kw: object) -> dict:
    body = {
        "channel": "999",
        "start": "2026-10-19",
        "end": "2026-10-26",
        "interval_minutes": 60,
        "model": "seasonal_naive",
        "level": 80,
    } | kw
    return client.post("/v1/forecasts", json=body)


def test_forecast_job_lifecycle_and_points(history: TestClient) -> None:
    client = history
    r = create(client)
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/forecasts/{r.json()['id']}"
    assert r.json()["status"] == "queued"
    done = wait_done(client, r.json()["id"])
    assert done["status"] == "done", done
    pts = done["points"]
    assert len(pts) == 7 * 24 + 1  # 2026-10-25 has 25 hours in London
    assert all(p["lower"] <= p["calls"] <= p["upper"] and p["lower"] >= 0 for p in pts)
    assert all(p["aht_seconds"] == 300 for p in pts)  # no AHT history: the channel default
    assert done["model"] == "seasonal_naive" and done["level"] == 80 and done["timezone"] == "Europe/London"
    assert sum(p["interval_start"].startswith("2026-10-25") for p in pts) == 25
    listed = client.get("/v1/forecasts", params={"channel": "999"}).json()["items"]
    assert [f["id"] for f in listed] == [done["id"]] and "points" not in listed[0]
    # A viewer reads it; an integration reads it; neither may create one.
    viewer = with_role(TestClient(client.app), "viewer")
    assert viewer.get(f"/v1/forecasts/{done['id']}").json()["points"] == pts
    assert create(viewer).status_code == 403


def test_events_and_bank_holidays_are_visible(history: TestClient) -> None:
    r = create(history, start="2026-10-19", end="2026-11-09", events=[{"date": "2026-10-31", "name": "Halloween"}])
    done = wait_done(history, r.json()["id"])
    assert done["status"] == "done", done
    assert done["events"]["2026-10-31"] == ["Halloween"]
    assert "Bonfire Night" in " ".join(done["events"].get("2026-11-05", []))
    assert any("Halloween" in p["events"] for p in done["points"])


def test_dst_days_at_15_minutes(client: TestClient) -> None:
    rows = []
    for r in hourly_history("2026-09-01", 56):
        t = datetime.fromisoformat(r["interval_start"])
        rows += [
            {
                "interval_start": (t + timedelta(minutes=15 * k)).isoformat(),
                "interval_minutes": 15,
                "offered": r["offered"] // 4,
            }
            for k in range(4)
        ]
    assert client.post("/v1/channels/101/history", json=rows).status_code == 200
    r = client.post(
        "/v1/forecasts", json={"channel": "101", "start": "2026-10-24", "end": "2026-10-27", "model": "seasonal_naive"}
    )
    done = wait_done(client, r.json()["id"])
    assert done["status"] == "done", done
    days = [p["interval_start"][:10] for p in done["points"]]
    assert (days.count("2026-10-24"), days.count("2026-10-25"), days.count("2026-10-26")) == (96, 100, 96)
    # Hourly view of the same history, re-aggregated on the fly for the model.
    r = client.post(
        "/v1/forecasts",
        json={
            "channel": "101",
            "start": "2026-10-24",
            "end": "2026-10-27",
            "model": "seasonal_naive",
            "interval_minutes": 60,
        },
    )
    done = wait_done(client, r.json()["id"])
    assert done["status"] == "done" and len(done["points"]) == 24 + 25 + 24


@pytest.mark.parametrize(
    ("change", "field", "text"),
    [
        ({"end": "2026-10-18"}, "end", "after start"),
        ({"end": "2027-03-01"}, "end", "maximum of 92 days"),
        ({"model": "crystal_ball"}, "model", "unknown model"),
        ({"channel": "112"}, "channel", "unknown channel"),
        ({"model": "prophet", "history_start": "2026-10-05"}, "channel", "needs at least"),
        ({"interval_minutes": 15}, "interval_minutes", "stored at 60"),
        ({"level": 100}, "level", ""),
    ],
)
def test_bad_forecast_requests(history: TestClient, change: dict, field: str, text: str) -> None:
    r = create(history, **change)
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["field"] == field and text in err["message"], err


def test_abandonment_for_a_staffing_plan(history: TestClient) -> None:
    client = history
    done = wait_done(client, create(client).json()["id"])
    n = len(done["points"])
    url = f"/v1/forecasts/{done['id']}/abandonment"
    r = client.post(url, json={"agents": [3] * n})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "patience_seconds"
    r = client.post(url, json={"agents": [3] * (n - 1), "patience_seconds": 120})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "agents"
    few = client.post(url, json={"agents": [2] * n, "patience_seconds": 120}).json()
    many = client.post(url, json={"agents": [6] * n, "patience_seconds": 120}).json()
    assert few["patience_source"] == "request" and len(few["intervals"]) == n
    assert few["total_abandoned"] > many["total_abandoned"] >= 0
    assert many["service_level"] > few["service_level"]
    assert few["abandon_rate"] == pytest.approx(few["total_abandoned"] / few["total_calls"], rel=1e-5)
    busy = client.post(url, json={"agents": [2] * n, "patience_seconds": 120, "quantile": 0.9}).json()
    assert busy["total_calls"] > few["total_calls"] and busy["total_abandoned"] > few["total_abandoned"]


def test_patience_calibrated_from_staffed_history(client: TestClient) -> None:
    assert (
        client.post("/v1/channels/999/history", json=hourly_history("2026-08-03", 77, staffed=True)).status_code == 200
    )
    done = wait_done(client, create(client).json()["id"])
    r = client.post(f"/v1/forecasts/{done['id']}/abandonment", json={"agents": [4] * len(done["points"])})
    assert r.status_code == 200, r.text
    assert r.json()["patience_source"].startswith("calibrated to") and r.json()["patience_seconds"] > 0


def test_staffing_from_a_forecast_at_a_quantile(history: TestClient) -> None:
    client = history
    done = wait_done(client, create(client).json()["id"])
    base = {
        "model": "erlang_a",
        "patience_seconds": 120,
        "targets": {"service_level": 0.9, "answer_within_seconds": 10},
    }
    mean = client.post("/v1/staffing", json=base | {"forecast_id": done["id"]})
    assert mean.status_code == 200, mean.text
    q90 = client.post("/v1/staffing", json=base | {"forecast_id": done["id"], "quantile": 0.9}).json()
    m, q = mean.json()["intervals"], q90["intervals"]
    assert len(m) == len(done["points"]) and m[0]["interval_start"] == done["points"][0]["interval_start"]
    assert all(b["agents"] >= a["agents"] for a, b in zip(m, q, strict=True))
    assert sum(b["agents"] for b in q) > sum(a["agents"] for a in m)
    r = client.post("/v1/staffing", json=base | {"quantile": 0.9, "intervals": [{"calls": 1, "aht_seconds": 300}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "quantile"
    r = client.post("/v1/staffing", json=base | {"forecast_id": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "forecast_id"


def test_cancel_and_unknown(history: TestClient) -> None:
    fid = create(history, model="seasonal_naive").json()["id"]
    r = history.delete(f"/v1/forecasts/{fid}")
    assert r.status_code == 202 and r.json()["status"] in ("cancelled", "running", "done")
    assert history.get("/v1/forecasts/nope").status_code == 404
    assert history.post("/v1/forecasts/nope/abandonment", json={"agents": [1]}).status_code == 404


def test_models_catalog(client: TestClient) -> None:
    names = [m["name"] for m in client.get("/v1/models").json()]
    assert {"seasonal_naive", "prophet", "mstl", "auto"} <= set(names)


def test_cli_forecast_shows_progress(history: TestClient, db_url: str, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main, progress_bar
    from app.settings import get_settings

    assert progress_bar(0.45, "fitting", 12.0, width=10) == "[####......]  45% fitting (12 s)"
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        code = main(["forecast", "999", "--start", "2026-10-19", "--end", "2026-10-20", "--interval", "60",
                     "--model", "seasonal_naive"])
        out = capsys.readouterr()
        assert code == 0, out.err
        assert "100% done" in out.err and "model seasonal_naive, 24 intervals" in out.out
        assert main(["forecast", "999", "--start", "2026-10-19", "--end", "2026-10-18"]) == 1
        assert "end: must be after start" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
