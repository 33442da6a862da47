"""Access control: every role against every endpoint family, missing/wrong/revoked keys, key admin, audit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.auth import PERMISSIONS, ROLES
from app.cli import main
from tests.conftest import make_key

HIST = [{"interval_start": "2026-01-05T00:00:00Z", "interval_minutes": 15, "offered": 3}]
CALLS = [{"arrived_at": "2026-01-05T00:00:00Z", "wait_seconds": 3, "outcome": "answered", "handle_seconds": 100}]
STAFF = {"model": "erlang_c", "intervals": [{"calls": 10, "aht_seconds": 300}]}

# (permission, method, path, json body) — one or more representative calls per endpoint family.
ENDPOINTS = [
    ("channels:read", "GET", "/v1/channels", None),
    ("channels:read", "GET", "/v1/channels/999", None),
    ("channels:write", "PATCH", "/v1/channels/101", {"name": "101 non-emergency"}),
    (
        "channels:write",
        "POST",
        "/v1/channels",
        {
            "code": "x{n}",
            "name": "X",
            "target_service_level": 0.8,
            "target_answer_seconds": 60,
            "default_aht_seconds": 300,
        },
    ),
    ("history:read", "GET", "/v1/channels/999/history", None),
    ("history:read", "GET", "/v1/channels/999/patience", None),
    ("history:write", "POST", "/v1/channels/999/history", HIST),
    ("history:write", "POST", "/v1/channels/999/calls", CALLS),
    ("staffing:read", "POST", "/v1/staffing", STAFF),
    ("jobs:read", "GET", "/v1/jobs", None),
    ("jobs:read", "GET", "/v1/jobs/none", None),
    ("jobs:write", "DELETE", "/v1/jobs/none", None),
    ("keys:admin", "GET", "/v1/keys", None),
    ("keys:admin", "POST", "/v1/keys", {"name": "k{n}", "role": "viewer"}),
    ("keys:admin", "DELETE", "/v1/keys/nobody", None),
    ("audit:read", "GET", "/v1/audit", None),
]


def call(client: TestClient, method: str, path: str, body: object, key: str | None, n: int = 0):
    headers = {"Authorization": f"Bearer {key}" if key else ""}
    if isinstance(body, dict):
        body = {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}
    return client.request(method, path, json=body, headers=headers)


def test_every_role_against_every_endpoint_family(client: TestClient) -> None:
    keys = {role: make_key(client, role) for role in ROLES}
    n = 0
    for permission, method, path, body in ENDPOINTS:
        for role in ROLES:
            n += 1
            r = call(client, method, path, body, keys[role], n)
            if role in PERMISSIONS[permission]:
                assert r.status_code not in (401, 403), (role, method, path, r.status_code, r.text)
            else:
                assert r.status_code == 403, (role, method, path, r.status_code, r.text)
                assert r.headers["content-type"].startswith("application/problem+json")
                assert role in r.json()["detail"]


@pytest.mark.parametrize(("permission", "method", "path", "body"), ENDPOINTS)
def test_missing_or_wrong_key_is_401(client: TestClient, permission: str, method: str, path: str, body: object) -> None:
    for key in (None, "fcr_not-a-key"):
        r = call(client, method, path, body, key)
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["www-authenticate"] == "Bearer"


def test_open_endpoints_need_no_key(client: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/docs", "/openapi.json"):
        assert client.get(path, headers={"Authorization": ""}).status_code == 200


def test_key_lifecycle_over_the_api(client: TestClient) -> None:
    r = client.post("/v1/keys", json={"name": "rota-tool", "role": "integration"})
    assert r.status_code == 201, r.text
    key = r.json()["key"]
    assert key.startswith("fcr_") and r.json()["prefix"] == key[:8]
    listed = client.get("/v1/keys").json()["items"]
    assert "rota-tool" in [k["name"] for k in listed]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    assert key not in client.get("/v1/keys").text
    assert call(client, "POST", "/v1/channels/999/history", HIST, key).status_code == 200
    assert client.post("/v1/keys", json={"name": "rota-tool", "role": "viewer"}).status_code == 409
    assert client.delete("/v1/keys/rota-tool").json()["revoked_at"] is not None
    me = next(k["name"] for k in client.get("/v1/keys").json()["items"] if k["name"].startswith("test-admin"))
    r = client.delete(f"/v1/keys/{me}")
    assert r.status_code == 409 and "cannot revoke itself" in r.json()["detail"]
    r = call(client, "POST", "/v1/channels/999/history", HIST, key)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert client.post("/v1/keys", json={"name": "bad name!", "role": "viewer"}).status_code == 422
    for name in ["k-a", "k-b", "k-c"]:
        assert client.post("/v1/keys", json={"name": name, "role": "viewer"}).status_code == 201
    names, cursor = [], None
    while True:
        page = client.get("/v1/keys", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        names += [k["name"] for k in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(names) == len(set(names)) and {"k-a", "k-b", "k-c", "rota-tool"} <= set(names)
    assert client.post("/v1/keys", json={"name": "ok", "role": "root"}).status_code == 422


def test_audit_records_writes_with_who(client: TestClient) -> None:
    key = make_key(client, "integration", name="feeder")
    call(client, "POST", "/v1/channels/999/history", HIST, key)
    call(client, "POST", "/v1/channels/999/history", [{"bad": 1}], key)
    client.get("/v1/channels")  # reads are not audited
    items = client.get("/v1/audit", params={"key_name": "feeder"}).json()["items"]
    assert [(i["method"], i["path"], i["status_code"], i["role"]) for i in items] == [
        ("POST", "/v1/channels/999/history", 422, "integration"),
        ("POST", "/v1/channels/999/history", 200, "integration"),
    ]
    assert all(i["method"] != "GET" for i in client.get("/v1/audit").json()["items"])
    page = client.get("/v1/audit", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]


@pytest.fixture
def cli_db(monkeypatch: pytest.MonkeyPatch, db_url: str):
    from app.settings import get_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()


def test_cli_keys(cli_db: str, client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    # The test client already made an admin key, so --if-none does nothing.
    assert main(["create-key", "--if-none", "--role", "admin", "--name", "first"]) == 0
    assert "none created" in capsys.readouterr().out
    assert main(["create-key", "--role", "viewer", "--name", "manager"]) == 0
    out = capsys.readouterr().out
    key = next(w for w in out.split() if w.startswith("fcr_"))
    assert call(client, "GET", "/v1/channels", None, key).status_code == 200
    assert call(client, "GET", "/v1/channels/999/history", None, key).status_code == 403
    assert main(["create-key", "--role", "viewer", "--name", "manager"]) == 1
    assert main(["revoke-key", "manager"]) == 0
    assert call(client, "GET", "/v1/channels", None, key).status_code == 401
    assert main(["revoke-key", "nobody"]) == 1


def test_key_cache_and_revocation(db_url: str) -> None:
    from app.auth import revoke_key
    from app.main import create_app
    from app.settings import Settings

    app = create_app(Settings(DATABASE_URL=db_url, FCR_AUTH_CACHE_SECONDS=60))
    with TestClient(app) as client:
        admin = make_key(client, "admin", name="boss")
        viewer = make_key(client, "viewer", name="manager")
        assert call(client, "GET", "/v1/channels", None, viewer).status_code == 200
        # Revoked by another process (straight in the database): this process trusts its cache for the TTL.
        with app.state.session_factory() as s:
            revoke_key(s, "manager")
        assert call(client, "GET", "/v1/channels", None, viewer).status_code == 200
        # Revoking through the API clears the cache at once.
        other = make_key(client, "planner", name="planner-1")
        assert call(client, "GET", "/v1/channels", None, other).status_code == 200
        assert call(client, "DELETE", "/v1/keys/planner-1", None, admin).status_code == 200
        assert call(client, "GET", "/v1/channels", None, other).status_code == 401
        assert call(client, "GET", "/v1/channels", None, viewer).status_code == 401
