"""The service as a new user meets it: CLI commands, the bundled demo history, health probes and /docs."""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import main


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, db_url: str) -> str:
    from app.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def test_load_demo_once(cli_env: str, client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load-demo"]) == 0
    out = capsys.readouterr().out
    assert "demo 999: 19043 intervals 2015-12-11 to 2016-06-26" in out and "montcoalert.org" in out
    assert main(["load-demo"]) == 0
    assert "demo not loaded" in capsys.readouterr().out
    page = client.get("/v1/channels/999/history", params={"limit": 50000}).json()
    assert page["count"] == 19043 and page["next_cursor"] is None
    days = {i["interval_start"][:10] for i in page["intervals"]}
    assert len(days) > 180  # more than six months of real 15-minute history
    # UK spring-forward day in the demo: 92 quarter-hours.
    assert sum(i["interval_start"].startswith("2016-03-27") for i in page["intervals"]) == 92
    # The feed outage is missing, not zero.
    assert not any(i["interval_start"].startswith("2016-05-01T20") for i in page["intervals"])
    h101 = client.get(
        "/v1/channels/101/history", params={"start": "2016-02-01", "end": "2016-03-01", "interval_minutes": 60}
    ).json()["intervals"]
    by_hour: dict[int, int] = {}
    for i in h101:
        by_hour[int(i["interval_start"][11:13])] = by_hour.get(int(i["interval_start"][11:13]), 0) + i["offered"]
    assert by_hour[11] > 2 * by_hour[3]  # 101 is a daytime line


def test_bundled_demo_matches_readme_claims() -> None:
    raw = gzip.decompress(resources.files("app.demo_data").joinpath("999_15min.csv.gz").read_bytes()).decode()
    lines = raw.splitlines()
    assert lines[0] == "interval_start,interval_minutes,offered"
    total = sum(int(line.rsplit(",", 1)[1]) for line in lines[1:])
    assert 380 < total / 198 < 400  # about 386 calls a day (source README)


def test_import_history_command(
    cli_env: str, tmp_path: Path, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "h.csv"
    f.write_text(
        "interval_start,interval_minutes,offered\n2026-01-05T00:00:00+00:00,30,5\n2026-01-05T00:30:00+00:00,30,7\n"
    )
    assert main(["import-history", "101", str(f)]) == 0
    assert "2 rows (2 new" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "interval_start,interval_minutes,offered\n2026-01-05T01:00:00+00:00,30,-5\n2026-01-05T00:10:00+00:00,30,5\n"
    )
    assert main(["import-history", "101", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "row 2: offered" in err and "row 3: interval_start" in err and "nothing written" in err
    assert main(["import-history", "nope", str(f)]) == 1
    assert main(["import-history", "101", str(tmp_path / "missing.csv")]) == 2
    assert [i["offered"] for i in client.get("/v1/channels/101/history").json()["intervals"]] == [5, 7]


def test_health_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/channels/{channel}/history"]["post"]["requestBody"]["content"]
    assert {"application/json", "text/csv", "multipart/form-data"} <= set(body)
    assert body["application/json"]["example"][0]["interval_minutes"] == 15
    assert "montcoalert.org" in spec["info"]["description"]


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = client.delete("/v1/channels")
    assert r.status_code == 405 and r.json()["status"] == 405
    assert r.headers["allow"] == "GET, POST"
    r = client.post("/v1/staffing", content=b"\xff\xfe{", headers={"content-type": "application/json"})
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith("application/problem+json")


def test_readyz_reports_unmigrated_database(tmp_path: Path) -> None:
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}"))
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "fcr-planner migrate" in r.json()["detail"]
