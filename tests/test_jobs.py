"""Durable jobs: lifecycle, progress while running, cancel, failure reasons, and restarts losing nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.jobs import JobContext, JobFailed
from app.main import create_app
from app.models import Job, utcnow
from app.settings import Settings
from tests.conftest import with_role


def slow(ctx: JobContext) -> dict:
    steps = int(ctx.params.get("steps", 20))
    for i in range(steps):
        ctx.check_cancelled()
        ctx.progress((i + 1) / steps, f"step {i + 1} of {steps}", best=i)
        time.sleep(float(ctx.params.get("pause", 0.05)))
    return {"steps": steps}


def refuse(ctx: JobContext) -> dict:
    raise JobFailed("history too short: 3 weeks given, 4 needed")


def crash(ctx: JobContext) -> dict:
    raise RuntimeError("unexpected")


HANDLERS: dict[str, Callable[[JobContext], dict]] = {"slow": slow, "refuse": refuse, "crash": crash}


class AdminClient(TestClient):
    """A TestClient that, once started, authenticates as an admin."""

    def __enter__(self) -> AdminClient:
        super().__enter__()
        return with_role(self, "admin")


def make_client(db_url: str, **env: object) -> TestClient:
    settings = Settings(DATABASE_URL=db_url, FCR_JOB_STALE_SECONDS=1, **{k: v for k, v in env.items()})
    return AdminClient(create_app(settings, handlers=HANDLERS))


def submit(client: TestClient, kind: str, **params: object) -> str:
    app = client.app
    with app.state.session_factory() as s:
        return app.state.jobs.submit(s, kind, params, channel="999").id


def wait_for(client: TestClient, job_id: str, statuses: tuple[str, ...], timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never reached {statuses}: {job}")


def test_job_runs_to_done_with_progress(db_url: str) -> None:
    with make_client(db_url) as client:
        job_id = submit(client, "slow", steps=30)
        running = wait_for(client, job_id, ("running",))
        seen = wait_for(client, job_id, ("running",))
        time.sleep(0.7)
        mid = client.get(f"/v1/jobs/{job_id}").json()
        assert mid["status"] == "running" and 0 < mid["progress"]["fraction"] < 1, mid
        assert mid["progress"]["message"].startswith("step") and "best" in mid["progress"]
        done = wait_for(client, job_id, ("done",))
        assert done["result"] == {"steps": 30} and done["progress"]["fraction"] == 1.0
        assert done["started_at"] and done["finished_at"] and done["attempts"] == 1
        assert running["id"] == seen["id"] == job_id


def test_failures_carry_a_reason(db_url: str) -> None:
    with make_client(db_url) as client:
        a, b = submit(client, "refuse"), submit(client, "crash")
        assert wait_for(client, a, ("failed",))["error"] == "history too short: 3 weeks given, 4 needed"
        assert "RuntimeError: unexpected" in wait_for(client, b, ("failed",))["error"]
        assert client.get("/v1/jobs/nope").status_code == 404


def test_cancel_queued_and_running(db_url: str) -> None:
    with make_client(db_url, FCR_JOB_CONCURRENCY=1) as client:
        first = submit(client, "slow", steps=400, pause=0.02)
        second = submit(client, "slow", steps=5)
        wait_for(client, first, ("running",))
        r = client.delete(f"/v1/jobs/{second}")
        assert r.status_code == 202 and r.json()["status"] == "cancelled"
        r = client.delete(f"/v1/jobs/{first}")
        assert r.status_code == 202 and r.json()["status"] in ("running", "cancelled")
        assert wait_for(client, first, ("cancelled",), timeout=10)["error"] == "cancelled"
        # A cancelled job never runs again, and cancelling it twice is harmless.
        assert client.delete(f"/v1/jobs/{second}").json()["status"] == "cancelled"
        time.sleep(0.5)
        assert client.get(f"/v1/jobs/{second}").json()["started_at"] is None


def test_concurrency_limit_queues_the_excess(db_url: str) -> None:
    with make_client(db_url, FCR_JOB_CONCURRENCY=2) as client:
        ids = [submit(client, "slow", steps=15) for _ in range(4)]
        time.sleep(0.4)
        states = [client.get(f"/v1/jobs/{i}").json()["status"] for i in ids]
        assert states.count("running") <= 2 and "queued" in states
        for i in ids:
            wait_for(client, i, ("done",))


def test_graceful_restart_requeues_and_finishes(db_url: str) -> None:
    with make_client(db_url) as client:
        job_id = submit(client, "slow", steps=200, pause=0.02)
        wait_for(client, job_id, ("running",))
    # The service stopped mid-job: the job went back to the queue, not lost and not left "running".
    with make_client(db_url, FCR_RUN_JOBS=False) as client:
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"
    with make_client(db_url) as client:
        done = wait_for(client, job_id, ("done",), timeout=30)
        assert done["result"] == {"steps": 200}


@pytest.mark.parametrize(("attempts", "outcome"), [(1, "done"), (2, "failed")])
def test_crashed_process_jobs_are_recovered(db_url: str, attempts: int, outcome: str) -> None:
    with make_client(db_url, FCR_RUN_JOBS=False) as client:
        job_id = submit(client, "slow", steps=3)
        # What a killed process leaves behind: "running", with a heartbeat that stopped.
        with client.app.state.session_factory() as s:
            s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="running", attempts=attempts, heartbeat_at=utcnow() - timedelta(minutes=5))
            )
            s.commit()
    with make_client(db_url) as client:
        job = wait_for(client, job_id, ("done", "failed"), timeout=30)
        assert job["status"] == outcome
        if outcome == "failed":
            assert "interrupted" in job["error"] and "not retried" in job["error"]


def test_list_jobs_pages_newest_first(db_url: str) -> None:
    with make_client(db_url, FCR_RUN_JOBS=False) as client:
        ids = [submit(client, "slow") for _ in range(5)]
        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/v1/jobs", params=params).json()
            seen += [j["id"] for j in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == ids[::-1]
        assert client.get("/v1/jobs", params={"status": "done"}).json()["items"] == []
        assert client.get("/v1/jobs", params={"cursor": "zzz"}).status_code == 422
