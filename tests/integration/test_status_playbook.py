"""playbooks/status.yml, the report that ends site.yml, and site.yml's check mode, against kubesim.

ZooKeeper's AdminServer and the brokers' metrics are scripted as in test_kafka_playbook.py: a
healthy cluster led by pod 0 whose controller is broker 0, until a test changes what a broker
reports or makes a pod unready. The request log shows that the report reads only.
"""

import json

from tests.helpers import REPO, run_playbook, write_inventory
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.kafka_metrics import serve_metrics

NS = "kafka"
STATUS = REPO / "playbooks" / "status.yml"
SHOW = "streams.kafka.common : Show the state of dev"
CHECK = "streams.kafka.common : Check the health of dev"
APPLY_KAFKA = "streams.kafka.common : Apply the objects of kafka"
NODEPORT = {"name": "external", "port": 9094, "type": "nodeport", "advertised_host_template": "nodes.example.com",
            "node_port_base": 32000, "bootstrap_node_port": 31999}


def inventory(tmp_path, kubeconfig, **variables):
    host = {"streams_kubeconfig": kubeconfig, "streams_namespace": NS, "zookeeper_ready_timeout": 30,
            "kafka_ready_timeout": 30}
    host.update(variables)
    return write_inventory(tmp_path / "hosts.yml", {"dev": host})


def status(tmp_path, hosts, **kwargs):
    return run_playbook(tmp_path, hosts, playbook=STATUS, env={"ANSIBLE_SHOW_CUSTOM_STATS": "1"}, **kwargs)


def line(lines, start):
    """The one report line that starts with `start`."""
    found = [text for text in lines if text.startswith(start)]
    assert len(found) == 1, (start, lines)
    return found[0]


def test_status_reports_a_healthy_cluster_reading_only_and_fails_naming_what_is_unhealthy(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    brokers = serve_metrics(kubesim, NS)
    hosts = inventory(tmp_path, kubeconfig, kafka_listeners=[{"name": "plain", "port": 9092, "type": "internal"}, NODEPORT],
                      streams_kafka_external_bootstrap="kafka.east.example.com:9094")

    deployed = run_playbook(tmp_path, hosts)
    assert deployed.rc == 0, deployed.describe()
    # site.yml ends with the same report
    summary = deployed.result_of(SHOW)["msg"]
    assert summary[0] == "dev (cluster dev, namespace kafka): healthy", summary
    assert "controller dev-kafka-0, under-replicated partitions 0" in line(summary, "Kafka:")
    assert deployed.result_of(CHECK)["msg"] == "dev is healthy"

    kubesim.clear_requests()
    healthy = status(tmp_path, hosts)
    assert healthy.rc == 0, healthy.describe()
    lines = healthy.result_of(SHOW)["msg"]
    assert lines[:2] == ["dev (cluster dev, namespace kafka): healthy", "Kafka 3.9.0, metadata in zookeeper"], lines
    assert line(lines, "ZooKeeper:") == ("ZooKeeper:      3/3 ready, leader dev-zookeeper-0; "
                                         "image quay.io/strimzi/kafka:0.45.0-kafka-3.9.0")
    assert line(lines, "Kafka:") == ("Kafka:          3/3 ready, controller dev-kafka-0, under-replicated partitions 0, "
                                     "offline partitions 0; image quay.io/strimzi/kafka:0.45.0-kafka-3.9.0")
    assert line(lines, "bootstrap (internal)") == "bootstrap (internal): dev-kafka-bootstrap.kafka.svc:9092"
    assert line(lines, "bootstrap (external, nodeport") == "bootstrap (external, nodeport external): nodes.example.com:31999"
    assert line(lines, "bootstrap (external, inventory") == \
        "bootstrap (external, inventory streams_kafka_external_bootstrap): kafka.east.example.com:9094"
    assert not [text for text in lines if text.startswith("problem")]
    # the same as data, for AWX (set_stats) and for other tasks (the fact common_status)
    stats = healthy.report["global_custom_stats"]["streams_status"]["dev"]
    assert stats["healthy"] is True and stats["problems"] == [] and "lines" not in stats
    kafka = [c for c in stats["components"] if c["component"] == "kafka"][0]
    assert kafka["controller"] == "dev-kafka-0" and kafka["under_replicated_partitions"] == 0
    assert (kafka["ready_replicas"], kafka["desired_replicas"]) == (3, 3)
    assert stats["bootstrap"]["internal"] == "dev-kafka-bootstrap.kafka.svc:9092"
    # reads only, and in check mode the same
    assert kubesim.writes() == [], kubesim.writes()
    assert not [r for r in kubesim.requests if r["method"] != "GET"]
    assert status(tmp_path, hosts, check=True).rc == 0
    assert kubesim.writes() == []

    # a broker reporting under-replicated partitions fails the host, naming the broker
    brokers[1]["under_replicated"] = 5
    kubesim.clear_requests()
    degraded = status(tmp_path, hosts)
    assert degraded.rc != 0, degraded.describe()
    assert degraded.failures("dev") == [(CHECK, "dev", "dev is not healthy: Kafka: pod dev-kafka-1: 5 under-replicated partition(s)")]
    lines = degraded.result_of(SHOW)["msg"]
    assert lines[0] == "dev (cluster dev, namespace kafka): NOT HEALTHY, 1 problem(s)"
    assert "under-replicated partitions 5" in line(lines, "Kafka:")
    assert line(lines, "problem:") == "problem: Kafka: pod dev-kafka-1: 5 under-replicated partition(s)"
    assert kubesim.writes() == []

    # so does a pod that is not ready; every problem is named
    kubesim.set_pod_behaviour(NS, r"^dev-zookeeper-2$", "never_ready")
    kubesim.wait_for(lambda: not [c for c in kubesim.get("v1", "Pod", NS, "dev-zookeeper-2")["status"]["conditions"]
                                  if c["type"] == "Ready" and c["status"] == "True"])
    both = status(tmp_path, hosts)
    assert both.rc != 0
    msg = both.failures("dev")[0][2]
    assert msg.startswith("dev is not healthy: ZooKeeper: pod dev-zookeeper-2: readiness probe failing"), msg
    assert msg.endswith("; Kafka: pod dev-kafka-1: 5 under-replicated partition(s)"), msg
    assert line(both.result_of(SHOW)["msg"], "ZooKeeper:").startswith("ZooKeeper:      2/3 ready, leader dev-zookeeper-0")
    assert kubesim.writes() == []


def test_status_of_a_cluster_with_nothing_deployed_names_what_is_missing(kubesim, kubeconfig, tmp_path):
    result = status(tmp_path, inventory(tmp_path, kubeconfig, exporter_enabled=True))
    assert result.rc != 0
    lines = result.result_of(SHOW)["msg"]
    assert line(lines, "Kafka:").startswith("Kafka:          -/3 ready, controller none"), lines
    assert line(lines, "Kafka Exporter:").endswith("image none (not deployed)"), lines
    problems = [text for text in lines if text.startswith("problem: ")]
    assert "problem: StatefulSet dev-zookeeper does not exist" in problems, problems
    assert "problem: StatefulSet dev-kafka does not exist" in problems, problems
    assert any(p.startswith("problem: Kafka Exporter: Deployment dev-exporter does not exist") for p in problems), problems
    assert kubesim.writes() == []


def test_status_reports_every_component_when_the_api_refuses_a_read(kubesim, kubeconfig, tmp_path):
    """A gate that cannot read the API fails its task; the report goes on and names it."""
    kubesim.add_fault(method="GET", path_regex=r"/namespaces/kafka/pods$", status=403)
    result = status(tmp_path, inventory(tmp_path, kubeconfig))
    assert result.rc != 0
    assert result.report["stats"]["dev"]["rescued"] == 2, result.report["stats"]
    failed = [task for task, _host, _msg in result.failures("dev")]
    assert failed == ["streams.kafka.common : Look at the ZooKeeper ensemble once",
                      "streams.kafka.common : Look at the Kafka brokers once", CHECK], failed
    msg = result.failures("dev")[-1][2]
    assert "ZooKeeper ensemble dev in namespace kafka cannot be checked: cannot list pods" in msg, msg
    assert "Kafka cluster dev in namespace kafka cannot be checked: cannot list pods" in msg, msg
    assert line(result.result_of(SHOW)["msg"], "Kafka:").startswith("Kafka:          -/3 ready, not checked")


def test_status_in_directory_mode_says_there_is_no_cluster(kubesim, tmp_path):
    hosts = write_inventory(tmp_path / "hosts.yml", {"dev": {"streams_deploy_to": "directory"}})
    result = status(tmp_path, hosts)
    assert result.rc == 0, result.describe()
    msg = result.result_of("streams.kafka.common : Say that directory mode has no cluster to report on")["msg"]
    assert msg.startswith("dev: streams_deploy_to is directory, so there is no cluster to report on"), msg
    assert kubesim.requests == []


def test_site_check_diff_on_a_deployed_cluster_shows_the_change_and_writes_nothing(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve_metrics(kubesim, NS)
    assert run_playbook(tmp_path, inventory(tmp_path, kubeconfig)).rc == 0
    stored = kubesim.get("v1", "ConfigMap", NS, "dev-kafka-config")
    kubesim.clear_requests()

    preview = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, kafka_log_level="DEBUG"), check=True, args=["--diff"])
    assert preview.rc == 0, preview.describe()
    assert kubesim.writes() == [], kubesim.writes()
    assert [r for r in kubesim.requests if r["method"] != "GET"], "the change was not dry-run on the API server"
    applied = preview.result_of(APPLY_KAFKA)
    assert applied["changed"] is True
    actions = {o["object"]: o["action"] for o in applied["objects"]}
    assert actions["kafka/ConfigMap/dev-kafka-config"] == "patched", actions
    diff = json.dumps(applied["diff"])
    assert "kafka/ConfigMap/dev-kafka-config" in diff and "log4j.rootLogger=DEBUG" in diff and "log4j.rootLogger=INFO" in diff
    # nothing else changed: ZooKeeper's objects are unchanged, and the report does not judge
    zookeeper = preview.result_of("streams.kafka.common : Apply the objects of zookeeper")
    assert zookeeper["changed"] is False, zookeeper
    assert preview.result_of(SHOW)["msg"][-1].startswith("check mode: this is the state before this run")
    assert preview.result_of(CHECK).get("skipped") is True
    assert kubesim.get("v1", "ConfigMap", NS, "dev-kafka-config") == stored


def test_site_check_on_a_fresh_cluster_reports_what_it_would_create_and_writes_nothing(kubesim, kubeconfig, tmp_path):
    preview = run_playbook(tmp_path, inventory(tmp_path, kubeconfig), check=True, args=["--diff"])
    assert preview.rc == 0, preview.describe()
    assert kubesim.writes() == []
    assert kubesim.get("v1", "Namespace", None, NS) is None
    would = {}
    for task in ("streams.kafka.common : Apply the objects of namespace", "streams.kafka.common : Apply the objects of zookeeper",
                 APPLY_KAFKA):
        result = preview.result_of(task)
        assert result["changed"] is True, (task, result)
        would.update({o["object"]: o["action"] for o in result["objects"]})
    for obj in ("Namespace/kafka", "kafka/StatefulSet/dev-zookeeper", "kafka/ConfigMap/dev-zookeeper-config",
                "kafka/StatefulSet/dev-kafka", "kafka/Service/dev-kafka-bootstrap"):
        assert would.get(obj) == "created", (obj, would)
    lines = preview.result_of(SHOW)["msg"]
    assert lines[0].startswith("dev (cluster dev, namespace kafka): NOT HEALTHY")
    assert lines[-1].startswith("check mode:")
