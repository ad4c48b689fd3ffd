"""The arithmetic of tests/bench/bench_site.py on synthetic request logs (no kubesim, no Ansible)."""

import math
import os

import pytest

from tests.bench.bench_site import (
    compare, count_requests, cpu_bound, floor_lines, gate_latency, goals, is_discovery, per_cluster, profile, ratio, task_floor,
)


def req(method, path, t, write=None, dry_run=False):
    if write is None:
        write = method in ("POST", "PUT", "PATCH", "DELETE") and not dry_run
    return {"method": method, "path": path, "time": t, "write": write, "status": 200, "dry_run": dry_run}


LOG = [
    req("GET", "/api", 0.0),
    req("GET", "/apis", 0.1),
    req("GET", "/api/v1", 0.2),
    req("GET", "/apis/apps/v1", 0.3),
    req("GET", "/apis/apps", 0.35),
    req("GET", "/api/v1/namespaces/ns", 1.0),
    req("PATCH", "/apis/apps/v1/namespaces/ns/statefulsets/a", 1.1),
    req("PATCH", "/apis/apps/v1/namespaces/ns/statefulsets/a", 1.2, dry_run=True),
    req("POST", "/api/v1/namespaces/ns/configmaps", 1.3),
    req("GET", "/api/v1/namespaces/ns/pods/a-0:8080/proxy/commands/mntr", 2.0),
    req("DELETE", "/api/v1/namespaces/ns/pods/a-0", 3.0),
    req("GET", "/apis/apps/v1/namespaces/ns/deployments", 3.5),
]


@pytest.mark.parametrize("path, expected", [
    ("/api", True), ("/apis", True), ("/api/v1", True), ("/apis/apps", True), ("/apis/apps/v1", True), ("/apis/apps/v1/", True),
    ("/api/v1/namespaces", False), ("/api/v1/pods", False), ("/apis/apps/v1/deployments", False),
    ("/api/v1/namespaces/ns/pods/p", False), ("/version", False), ("/apis/apps/v1?timeout=5s", True),
])
def test_discovery_paths(path, expected):
    assert is_discovery(path) is expected


def test_counts_split_reads_writes_and_name_discovery_and_proxy():
    assert count_requests(LOG) == {"requests": 12, "reads": 9, "writes": 3, "discovery": 5, "proxy": 1}


def test_counts_inside_a_window_only():
    assert count_requests(LOG, 1.0, 2.0) == {"requests": 5, "reads": 3, "writes": 2, "discovery": 0, "proxy": 1}
    assert count_requests([], 0, 1) == {"requests": 0, "reads": 0, "writes": 0, "discovery": 0, "proxy": 0}


def test_ratios():
    assert ratio(6.0, 2.0) == 3.0
    assert ratio(0, 0) == 0.0
    assert math.isinf(ratio(1, 0))
    assert compare({"seconds": 30.0, "requests": 400}, {"seconds": 2.0, "requests": 100}) == {"time_ratio": 15.0, "request_ratio": 4.0}


def test_scaling_per_cluster_and_against_one_cluster():
    rows = per_cluster({8: 80.0, 1: 20.0, 4: 40.0})
    assert [r["clusters"] for r in rows] == [1, 4, 8]
    assert [r["per_cluster_s"] for r in rows] == [20.0, 10.0, 10.0]
    assert [r["over_smallest"] for r in rows] == [1.0, 2.0, 4.0]


def test_gate_latency_from_last_ready_to_last_proxy_request_and_task_end():
    ready = {"g1-zookeeper-0": 10.0, "g1-zookeeper-1": 11.0, "g1-zookeeper-2": 12.5, "other-zookeeper-0": 30.0}
    log = [req("GET", "/api/v1/namespaces/n/pods/g1-zookeeper-0:8080/proxy/commands/mntr", t) for t in (9.0, 12.0, 12.8, 13.1)]
    log.append(req("GET", "/api/v1/namespaces/n/pods/g1-zookeeper-0", 13.2))  # not a proxy request
    log.append(req("GET", "/api/v1/namespaces/n/pods/g1-zookeeper-0:8080/proxy/commands/mntr", 20.0))  # after the task
    out = gate_latency(ready, "g1-zookeeper", (8.0, 13.5), log)
    assert out["last_ready"] == 12.5
    assert out["to_last_gate_request_s"] == pytest.approx(0.6)
    assert out["to_gate_end_s"] == pytest.approx(1.0)
    assert out["gate_s"] == pytest.approx(5.5) and out["waited_s"] == pytest.approx(4.5)


def test_gate_latency_counts_from_the_gate_start_when_the_pods_were_ready_before_it():
    out = gate_latency({"g1-zookeeper-0": 5.0}, "g1-zookeeper", (8.0, 13.5), [])
    assert out["ready_before_gate"] is True and out["waited_s"] == 0.0
    assert out["to_gate_end_s"] == pytest.approx(5.5) and out["to_last_gate_request_s"] == pytest.approx(5.5)


def test_gate_latency_refuses_a_pod_ready_after_the_gate():
    with pytest.raises(ValueError, match="after the gate task"):
        gate_latency({"g1-zookeeper-0": 20.0}, "g1-zookeeper", (8.0, 13.5), [])
    with pytest.raises(ValueError, match="no pod"):
        gate_latency({"x-0": 1.0}, "g1-zookeeper", (0.0, 13.5), [])


def test_goals_met_and_missed():
    met = goals({"noop_writes": 0, "noop_ratio": 3.0, "cold_ratio": 4.9, "scale_8_over_1": 2.0, "gate_latency_s": 0.5})
    assert [ok for _g, _m, ok in met] == [True] * 5
    missed = goals({"noop_writes": 1, "noop_ratio": 3.01, "cold_ratio": 5.1, "scale_8_over_1": 3.5, "gate_latency_s": 1.2})
    assert [ok for _g, _m, ok in missed] == [False] * 5
    assert [m for _g, m, _ok in missed] == ["1", "3.01", "5.10", "3.50", "1.20"]


def test_profile_start_up_discovery_and_idle_gaps():
    windows = [
        ("Render", "ansible.builtin.set_fact", 0.0, 0.05, 1),
        ("Apply", "streams.kafka.manifest_apply", 0.05, 1.5, 1),
        ("Gate", "streams.kafka.zookeeper_ready", 1.6, 4.0, 1),
    ]
    log = [req("GET", "/api", 0.9), req("GET", "/apis", 0.95), req("GET", "/api/v1/namespaces/ns/configmaps/c", 1.0),
           req("GET", "/api/v1/namespaces/ns/pods/p:8080/proxy/x", 2.0), req("GET", "/api/v1/namespaces/ns/pods/p:8080/proxy/x", 3.0),
           req("GET", "/api/v1/namespaces/ns/pods/p:8080/proxy/x", 3.1)]
    out = profile(windows, log)
    assert (out["tasks"], out["module_tasks"], out["controller_tasks"], out["api_tasks"]) == (3, 2, 1, 2)
    assert out["startup_s"] == pytest.approx(0.85 + 0.4)
    assert out["startup_median_s"] == pytest.approx((0.85 + 0.4) / 2)
    assert out["discovery"] == 2
    assert out["idle_s"] == pytest.approx(1.0)  # 2.0 -> 3.0; 0.9 -> 1.0 and 3.0 -> 3.1 are under 0.25
    assert out["module_s"] == pytest.approx(1.45 + 2.4)
    assert [a["action"] for a in out["by_action"]] == [
        "streams.kafka.zookeeper_ready", "streams.kafka.manifest_apply", "ansible.builtin.set_fact"]
    assert out["slowest"][0]["task"] == "Gate"


def test_task_floor_adds_the_per_task_cost_of_trivial_tasks_to_an_empty_play():
    out = task_floor(empty_s=1.5, tasks_s=6.5, tasks=100, site_tasks=300)
    assert out["per_task_s"] == pytest.approx(0.05)
    assert out["floor_s"] == pytest.approx(1.5 + 15.0)
    # noise can make the trivial tasks look free; they never cost less than nothing
    assert task_floor(2.0, 1.9, 100, 300)["floor_s"] == pytest.approx(2.0)


def test_cpu_bound_divides_the_work_over_the_cores():
    out = cpu_bound(cpu_s=400.0, cores=2, one_cluster_s=50.0)
    assert out["least_s"] == pytest.approx(200.0) and out["over_one"] == pytest.approx(4.0)


def test_floor_lines_name_the_floor_and_the_cpu_bound():
    figures = {"site_noop": {"seconds": 50.0, "cpu_s": 45.0}, "base_noop": {"seconds": 1.5},
               "floor": {"empty_s": 1.5, "tasks_s": 6.5, "tasks": 100}, "profile": {"tasks": 300},
               "scaling": {1: 50.0, 8: 230.0}, "scale_noop_8": {"seconds": 230.0, "cpu_s": 16.0 * (os.cpu_count() or 1) * 10}}
    lines = floor_lines(figures)
    assert "300 no-op task executions takes at least 16.5 s, 11.0x the baseline no-op" in lines[0]
    assert "cannot do in less than 160.0 s, 3.20x one cluster (measured: 230.0 s)" in lines[1]
    assert len(floor_lines(dict(figures, scaling={1: 50.0}))) == 1
