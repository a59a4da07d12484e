from __future__ import annotations

import pytest

from datalake.runs import MAX_REASON_CHARS, latest_runs, list_runs, record_run
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


def test_failed_run_reason_is_one_line_naming_the_java_exception(tmp_path) -> None:
    """Issue 16: a Py4J error's message is a Java stack trace; the report keeps the exception's line."""
    store = LocalObjectStore(tmp_path)
    py4j_message = (
        "An error occurred while calling o46.getResult.\n"
        ": java.lang.OutOfMemoryError: Java heap space\n"
        "\tat java.base/java.util.Arrays.copyOf(Arrays.java:3537)\n"
        "\tat org.apache.spark.sql.execution.arrow.ArrowConverters$.toBatchIterator(...)\n"
    )
    with pytest.raises(RuntimeError), record_run("job_c", store):
        raise RuntimeError(py4j_message + "\tat more.frames\n" * 500)
    (failed,) = list_runs(store, "job_c")
    assert failed.status == "failed"
    assert failed.error == "RuntimeError: java.lang.OutOfMemoryError: Java heap space"


def test_failed_run_reason_is_cut_to_a_bounded_line(tmp_path) -> None:
    store = LocalObjectStore(tmp_path)
    with pytest.raises(ValueError), record_run("job_d", store):
        raise ValueError("x" * 10_000 + "\nsecond line")
    (failed,) = list_runs(store, "job_d")
    assert "\n" not in failed.error and len(failed.error) == MAX_REASON_CHARS
    assert failed.error.startswith("ValueError: xxx") and failed.error.endswith("...")


def test_latest_runs_keep_one_per_job_so_a_busy_job_hides_no_other(tmp_path) -> None:
    import time

    store = LocalObjectStore(tmp_path)
    with record_run("quiet_job", store) as quiet:
        quiet.rows_in = quiet.rows_out = 1
    time.sleep(0.005)  # report names carry the start to the millisecond
    busy_runs = []
    for _ in range(12):
        with record_run("busy_job", store) as busy:
            busy.rows_in = busy.rows_out = 2
        busy_runs.append(busy)
    latest = latest_runs(store)
    assert [r.job for r in latest] == ["busy_job", "quiet_job"]  # newest first
    newest = max(r.started_at for r in busy_runs)  # runs started in one millisecond are equally new
    assert latest[0].started_at == newest and latest[1].run_id == quiet.run_id
