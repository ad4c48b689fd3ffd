"""The monitoring role in directory mode: the PrometheusRule and dashboard ConfigMaps it renders,
promtool's verdict on the rules (`promtool check rules`, and `promtool test rules` with
tests/unit/fixtures/monitoring/alerts_test.yml), the metric names the alerts use, and what its
preflight refuses.

One ansible-playbook run of tests/playbooks/components.yml renders every case: each inventory
host is one case. promtool comes from Debian's `prometheus` package (`make prometheus-package`);
these tests fail, not skip, without it.
"""

import json
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels
from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema
from tests.helpers import CRDS, KUBERNETES_VERSIONS, REPO, load_manifests, run_playbook, write_inventory
from tests.monitoring_metrics import (BLACKBOX_METRICS, FIXTURES, PROMETHEUS_METRICS, component_metrics,
                                      promql_metric_names)

PLAYBOOK = REPO / "tests" / "playbooks" / "components.yml"
FILE = "70-monitoring.yaml"
ROLE_VARS = yaml.safe_load((REPO / "roles/monitoring/vars/main.yml").read_text())
ALERTS = set(ROLE_VARS["__monitoring_alert_for_defaults"])

# Every component scraped, as alerts_test.yml expects: cluster dev in namespace kafka.
EVERYTHING = {"test_components": ["monitoring"], "monitoring_enabled": True,
              "zookeeper_metrics_enabled": True, "kafka_metrics_enabled": True,
              "connect_enabled": True, "connect_metrics_enabled": True,
              "mirrormaker_sources": ["east"], "mirrormaker_metrics_enabled": True, "exporter_enabled": True}
KAFKA_ONLY = {"test_components": ["monitoring"], "monitoring_enabled": True, "kafka_metrics_enabled": True}

VALID = {
    "dev": EVERYTHING,
    # a source of dev's MirrorMaker 2; it deploys nothing here
    "east": {"test_components": []},
    "custom": dict(EVERYTHING, streams_namespace="streams-prod", streams_cluster_name="prod",
                   zookeeper_replicas=5, kafka_replicas=5, connect_replicas=2, exporter_replicas=2,
                   monitoring_rule_labels={"role": "alert-rules", "prometheus": "k8s"},
                   monitoring_alert_labels={"team": "kafka"},
                   monitoring_disabled_alerts=["KafkaBrokerNotRunning", "StreamsCertificateExpiringSoon"],
                   monitoring_alert_for={"KafkaUnderReplicatedPartitions": "30m", "KafkaOfflinePartitions": "0"},
                   monitoring_consumer_lag_threshold=50000,
                   monitoring_dashboards_labels={"grafana_dashboard": "yes", "team": "kafka"},
                   monitoring_dashboards_annotations={"grafana_folder": "Kafka"}),
    # only the exporter's ServiceMonitor: its group and dashboard, and the certificate alert
    "lag-only": {"test_components": ["monitoring"], "monitoring_enabled": True, "exporter_enabled": True},
    # the brokers' metrics served by a ServiceMonitor instead of a PodMonitor: the same alerts
    "no-dashboards": dict(KAFKA_ONLY, kafka_metrics_monitor="servicemonitor", monitoring_dashboards_enabled=False),
    "no-rules": dict(KAFKA_ONLY, monitoring_rules_enabled=False),
}

# host -> (variables, [fragments the one failure message must contain])
REFUSED = {
    "nothing": ({"test_components": ["monitoring"], "monitoring_enabled": True, "exporter_enabled": True,
                 "exporter_servicemonitor_enabled": False},
                ["no component of host nothing is scraped", "kafka_metrics_enabled"]),
    "bad-for": (dict(KAFKA_ONLY, monitoring_alert_for={"KafkaOfflinePartitions": "5 minutes"}),
                ["monitoring_alert_for.KafkaOfflinePartitions='5 minutes' is not valid", "Prometheus duration"]),
    "unknown-alert": (dict(KAFKA_ONLY, monitoring_disabled_alerts=["KafkaDown"]),
                      ["monitoring_disabled_alerts names KafkaDown, which is not", "KafkaBrokerDown"]),
    "bad-label": (dict(KAFKA_ONLY, monitoring_rule_labels={"prometheus": "k8s main"}),
                  ['monitoring_rule_labels entry prometheus="k8s main" is not valid']),
    "number-label": (dict(KAFKA_ONLY, monitoring_dashboards_labels={"grafana_dashboard": 1}),
                     ["monitoring_dashboards_labels entry grafana_dashboard=1 is not valid", 'quote numbers: "1"']),
    "owned-label": (dict(KAFKA_ONLY, monitoring_rule_labels={"app.kubernetes.io/name": "x"}),
                    ["monitoring_rule_labels entry app.kubernetes.io/name=\"x\" is not valid", "app.kubernetes.io/ labels the role sets"]),
    "severity-label": (dict(KAFKA_ONLY, monitoring_alert_labels={"severity": "page"}),
                       ["monitoring_alert_labels entry severity=\"page\" is not valid"]),
    "lag-zero": (dict(KAFKA_ONLY, monitoring_consumer_lag_threshold=0),
                 ["monitoring_consumer_lag_threshold=0 is not valid", "1 or more"]),
}


def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is required and not installed: it comes with Debian's prometheus package "
                    "(make prometheus-package, or apt-get install prometheus)", pytrace=False)
    return path


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("monitoring")
    hosts = dict(VALID)
    hosts.update({host: variables for host, (variables, _fragments) in REFUSED.items()})
    inventory = write_inventory(tmp / "hosts.yml", hosts, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "out"})
    run = run_playbook(tmp, inventory, playbook=PLAYBOOK, args=["--forks", "20"], timeout=900)
    return tmp, run


def manifests(rendered, host):
    tmp, run = rendered
    path = tmp / "out" / host / FILE
    assert path.is_file(), run.describe()
    return load_manifests(path)


def rule(rendered, host):
    found = [o for o in manifests(rendered, host) if o["kind"] == "PrometheusRule"]
    assert len(found) == 1, found
    return found[0]


def alerts(rendered, host):
    return {r["alert"]: dict(r, group=g["name"]) for g in rule(rendered, host)["spec"]["groups"] for r in g["rules"]}


def dashboards(rendered, host):
    return {o["metadata"]["name"]: o for o in manifests(rendered, host) if o["kind"] == "ConfigMap"}


# --- the run ------------------------------------------------------------------------------------------

def test_valid_hosts_pass_and_refused_hosts_fail_in_preflight(rendered):
    tmp, run = rendered
    failed = {host for _task, host, _msg in run.failures()}
    assert failed == set(REFUSED), run.describe()
    for host, variables in VALID.items():
        assert (tmp / "out" / host / FILE).is_file() == ("monitoring" in variables["test_components"]), host


@pytest.mark.parametrize("host", sorted(REFUSED))
def test_refusal_names_the_variable_and_what_is_valid(rendered, host):
    tmp, run = rendered
    messages = [msg for _task, name, msg in run.failures(host)]
    assert len(messages) == 1, messages
    for fragment in REFUSED[host][1]:
        assert fragment in messages[0], messages[0]
    assert not (tmp / "out" / host / FILE).exists()


@pytest.mark.parametrize("host", ["dev", "custom", "lag-only", "no-dashboards", "no-rules"])
def test_objects_pass_strict_schema_validation(rendered, host):
    objs = manifests(rendered, host)
    cluster = VALID[host].get("streams_cluster_name", host)
    refs = manifest_schema.validate_manifests(objs, KUBERNETES_VERSIONS, manifest_schema.load_crd_schemas([str(CRDS)]), {
        "app.kubernetes.io/instance": cluster, "app.kubernetes.io/part-of": "streams",
        "app.kubernetes.io/managed-by": "streams.kafka", "app.kubernetes.io/component": "monitoring"})
    assert len(refs) == len(objs)


# --- promtool -------------------------------------------------------------------------------------------

def write_rules(rendered, tmp_path, host="dev"):
    path = tmp_path / "rules.yml"
    path.write_text(yaml.safe_dump(rule(rendered, host)["spec"], sort_keys=False))
    return path


@pytest.mark.parametrize("host", ["dev", "custom", "lag-only", "no-dashboards"])
def test_promtool_check_rules_accepts_the_rules(rendered, tmp_path, host):
    path = write_rules(rendered, tmp_path, host)
    check = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS: %d rules found" % len(alerts(rendered, host)) in check.stdout, check.stdout


def test_promtool_unit_tests_pass(rendered, tmp_path):
    write_rules(rendered, tmp_path)
    shutil.copy(FIXTURES / "alerts_test.yml", tmp_path / "alerts_test.yml")
    test = subprocess.run([promtool(), "test", "rules", "alerts_test.yml"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert test.returncode == 0, test.stdout + test.stderr
    assert "SUCCESS" in test.stdout, test.stdout


def test_promtool_unit_tests_fail_on_a_wrong_expectation(rendered, tmp_path):
    """The unit tests can fail: an alert expected where the rules raise none is reported."""
    write_rules(rendered, tmp_path)
    text = (FIXTURES / "alerts_test.yml").read_text()
    assert text.count("2 of 3 ZooKeeper members") == 1
    (tmp_path / "alerts_test.yml").write_text(text.replace("2 of 3 ZooKeeper members", "3 of 3 ZooKeeper members"))
    test = subprocess.run([promtool(), "test", "rules", "alerts_test.yml"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert test.returncode != 0 and "FAILED" in (test.stdout + test.stderr), test.stdout


def test_every_alert_has_a_case_that_fires_and_one_that_does_not():
    cases = yaml.safe_load((FIXTURES / "alerts_test.yml").read_text())["tests"]
    fires, silent = set(), set()
    for case in cases:
        for check in case["alert_rule_test"]:
            (fires if check.get("exp_alerts") else silent).add(check["alertname"])
    assert fires == ALERTS, sorted(ALERTS ^ fires)
    assert silent == ALERTS, sorted(ALERTS ^ silent)


# --- what the rules say --------------------------------------------------------------------------------

def test_one_group_per_scraped_component_with_every_alert(rendered):
    obj = rule(rendered, "dev")
    assert obj["metadata"] == {"name": "dev-monitoring", "namespace": "kafka", "labels": standard_labels("dev", "monitoring")}
    assert [g["name"] for g in obj["spec"]["groups"]] == [
        "dev-zookeeper", "dev-kafka", "dev-connect", "dev-mirrormaker", "dev-exporter", "dev-certificates"]
    found = alerts(rendered, "dev")
    assert set(found) == ALERTS
    for name, alert in found.items():
        assert alert["for"] == ROLE_VARS["__monitoring_alert_for_defaults"][name]
        assert alert["labels"]["severity"] in ("critical", "warning")
        assert {k: v for k, v in alert["labels"].items() if k != "severity"} == {
            "namespace": "kafka", "streams_cluster": "dev", "streams_component": alert["group"].split("-", 1)[1]}
        assert set(alert["annotations"]) == {"summary", "description"}


def test_every_selector_names_this_clusters_pods_in_its_namespace(rendered):
    for alert in alerts(rendered, "custom").values():
        if alert["alert"] == "StreamsCertificateExpiringSoon":
            continue
        assert 'namespace="streams-prod",pod=~"prod-' in alert["expr"], alert["expr"]
    cert = alerts(rendered, "dev")["StreamsCertificateExpiringSoon"]["expr"]
    assert 'instance=~"dev-[a-z0-9-]+[.]kafka([.]svc([.]cluster[.]local)?)?(:[0-9]+)?"' in cert
    assert "< 30 * 86400" in cert


def test_settings_change_the_rules(rendered):
    obj = rule(rendered, "custom")
    assert obj["metadata"]["name"] == "prod-monitoring" and obj["metadata"]["namespace"] == "streams-prod"
    assert obj["metadata"]["labels"] == dict(standard_labels("prod", "monitoring"), role="alert-rules", prometheus="k8s")
    found = alerts(rendered, "custom")
    assert set(found) == ALERTS - {"KafkaBrokerNotRunning", "StreamsCertificateExpiringSoon"}
    assert "prod-certificates" not in [g["name"] for g in obj["spec"]["groups"]]
    assert found["KafkaUnderReplicatedPartitions"]["for"] == "30m"
    assert found["KafkaOfflinePartitions"]["for"] == "0"
    assert found["KafkaBrokerDown"]["for"] == "5m"
    assert all(a["labels"]["team"] == "kafka" for a in found.values())
    # sizes: 5 members (quorum 3), 5 brokers, 2 workers, 2 exporter pods
    assert found["ZooKeeperMemberDown"]["expr"].endswith("< 5")
    assert found["ZooKeeperQuorumLost"]["expr"].endswith("< 3")
    assert found["KafkaBrokerDown"]["expr"].endswith("< 5")
    assert found["KafkaConnectWorkerDown"]["expr"].endswith("< 2")
    assert found["MirrorMakerWorkerDown"]["expr"].endswith("< 1")
    assert found["KafkaExporterDown"]["expr"].endswith("< 2")
    assert found["KafkaConsumerGroupLagHigh"]["expr"].endswith("> 50000")
    assert "more than 50000" in found["KafkaConsumerGroupLagHigh"]["annotations"]["description"]


def test_only_scraped_components_get_alerts(rendered):
    assert [g["name"] for g in rule(rendered, "lag-only")["spec"]["groups"]] == ["lag-only-exporter", "lag-only-certificates"]
    assert [g["name"] for g in rule(rendered, "no-dashboards")["spec"]["groups"]] == ["no-dashboards-kafka", "no-dashboards-certificates"]
    assert [o["kind"] for o in manifests(rendered, "no-dashboards")] == ["PrometheusRule"]
    assert [o["kind"] for o in manifests(rendered, "no-rules")] == ["ConfigMap"]


def test_alerts_use_only_metrics_their_component_emits(rendered):
    emitted = component_metrics()
    for alert in alerts(rendered, "dev").values():
        component = alert["labels"]["streams_component"]
        allowed = BLACKBOX_METRICS if component == "certificates" else emitted[component] | PROMETHEUS_METRICS
        used = promql_metric_names(alert["expr"])
        assert used, alert["expr"]
        assert used <= allowed, (alert["alert"], sorted(used - allowed))


# --- the dashboards as rendered --------------------------------------------------------------------------

def test_dashboards_are_labelled_for_the_grafana_sidecar(rendered):
    found = dashboards(rendered, "dev")
    assert sorted(found) == ["dev-dashboard-connect", "dev-dashboard-exporter", "dev-dashboard-kafka", "dev-dashboard-zookeeper"]
    uids = set()
    for name, config_map in found.items():
        assert config_map["metadata"]["labels"] == dict(standard_labels("dev", "monitoring"), grafana_dashboard="1")
        assert "annotations" not in config_map["metadata"]
        (key, text), = config_map["data"].items()
        assert key == "kafka-dev-%s.json" % name.rsplit("-", 1)[1]
        board = json.loads(text)
        assert board["title"].endswith("(dev in kafka)")
        assert len(board["uid"]) <= 40
        uids.add(board["uid"])
        current = {v["name"]: v.get("current", {}).get("value") for v in board["templating"]["list"]}
        assert current["namespace"] == "kafka" and current["cluster"] == "dev"
    assert len(uids) == 4
    custom = dashboards(rendered, "custom")["prod-dashboard-kafka"]
    assert custom["metadata"]["labels"]["grafana_dashboard"] == "yes" and custom["metadata"]["labels"]["team"] == "kafka"
    assert custom["metadata"]["annotations"] == {"grafana_folder": "Kafka"}
    # another cluster's dashboard is another dashboard
    assert json.loads(custom["data"]["streams-prod-prod-kafka.json"])["uid"] not in uids
    assert sorted(dashboards(rendered, "lag-only")) == ["lag-only-dashboard-exporter"]
