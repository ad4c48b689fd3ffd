"""playbooks/site.yml with the zookeeper role against kubesim, in cluster mode.

kubesim runs the StatefulSet's pods (Ready after its ready_delay) and answers the pod proxy
with the fake AdminServer below, which reports a healthy ensemble led by pod 0.
"""

import json

import pytest

from tests.helpers import run_playbook, write_inventory

NS = "kafka"
GATE = "streams.kafka.zookeeper : Wait for a leader and every follower in sync"


def fake_admin_server(name, replicas, leader=0):
    ordinal = int(name.rsplit("-", 1)[1])

    def handler(method, path, _query, _body):
        if method != "GET":
            return 405, {}, b""
        if path == "/commands/mntr":
            data = {"version": "3.8.4", "server_state": "leader" if ordinal == leader else "follower"}
            if ordinal == leader:
                data["synced_followers"] = replicas - 1
        elif path == "/commands/srvr":
            data = {"server_stats": {"last_processed_zxid": 0x200000007}, "command": "server_stats", "error": None}
        else:
            return 404, {}, b"not found"
        return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()

    return handler


def serve_admin(kubesim, cluster="dev", replicas=3, leader=0):
    for ordinal in range(replicas):
        name = "%s-zookeeper-%d" % (cluster, ordinal)
        kubesim.route_proxy_handler(NS, name, 8080, fake_admin_server(name, replicas, leader))


def inventory(tmp_path, kubeconfig, **variables):
    # ZooKeeper alone: site.yml would deploy Kafka next (tests/integration/test_kafka_playbook.py).
    host = {"streams_kubeconfig": kubeconfig, "streams_namespace": NS, "zookeeper_ready_timeout": 30, "kafka_enabled": False}
    host.update(variables)
    return write_inventory(tmp_path / "hosts.yml", {"dev": host})


def proxy_requests(kubesim):
    return [r for r in kubesim.requests if "/proxy/" in r["path"]]


@pytest.mark.parametrize("kubesim", [5.0], indirect=True)
def test_role_applies_waits_passes_and_then_changes_nothing(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    hosts = inventory(tmp_path, kubeconfig)

    first = run_playbook(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    gate = first.result_of(GATE)
    assert gate["ready"] is True and gate["leader"] == "dev-zookeeper-0", gate
    assert sorted(gate["members"]) == ["dev-zookeeper-0", "dev-zookeeper-1", "dev-zookeeper-2"]
    assert gate["members"]["dev-zookeeper-0"]["synced_followers"] == 2
    assert gate["members"]["dev-zookeeper-1"]["zxid"] == "0x200000007"
    # pods become Ready 5 s after creation: the gate passed only after the last one did. When
    # it was already waiting then (on a busy machine the steps before it can take longer than
    # 5 s), it passed within a second: it looks every 0.25 s and asks at once when pods change.
    last_ready = max(t for key, t in kubesim.pod_ready_times().items() if key.startswith(NS + "/dev-zookeeper-"))
    last_probe = max(r["time"] for r in proxy_requests(kubesim))
    assert last_probe >= last_ready, (last_probe - last_ready, gate)
    if gate["waited"] > 0.5:
        assert last_probe - last_ready < 1.0, (last_probe - last_ready, gate)

    sts = kubesim.get("apps/v1", "StatefulSet", NS, "dev-zookeeper")
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    for kind, name in (("ConfigMap", "dev-zookeeper-config"), ("Service", "dev-zookeeper-nodes"),
                       ("Service", "dev-zookeeper-client")):
        assert kubesim.get("v1", kind, NS, name) is not None, name
    assert kubesim.get("policy/v1", "PodDisruptionBudget", NS, "dev-zookeeper") is not None
    # the gate read every member's mntr through the pod proxy, after the StatefulSet was written
    requests = kubesim.requests
    sts_write = max(i for i, r in enumerate(requests) if r["write"] and "/statefulsets" in r["path"])
    mntr = [i for i, r in enumerate(requests) if r["path"].endswith("/proxy/commands/mntr")]
    assert mntr and min(mntr) > sts_write
    asked = {r["path"].split("/pods/")[1].split("/")[0] for r in proxy_requests(kubesim)}
    assert asked == {"dev-zookeeper-%d:8080" % i for i in range(3)}

    kubesim.clear_requests()
    second = run_playbook(tmp_path, hosts)
    assert second.rc == 0, second.describe()
    assert kubesim.writes() == [], kubesim.writes()
    assert second.result_of(GATE)["ready"] is True
    assert second.report["stats"]["dev"]["changed"] == 0, second.report["stats"]


# at_most: how long the gate may wait before it gives up (its own `waited`; the whole run's
# wall time depends on the machine's load, the gate's decision does not).
@pytest.mark.parametrize("stuck_grace, timeout, at_most", [(600, 12, 12 + 5), (2, 120, 2 + 5)])
def test_crashloop_fails_the_play_naming_the_pod(kubesim, kubeconfig, tmp_path, stuck_grace, timeout, at_most):
    serve_admin(kubesim)
    kubesim.set_pod_behaviour(NS, r"^dev-zookeeper-1$", "crashloop")
    hosts = inventory(tmp_path, kubeconfig, zookeeper_ready_timeout=timeout, zookeeper_ready_stuck_grace=stuck_grace)

    run = run_playbook(tmp_path, hosts)
    assert run.rc != 0, run.describe()
    failures = run.failures("dev")
    assert [task for task, _host, _msg in failures] == [GATE], run.describe()
    msg = failures[0][2]
    assert "dev-zookeeper-1" in msg and "CrashLoopBackOff" in msg, msg
    assert "pod dev-zookeeper-0" not in msg and "pod dev-zookeeper-2" not in msg, msg
    gate = run.result_of(GATE)
    assert gate["members"]["dev-zookeeper-1"]["state"] == "pod_not_ready"
    assert gate["members"]["dev-zookeeper-0"]["state"] == "serving"
    assert gate["waited"] < at_most, gate["waited"]
    if stuck_grace < timeout:
        assert "cannot become ready without a change" in msg, msg
    else:
        assert "is not ready after %ds" % timeout in msg, msg


def test_check_mode_writes_nothing_and_reports_without_failing(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig), check=True)
    assert run.rc == 0, run.describe()
    assert kubesim.writes() == []
    assert kubesim.get("apps/v1", "StatefulSet", NS, "dev-zookeeper") is None
    # nothing exists yet: the gate looked once, reported, and neither waited nor failed
    gate = run.result_of(GATE)
    assert gate["ready"] is False and not gate.get("failed") and gate["waited"] == 0
    assert "pod dev-zookeeper-0: pod does not exist" in gate["reason"]


def test_check_mode_on_a_deployed_ensemble_reports_its_state(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    hosts = inventory(tmp_path, kubeconfig)
    assert run_playbook(tmp_path, hosts).rc == 0
    kubesim.set_pod_behaviour(NS, r"^dev-zookeeper-2$", "never_ready")
    kubesim.clear_requests()
    run = run_playbook(tmp_path, hosts, check=True)
    assert run.rc == 0, run.describe()
    assert kubesim.writes() == []
    gate = run.result_of(GATE)
    assert gate["ready"] is False and not gate.get("failed")
    assert "pod dev-zookeeper-2: readiness probe failing" in gate["reason"]
    assert gate["waited"] == 0


def test_bad_zookeeper_setting_fails_before_the_namespace_is_written(kubesim, kubeconfig, tmp_path):
    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, zookeeper_replicas=4))
    assert run.rc != 0
    assert any("zookeeper_replicas=4 is not valid" in msg for _task, _host, msg in run.failures()), run.describe()
    assert kubesim.writes() == []
    assert kubesim.get("v1", "Namespace", None, NS) is None
