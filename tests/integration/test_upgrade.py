"""playbooks/upgrade.yml against kubesim: Kafka 3.8.0 -> 3.9.0 in two phases, and the refusals."""

from tests.helpers import REPO, run_playbook
from tests.integration.test_kafka_playbook import NS, inventory
from tests.integration.test_kafka_roll import serve, when
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.integration.test_zookeeper_roll import deletes

UPGRADE = REPO / "playbooks" / "upgrade.yml"
VERSION_CHECK = "streams.kafka.kafka : Check the Kafka version and protocol change"
OLD = {"streams_kafka_version": "3.8.0", "kafka_image": "quay.io/strimzi/kafka:0.43.0-kafka-3.8.0"}
NEW = {"streams_kafka_version": "3.9.0", "kafka_image": "quay.io/strimzi/kafka:0.45.0-kafka-3.9.0", "kafka_roll_timeout": 30}


def protocol(kubesim):
    properties = kubesim.get("v1", "ConfigMap", NS, "dev-kafka-config")["data"]["server.properties"]
    return [line for line in properties.splitlines() if line.startswith("inter.broker.protocol.version=")][0].split("=")[1]


def image(kubesim, pod):
    return kubesim.get("v1", "Pod", NS, pod)["spec"]["containers"][0]["image"]


def deploy_old(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve(kubesim)
    first = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, **OLD))
    assert first.rc == 0, first.describe()
    assert protocol(kubesim) == "3.8"
    annotations = kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka")["metadata"]["annotations"]
    assert annotations["streams.kafka/kafka-version"] == "3.8.0"
    assert annotations["streams.kafka/inter-broker-protocol-version"] == "3.8"


def test_site_refuses_skipping_the_first_phase_and_upgrade_does_both_in_order(kubesim, kubeconfig, tmp_path):
    deploy_old(kubesim, kubeconfig, tmp_path)
    hosts = inventory(tmp_path, kubeconfig, **NEW)

    kubesim.clear_requests()
    skipped = run_playbook(tmp_path, hosts)
    assert skipped.rc != 0
    msg = [m for task, _h, m in skipped.failures() if task == VERSION_CHECK][0]
    assert "streams_kafka_version 3.8.0 -> 3.9.0 together with inter.broker.protocol.version 3.8 -> 3.9 skips the first upgrade phase" in msg, msg
    assert "Run playbooks/upgrade.yml" in msg
    assert kubesim.writes() == []

    # what each broker runs when phase 1 restarts the first one: new image, old protocol
    seen = {}
    when(lambda: deletes(kubesim), lambda: seen.update(protocol=protocol(kubesim)))
    kubesim.clear_requests()
    run = run_playbook(tmp_path, hosts, playbook=UPGRADE)
    assert run.rc == 0, run.describe()
    assert seen == {"protocol": "3.8"}
    rolls = [result for task, _h, result in run.results() if task == "streams.kafka.kafka : Restart outdated Kafka brokers safely"]
    assert [[r["pod"] for r in roll["restarted"]] for roll in rolls] == [["dev-kafka-1", "dev-kafka-2", "dev-kafka-0"]] * 2
    assert protocol(kubesim) == "3.9"
    assert {image(kubesim, "dev-kafka-%d" % i) for i in range(3)} == {NEW["kafka_image"]}
    # the second phase came after every broker of the first was back
    times = [t for t, _pod in deletes(kubesim)]
    assert len(times) == 6

    kubesim.clear_requests()
    again = run_playbook(tmp_path, hosts)
    assert again.rc == 0, again.describe()
    assert kubesim.writes() == [] and deletes(kubesim) == []


def test_downgrade_below_the_running_protocol_is_refused(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve(kubesim)
    first = run_playbook(tmp_path, inventory(tmp_path, kubeconfig))
    assert first.rc == 0, first.describe()

    kubesim.clear_requests()
    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, **OLD))
    assert run.rc != 0
    msg = [m for task, _h, m in run.failures() if task == VERSION_CHECK][0]
    assert "streams_kafka_version=3.8.0 is a downgrade from the running 3.9.0, whose inter.broker.protocol.version is already 3.9" in msg, msg
    upgrade = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, **OLD), playbook=UPGRADE)
    assert upgrade.rc != 0
    assert "is older than the running 3.9.0: upgrade.yml only moves forward" in [m for _t, _h, m in upgrade.failures()][0]
    assert kubesim.writes() == []
