from __future__ import annotations

import pytest

from datalake.runs import list_runs, record_run
from datalake.storage.local import LocalObjectStore


def test_reports_are_written_even_when_the_run_fails(tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    with record_run("job_a", store, window="2024-01") as ok:
        ok.rows_in, ok.rows_out, ok.rows_quarantined = 10, 8, 2
        ok.keys_written.append("processed/x/part-0.parquet")
        with ok.timed("write"):
            pass
    with pytest.raises(RuntimeError), record_run("job_a", store) as failed:
        failed.rows_in = 3
        raise RuntimeError("disk full")
    runs = list_runs(store, "job_a")
    assert [r.status for r in runs] == ["failed", "succeeded"]  # newest first
    by_status = {r.status: r for r in runs}
    assert by_status["failed"].error == "RuntimeError: disk full"
    assert by_status["succeeded"].details == {"window": "2024-01"}
    assert "write" in by_status["succeeded"].timings_s and "total" in by_status["succeeded"].timings_s
    document = store.get_json(
        next(k for k in store.list_keys("_runs", include_hidden=True) if ok.run_id in k)
    )
    assert document["balanced"] is True and document["keys_written"] == ["processed/x/part-0.parquet"]


def test_unbalanced_counts_are_flagged(tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    with record_run("job_b", store) as report:
        report.rows_in, report.rows_out = 5, 4
    assert report.status == "unbalanced"
    assert list_runs(store)[0].status == "unbalanced"
