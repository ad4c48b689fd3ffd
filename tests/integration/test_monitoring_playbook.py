"""The monitoring role in cluster mode on kubesim: its PrometheusRule and dashboard ConfigMaps are
applied, a second run writes nothing, a changed threshold is one PATCH, and uninstall.yml
removes them."""

from tests.helpers import REPO, run_playbook, write_inventory

NS = "kafka"
COMPONENTS = REPO / "tests" / "playbooks" / "components.yml"
UNINSTALL = REPO / "playbooks" / "uninstall.yml"
MONITORED = {"test_components": ["monitoring"], "monitoring_enabled": True, "kafka_metrics_enabled": True,
             "zookeeper_metrics_enabled": True}


def inventory(tmp_path, kubeconfig, variables):
    return write_inventory(tmp_path / "hosts.yml", {"dev": dict({"streams_kubeconfig": kubeconfig, "streams_namespace": NS}, **variables)})


def mine(kubesim, api_version, kind):
    return sorted(o["metadata"]["name"] for o in kubesim.objects(api_version, kind, NS)
                  if o["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "monitoring")


def test_applied_once_then_idempotent_then_patched_then_uninstalled(kubesim, kubeconfig, tmp_path):
    hosts = inventory(tmp_path, kubeconfig, MONITORED)
    first = run_playbook(tmp_path, hosts, playbook=COMPONENTS)
    assert first.rc == 0, first.describe()
    assert mine(kubesim, "monitoring.coreos.com/v1", "PrometheusRule") == ["dev-monitoring"]
    assert mine(kubesim, "v1", "ConfigMap") == ["dev-dashboard-kafka", "dev-dashboard-zookeeper"]
    stored = kubesim.get("monitoring.coreos.com/v1", "PrometheusRule", NS, "dev-monitoring")
    # Prometheus's own templating reaches the cluster untouched
    quorum = [r for g in stored["spec"]["groups"] for r in g["rules"] if r["alert"] == "ZooKeeperQuorumLost"][0]
    assert quorum["annotations"]["description"].startswith("{{ $value }} ZooKeeper members of dev")

    kubesim.clear_requests()
    again = run_playbook(tmp_path, hosts, playbook=COMPONENTS)
    assert again.rc == 0, again.describe()
    assert again.report["stats"]["dev"]["changed"] == 0
    assert kubesim.writes() == []

    kubesim.clear_requests()
    hosts = inventory(tmp_path, kubeconfig, dict(MONITORED, monitoring_alert_for={"KafkaOfflinePartitions": "3m"}))
    patched = run_playbook(tmp_path, hosts, playbook=COMPONENTS)
    assert patched.rc == 0, patched.describe()
    writes = kubesim.writes()
    assert [(w["method"], w["path"].rsplit("/", 1)[1]) for w in writes] == [("PATCH", "dev-monitoring")], writes
    stored = kubesim.get("monitoring.coreos.com/v1", "PrometheusRule", NS, "dev-monitoring")
    assert [r["for"] for g in stored["spec"]["groups"] for r in g["rules"] if r["alert"] == "KafkaOfflinePartitions"] == ["3m"]

    removed = run_playbook(tmp_path, hosts, playbook=UNINSTALL)
    assert removed.rc == 0, removed.describe()
    assert mine(kubesim, "monitoring.coreos.com/v1", "PrometheusRule") == []
    assert mine(kubesim, "v1", "ConfigMap") == []
