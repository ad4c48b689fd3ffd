"""The arithmetic of `make bench-roll` (tests/bench/bench_roll.py) on a synthetic request log."""

import datetime
import time

import pytest

from tests.bench.bench_roll import clock_mapping, measure_roll, pod_deletes, table, task_window, total

NS = "kafka"


def request(method, path, time, status=200):
    return {"method": method, "path": path, "time": time, "status": status}


def pod(name):
    return "/api/v1/namespaces/%s/pods/%s" % (NS, name)


# Three pods, each Ready about 2 s after its DELETE; the roll polls in between.
LOG = [
    request("GET", "/apis/apps/v1/namespaces/kafka/statefulsets/dev-zookeeper", 9.0),
    request("DELETE", pod("dev-zookeeper-0"), 10.0),
    request("GET", "/api/v1/namespaces/kafka/pods", 11.0),
    request("GET", "/api/v1/namespaces/kafka/pods", 12.5),   # first poll after dev-zookeeper-0 Ready (12.1)
    request("DELETE", pod("dev-zookeeper-2"), 12.8),
    request("DELETE", pod("dev-kafka-1"), 13.0),             # another component
    request("DELETE", pod("dev-zookeeper-1"), 13.5, 404),    # failed: not a restart
    request("GET", "/api/v1/namespaces/kafka/pods", 15.6),   # first poll after dev-zookeeper-2 Ready (15.0)
    request("DELETE", pod("dev-zookeeper-1"), 16.0),
    request("GET", "/api/v1/namespaces/other/pods", 18.4),   # first poll after dev-zookeeper-1 Ready (18.0)
]
READY = {"dev-zookeeper-0": 12.1, "dev-zookeeper-2": 15.0, "dev-zookeeper-1": 18.0, "dev-kafka-1": 5.0}


def test_pod_deletes_keeps_successful_deletes_of_the_component_in_time_order():
    assert pod_deletes(list(reversed(LOG)), NS, "dev-zookeeper") == [
        (10.0, "dev-zookeeper-0"), (12.8, "dev-zookeeper-2"), (16.0, "dev-zookeeper-1")]
    assert pod_deletes(LOG, NS, "dev-kafka") == [(13.0, "dev-kafka-1")]
    assert pod_deletes(LOG, "other", "dev-zookeeper") == []


def test_roll_time_own_restart_times_and_overhead():
    deletes = pod_deletes(LOG, NS, "dev-zookeeper")
    result = measure_roll(deletes, READY, [r["time"] for r in LOG], task=(7.0, 19.0))

    assert result["pods"] == 3
    assert result["roll_s"] == pytest.approx(8.0)                   # 10.0 -> 18.0
    assert result["own_s"] == pytest.approx(2.1 + 2.2 + 2.0)
    assert result["overhead_s"] == pytest.approx(8.0 - 6.3)
    assert result["overhead_pct"] == pytest.approx(100 * 1.7 / 6.3)
    assert [r["own_s"] for r in result["restarts"]] == pytest.approx([2.1, 2.2, 2.0])
    # the overhead is the gaps between a pod Ready and the next DELETE, split at the first poll
    assert [g["gap_s"] for g in result["gaps"]] == pytest.approx([0.7, 1.0])
    assert [g["poll_wait_s"] for g in result["gaps"]] == pytest.approx([0.4, 0.6])
    assert [g["work_s"] for g in result["gaps"]] == pytest.approx([0.3, 0.4])
    assert result["poll_wait_s"] + result["work_s"] == pytest.approx(result["overhead_s"])

    assert result["task_s"] == pytest.approx(12.0)
    assert result["startup_s"] == pytest.approx(3.0)
    assert result["module_load_s"] == pytest.approx(2.0) and result["plan_s"] == pytest.approx(1.0)
    assert result["to_task_end_s"] == pytest.approx(9.0)
    assert result["tail_s"] == pytest.approx(1.0)
    assert result["tail_poll_wait_s"] == pytest.approx(0.4) and result["tail_work_s"] == pytest.approx(0.6)
    assert result["task_overhead_s"] == pytest.approx(9.0 - 6.3)
    assert result["requests"] == len(LOG)


def test_without_requests_the_whole_gap_counts_as_poll_wait():
    result = measure_roll([(0.0, "a-0"), (3.0, "a-1")], {"a-0": 2.0, "a-1": 5.0})
    assert result["gaps"][0]["poll_wait_s"] == pytest.approx(1.0) and result["gaps"][0]["work_s"] == 0
    assert "task_s" not in result


def test_total_adds_up_and_recomputes_the_percentage():
    first = measure_roll([(0.0, "a-0"), (3.0, "a-1")], {"a-0": 2.0, "a-1": 5.0})    # 5 s for 4 s: 25 %
    second = measure_roll([(0.0, "b-0")], {"b-0": 4.0})                             # 4 s for 4 s: 0 %
    both = total([first, second])
    assert both["pods"] == 3 and both["roll_s"] == pytest.approx(9.0) and both["own_s"] == pytest.approx(8.0)
    assert both["overhead_pct"] == pytest.approx(12.5)


@pytest.mark.parametrize("ready, message", [
    ({"a-0": 2.0}, "pod a-1, deleted at 3.000, did not become Ready after that"),
    ({"a-0": 2.0, "a-1": 1.0}, "pod a-1, deleted at 3.000, did not become Ready after that"),
    ({"a-0": 3.5, "a-1": 5.0}, "pod a-1 was deleted at 3.000, before pod a-0 was Ready again at 3.500"),
])
def test_a_pod_never_ready_again_or_two_pods_down_at_once_is_refused(ready, message):
    with pytest.raises(ValueError, match=message):
        measure_roll([(0.0, "a-0"), (3.0, "a-1")], ready)


def test_nothing_restarted_is_refused():
    with pytest.raises(ValueError, match="no pod was restarted"):
        measure_roll([], {})


def test_task_window_reads_the_json_callback_durations_on_the_monotonic_clock():
    report = {"plays": [{"tasks": [
        {"task": {"name": "other", "duration": {"start": "2025-01-01T00:00:00.000000Z", "end": "2025-01-01T00:00:01Z"}}},
        {"task": {"name": "roll", "duration": {"start": "2025-01-01T00:00:02.500000Z", "end": "2025-01-01T00:00:09Z"}}},
    ]}]}
    to_monotonic = clock_mapping()
    start, end = task_window(report, "roll", to_monotonic)
    assert end - start == pytest.approx(6.5)
    assert to_monotonic("2025-01-01T00:00:00Z") == pytest.approx(start - 2.5)
    # the json callback writes naive UTC ISO times with a Z
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None).isoformat() + "Z"
    assert to_monotonic(now) == pytest.approx(time.monotonic(), abs=0.5)
    with pytest.raises(RuntimeError, match="did not run"):
        task_window(report, "missing", to_monotonic)


def test_table_aligns_columns():
    rows = [{"name": "zookeeper", "roll": 7.5}, {"name": "total", "roll": 20.0}]
    text = table([("component", "name", "%s"), ("roll_s", "roll", "%.2f")], rows)
    assert text.splitlines() == ["component  roll_s", "zookeeper  7.50", "total      20.00"]
