"""Channels: seeded by the first migration, created and changed over the API, bad input named."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_seeded_channels_and_targets(client: TestClient) -> None:
    got = {c["code"]: c for c in client.get("/v1/channels").json()["items"]}
    assert list(got) == ["999", "101"]  # served in priority order
    assert (got["999"]["target_service_level"], got["999"]["target_answer_seconds"]) == (0.9, 10)
    assert got["999"]["sl_definition"] == "offered" and got["999"]["priority"] < got["101"]["priority"]
    assert got["101"]["default_aht_seconds"] > 0


def test_create_read_update_channel(client: TestClient) -> None:
    body = {
        "code": "online",
        "name": "Online reports",
        "kind": "deferred",
        "priority": 5,
        "target_service_level": 0.9,
        "target_answer_seconds": 14400,
        "default_aht_seconds": 900,
    }
    r = client.post("/v1/channels", json=body)
    assert r.status_code == 201, r.text
    assert client.get("/v1/channels/online").json()["kind"] == "deferred"
    assert client.post("/v1/channels", json=body).status_code == 409
    r = client.patch("/v1/channels/online", json={"target_service_level": 0.8, "max_abandon_rate": 0.05})
    assert r.status_code == 200 and r.json()["target_service_level"] == 0.8 and r.json()["max_abandon_rate"] == 0.05
    assert [c["code"] for c in client.get("/v1/channels").json()["items"]] == ["999", "101", "online"]
    # History can be uploaded to the new channel.
    r = client.post(
        "/v1/channels/online/history",
        json=[{"interval_start": "2026-01-05T09:00:00Z", "interval_minutes": 60, "offered": 4}],
    )
    assert r.status_code == 200, r.text


def test_bad_channel_input_is_named(client: TestClient) -> None:
    base = {
        "code": "email",
        "name": "Email",
        "target_service_level": 0.9,
        "target_answer_seconds": 60,
        "default_aht_seconds": 300,
    }
    for field, value in [
        ("code", "Bad Code!"),
        ("target_service_level", 1.2),
        ("target_service_level", 0),
        ("default_aht_seconds", 0),
        ("kind", "fax"),
        ("sl_definition", "whatever"),
    ]:
        r = client.post("/v1/channels", json={**base, field: value})
        assert r.status_code == 422, (field, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert any(e["field"] == field for e in r.json()["errors"]), r.json()
    r = client.patch("/v1/channels/999", json={"target_answer_seconds": None})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "target_answer_seconds"
    assert client.get("/v1/channels/none").status_code == 404
    assert client.patch("/v1/channels/none", json={"name": "x"}).status_code == 404


def test_channel_list_pages_in_priority_order(client: TestClient) -> None:
    base = {"name": "x", "target_service_level": 0.9, "target_answer_seconds": 60, "default_aht_seconds": 300}
    for code, priority in [("email", 4), ("chat", 4), ("online", 3)]:
        assert client.post("/v1/channels", json={**base, "code": code, "priority": priority}).status_code == 201
    seen, cursor = [], None
    while True:
        page = client.get("/v1/channels", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        assert len(page["items"]) <= 2
        seen += [c["code"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["999", "101", "online", "chat", "email"]  # priority, then code; none repeated or skipped
    r = client.get("/v1/channels", params={"cursor": "nosuch"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
