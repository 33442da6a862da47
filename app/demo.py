"""The bundled demo history: Montgomery County, PA 911 calls as `999`, and a `101` channel derived from it.

Attribution: "Montgomery County, PA 911 calls, montcoalert.org" (database ODbL, contents DbCL). How the files
were built, and how 101 is derived, is in scripts/make_demo_data.py and the README.
"""

from __future__ import annotations

import gzip
from importlib import resources
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import HistoryInterval
from app.schemas.history import IngestResult
from app.services.ingest import ingest_history, read_batch

DEMO_FILES = {"999": "999_15min.csv.gz", "101": "101_15min.csv.gz"}
ATTRIBUTION = "Montgomery County, PA 911 calls, montcoalert.org (ODbL / DbCL)"


def history_is_empty(session: Session) -> bool:
    """True if no channel has any interval history yet."""
    return not session.scalar(select(func.count()).select_from(HistoryInterval))


def load_demo(session: Session, tz: ZoneInfo) -> list[IngestResult]:
    """Load both demo channels through the same validated path as an upload."""
    results = []
    for code, name in DEMO_FILES.items():
        raw = gzip.decompress(resources.files("app.demo_data").joinpath(name).read_bytes())
        batch = read_batch(
            raw, "text/csv", max_rows=10_000_000, columns={"interval_start", "interval_minutes", "offered"}
        )
        results.append(ingest_history(session, code, batch, tz, source="demo"))
    return results
