"""Four days of SAMPLE REData demand in a local lake, and new revisions of them, for job-run tests."""

from __future__ import annotations

import datetime as dt

from datalake.sources import ree
from datalake.sources.ree_sample import sample_client
from datalake.storage.local import LocalObjectStore

FIRST_DAY, LAST_DAY = dt.date(2024, 5, 30), dt.date(2024, 6, 2)  # across a month boundary
REVISION_SEED = 99


def backfill_sample_demand(lake: LocalObjectStore, revised: bool = False) -> None:
    """Write the raw demand days under ``raw/ree_sample``; ``revised`` rewrites them with other values.

    A transform after a revision changes every processed file, so a publish that went through shows.
    """
    options = {"seed": REVISION_SEED} if revised else {}
    with sample_client(**options) as client:
        ree.backfill(
            client, lake, "demand", FIRST_DAY, LAST_DAY, refresh=revised, prefix=ree.SAMPLE_RAW_PREFIX
        )
