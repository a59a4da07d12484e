"""The local stream: durable, ordered, checkpointed, safe with a writer and a reader process at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datalake.realtime.local import LOG_NAME, ConsumerBusyError, LocalStream, _encode_line
from datalake.realtime.ports import StreamRecord
from datalake.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def stream(tmp_path: Path) -> LocalStream:
    return LocalStream(settings=Settings(_env_file=None, lake_root=tmp_path / "lake"))


def records(count: int, start: int = 0, key: str = "u1") -> list[StreamRecord]:
    return [
        StreamRecord(partition_key=key, data=f'{{"n":{i}}}'.encode()) for i in range(start, start + count)
    ]


def test_put_returns_increasing_sequence_numbers_and_read_gives_the_bytes_back(stream: LocalStream) -> None:
    first = stream.put("transactions", records(3))
    second = stream.put("transactions", records(2, start=3))
    numbers = first + second
    assert numbers == sorted(numbers) and len(set(numbers)) == 5
    assert all(len(n) == 20 and n.isdigit() for n in numbers)  # zero-padded: string order is numeric
    got = stream.read("transactions", "shard-000", "c", 10)
    assert [r.sequence_number for r in got] == numbers
    assert [r.data for r in got] == [f'{{"n":{i}}}'.encode() for i in range(5)]
    assert {r.partition_key for r in got} == {"u1"} and {r.stream for r in got} == {"transactions"}
    # Arbitrary bytes (a poison record) survive the trip unchanged.
    odd = b"\x00\xff\n\t not json"
    stream.put("transactions", [StreamRecord("u2", odd)])
    assert stream.read("transactions", "shard-000", "c", 10)[-1].data == odd


def test_checkpoints_are_per_consumer_and_survive_a_new_instance(stream: LocalStream, tmp_path: Path) -> None:
    numbers = stream.put("transactions", records(10))
    stream.checkpoint("transactions", "shard-000", "processor", numbers[3])
    again = LocalStream(settings=Settings(_env_file=None, lake_root=tmp_path / "lake"))
    assert [r.sequence_number for r in again.read("transactions", "shard-000", "processor", 4)] == numbers[
        4:8
    ]
    # Another consumer starts from the beginning; a read does not move the checkpoint.
    assert [r.sequence_number for r in again.read("transactions", "shard-000", "advisor", 2)] == numbers[:2]
    assert again.read("transactions", "shard-000", "processor", 100)[0].sequence_number == numbers[4]
    again.checkpoint("transactions", "shard-000", "processor", numbers[-1])
    assert again.read("transactions", "shard-000", "processor", 100) == []
    assert again.pending("transactions", "processor") == 0 and again.pending("transactions", "advisor") == 10
    # Only the checkpoint file is left in its folder: the temporary file was renamed over it.
    files = sorted(p.name for p in (again.shard_dir("transactions", "shard-000") / "checkpoints").iterdir())
    assert files == ["processor"]


def test_a_torn_last_line_is_never_read_and_the_next_put_truncates_it(stream: LocalStream) -> None:
    numbers = stream.put("transactions", records(3))
    log = stream.shard_dir("transactions", "shard-000") / LOG_NAME
    whole = log.read_bytes()
    # A writer died half-way through a line (no newline), or wrote a line whose bytes are wrong.
    with open(log, "ab") as handle:
        handle.write(b"0badc0de\t123\tdTE=\teyJu")
    assert [r.sequence_number for r in stream.read("transactions", "shard-000", "c", 10)] == numbers
    more = stream.put("transactions", records(2, start=3))
    assert log.read_bytes().startswith(whole)  # earlier records untouched
    got = stream.read("transactions", "shard-000", "c", 10)
    assert [r.sequence_number for r in got] == numbers + more
    assert [r.data for r in got][-2:] == [b'{"n":3}', b'{"n":4}']
    # A whole line with a wrong checksum (bytes lost before the fsync) is cut as well.
    with open(log, "ab") as handle:
        handle.write(b"00000000\t1\tdTE=\teyJuIjo5fQ==\n")
    assert len(stream.read("transactions", "shard-000", "c", 10)) == 5
    stream.put("transactions", records(1, start=5))
    assert [r.data for r in stream.read("transactions", "shard-000", "c", 10)][-1] == b'{"n":5}'
    assert len(stream.read("transactions", "shard-000", "c", 10)) == 6


def test_a_record_not_yet_on_disk_is_not_read(stream: LocalStream) -> None:
    """Readers stop at the fsync'd length: a consumer never checkpoints past what a power cut keeps."""
    numbers = stream.put("transactions", records(2))
    log = stream.shard_dir("transactions", "shard-000") / LOG_NAME
    # A writer wrote a whole line and died before its fsync (and before recording the new length).
    with open(log, "ab") as handle:
        handle.write(_encode_line(StreamRecord("u1", b"unsynced"), 1))
    assert [r.sequence_number for r in stream.read("transactions", "shard-000", "c", 10)] == numbers
    assert stream.latest("transactions", "shard-000") == numbers[-1]
    # The next put keeps the intact line (delivery is at least once) and makes it durable with its own.
    stream.put("transactions", records(1, start=9))
    assert [r.data for r in stream.read("transactions", "shard-000", "c", 10)][-2:] == [
        b"unsynced",
        b'{"n":9}',
    ]


def test_latest_and_caught_up_find_the_last_whole_record(stream: LocalStream) -> None:
    assert stream.latest("transactions", "shard-000") is None
    assert stream.caught_up("transactions", "c")
    numbers = stream.put("transactions", [*records(2), StreamRecord("u1", b"y" * 200_000)])
    assert stream.latest("transactions", "shard-000") == numbers[-1]  # a line longer than a tail chunk
    assert not stream.caught_up("transactions", "c")
    log = stream.shard_dir("transactions", "shard-000") / LOG_NAME
    with open(log, "ab") as handle:
        handle.write(b"00000000\t1\tdTE=\teyJuIjo5fQ==\n0badc0de\t12")  # corrupt line, then a torn one
    assert stream.latest("transactions", "shard-000") == numbers[-1]
    stream.checkpoint("transactions", "shard-000", "c", numbers[-1])
    assert stream.caught_up("transactions", "c")


def test_partition_keys_spread_over_shards_and_keep_their_order(tmp_path: Path) -> None:
    stream = LocalStream(settings=Settings(_env_file=None, lake_root=tmp_path / "lake"), shards=4)
    assert stream.shards("transactions") == ["shard-000", "shard-001", "shard-002", "shard-003"]
    batch = [StreamRecord(f"user-{i % 40}", f"{i}".encode()) for i in range(400)]
    numbers = stream.put("transactions", batch)
    assert len(numbers) == 400
    seen: dict[str, list[int]] = {}
    used = set()
    for shard in stream.shards("transactions"):
        for record in stream.read("transactions", shard, "c", 1000):
            assert stream.shard_for(record.partition_key) == shard
            seen.setdefault(record.partition_key, []).append(int(record.data))
            used.add(shard)
    assert len(used) > 1
    assert all(values == sorted(values) for values in seen.values())
    assert sum(len(v) for v in seen.values()) == 400


def test_bad_names_and_keys_are_refused(stream: LocalStream) -> None:
    with pytest.raises(ValueError, match="stream"):
        stream.put("../etc", records(1))
    with pytest.raises(ValueError, match="partition_key"):
        stream.put("transactions", [StreamRecord("", b"x")])
    with pytest.raises(ValueError, match="sequence_number"):
        stream.checkpoint("transactions", "shard-000", "c", "12a")


WRITER = """
import sys
from datalake.realtime.local import LocalStream
from datalake.realtime.ports import StreamRecord
from datalake.settings import Settings
stream = LocalStream(settings=Settings(_env_file=None, lake_root=sys.argv[1]))
for batch in range(int(sys.argv[2])):
    stream.put("transactions", [StreamRecord("u", b"%d-%d" % (batch, i)) for i in range(20)])
"""


def test_a_writer_process_and_a_reader_at_once(stream: LocalStream, tmp_path: Path) -> None:
    """Two writer processes append while this process reads and checkpoints: every record once, whole."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "lake"), "60"], env=env)
        for _ in range(2)
    ]
    got: list[bytes] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        batch = stream.read("transactions", "shard-000", "reader", 37)
        if batch:
            got += [r.data for r in batch]
            stream.checkpoint("transactions", "shard-000", "reader", batch[-1].sequence_number)
        elif all(w.poll() is not None for w in writers):
            if not stream.read("transactions", "shard-000", "reader", 1):
                break
        else:
            time.sleep(0.005)
    assert [w.wait(30) for w in writers] == [0, 0]
    assert len(got) == 2 * 60 * 20 and len(set(got)) == 60 * 20  # each (batch, i) written by both
    # Each writer's records arrive in its order, batches never interleaved inside.
    for start in range(0, len(got), 20):
        chunk = got[start : start + 20]
        assert [c.split(b"-")[1] for c in chunk] == [str(i).encode() for i in range(20)]


def test_one_process_at_a_time_holds_a_consumer_lease(stream: LocalStream) -> None:
    with stream.exclusive("stream_processor"):
        with pytest.raises(ConsumerBusyError, match="stream_processor"), stream.exclusive("stream_processor"):
            pass
        with stream.exclusive("trade_advisor"):  # another consumer name is free
            pass
    with stream.exclusive("stream_processor"):  # released on exit
        pass
