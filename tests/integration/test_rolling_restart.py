"""playbooks/rolling_restart.yml against kubesim: restarts without a config change.

ZooKeeper, Kafka and the Kafka Exporter are deployed with site.yml, served as in
test_zookeeper_roll.py (AdminServer, pod 0 the leader), test_kafka_roll.py (topic orders, 6
partitions on the 3 brokers, broker 0 the active controller) and test_stack_playbooks.py (the
exporter's recorded metrics). The request log shows what the restart wrote and deleted, and when.
"""

import pytest

from tests.helpers import REPO, run_playbook
from tests.integration.test_kafka_playbook import NS, inventory
from tests.integration.test_kafka_roll import serve, under_replicated_once_restarted
from tests.integration.test_stack_playbooks import exporter_metrics
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.integration.test_zookeeper_roll import deletes

RESTART = REPO / "playbooks" / "rolling_restart.yml"
ANNOTATION = "streams.kafka/restart"
KAFKA_ROLL = "streams.kafka.kafka : Restart outdated Kafka brokers safely"
KAFKA_REPORT = "streams.kafka.kafka : Report the restart of the Kafka brokers"
ZOOKEEPER_REPORT = "streams.kafka.zookeeper : Report the restart of the ZooKeeper members"
EXPORTER_REPORT = "streams.kafka.exporter : Report the restart of the Kafka Exporter"
EXPORTER_GATE = "streams.kafka.exporter : Wait for the Kafka Exporter to see every broker"
COMPONENTS_CHECK = "Check streams_restart_components"
BROKERS = ["dev-kafka-0", "dev-kafka-1", "dev-kafka-2"]


def deploy(kubesim, kubeconfig, tmp_path, **variables):
    serve_admin(kubesim)
    state = serve(kubesim)
    kubesim.route_proxy_pattern(NS, r"dev-exporter-.*", 9404, exporter_metrics)
    hosts = inventory(tmp_path, kubeconfig, **dict({"kafka_roll_timeout": 30, "zookeeper_roll_timeout": 30}, **variables))
    first = run_playbook(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    return hosts, state


def restart(tmp_path, hosts, restart_id, components=None, **kwargs):
    extra = {"streams_restart_id": restart_id}
    if components is not None:
        extra["streams_restart_components"] = components
    extra.update(kwargs.pop("extra_vars", {}))
    return run_playbook(tmp_path, hosts, playbook=RESTART, extra_vars=extra, **kwargs)


def template_annotations(kubesim, kind, name):
    return kubesim.get("apps/v1", kind, NS, name)["spec"]["template"]["metadata"].get("annotations") or {}


def pods(kubesim, prefix):
    return sorted(p["metadata"]["name"] for p in kubesim.objects("v1", "Pod", NS) if p["metadata"]["name"].startswith(prefix))


@pytest.mark.parametrize("kubesim", [0.5], indirect=True)
def test_restart_rolls_the_chosen_components_safely_and_site_keeps_it(kubesim, kubeconfig, tmp_path):
    hosts, _state = deploy(kubesim, kubeconfig, tmp_path, exporter_enabled=True, exporter_ready_timeout=30)
    zookeeper_uids = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kubesim.objects("v1", "Pod", NS)
                      if p["metadata"]["name"].startswith("dev-zookeeper-")}
    exporter_pods = pods(kubesim, "dev-exporter-")

    # check mode: every enabled component, nothing written, the plan named
    kubesim.clear_requests()
    preview = restart(tmp_path, hosts, "r0", check=True)
    assert preview.rc == 0, preview.describe()
    assert kubesim.writes() == [], kubesim.writes()
    assert preview.result_of(KAFKA_REPORT)["msg"] == (
        "Would set streams.kafka/restart=r0 on the pod template of StatefulSet dev-kafka and restart its 3 brokers one at a "
        "time, each behind the gate: dev-kafka-1, dev-kafka-2, dev-kafka-0 (the active controller last).")
    assert "restart its 3 members one at a time, each behind the gate: dev-zookeeper-1, dev-zookeeper-2, dev-zookeeper-0 " \
        "(the leader last)" in preview.result_of(ZOOKEEPER_REPORT)["msg"]
    assert preview.result_of(EXPORTER_REPORT)["msg"].startswith(
        "Would set streams.kafka/restart=r0 on the pod template of Deployment dev-exporter")

    # Kafka only: the three brokers, one at a time, the controller last; ZooKeeper untouched
    kubesim.clear_requests()
    run = restart(tmp_path, hosts, "r1", ["kafka"])
    assert run.rc == 0, run.describe()
    order = [pod for _t, pod in deletes(kubesim)]
    assert order == ["dev-kafka-1", "dev-kafka-2", "dev-kafka-0"], order
    assert [r["pod"] for r in run.result_of(KAFKA_ROLL)["restarted"]] == order
    ready = kubesim.pod_ready_times()
    times = deletes(kubesim)
    for (_t, previous), (later, _pod) in zip(times, times[1:]):
        assert ready[NS + "/" + previous] < later, (previous, ready[NS + "/" + previous], later)
    patches = [w for w in kubesim.writes() if w["method"] == "PATCH"]
    assert [(w["path"].rsplit("/", 1)[1], w["content_type"]) for w in patches] == [
        ("dev-kafka", "application/merge-patch+json")], patches
    assert all(w["method"] == "DELETE" for w in kubesim.writes() if w not in patches)
    assert template_annotations(kubesim, "StatefulSet", "dev-kafka")[ANNOTATION] == "r1"
    assert ANNOTATION not in template_annotations(kubesim, "StatefulSet", "dev-zookeeper")
    assert {name: kubesim.get("v1", "Pod", NS, name)["metadata"]["uid"] for name in zookeeper_uids} == zookeeper_uids
    assert run.result_of(KAFKA_REPORT)["msg"].startswith(
        "Restarted dev-kafka-1, dev-kafka-2, dev-kafka-0 one at a time, the active controller last (StatefulSet dev-kafka, "
        "streams.kafka/restart=r1).")
    ran = [task for task, _host, _result in run.results("dev")]
    assert not [task for task in ran if task.startswith(("streams.kafka.zookeeper", "streams.kafka.exporter"))], ran

    # a Deployment, chosen by tag: Kubernetes replaces its pod behind the exporter's gate
    kubesim.clear_requests()
    tagged = restart(tmp_path, hosts, "r2", args=["--tags", "exporter"])
    assert tagged.rc == 0, tagged.describe()
    assert [(w["method"], w["path"].rsplit("/", 1)[1]) for w in kubesim.writes()] == [("PATCH", "dev-exporter")]
    assert template_annotations(kubesim, "Deployment", "dev-exporter")[ANNOTATION] == "r2"
    assert template_annotations(kubesim, "StatefulSet", "dev-kafka")[ANNOTATION] == "r1"
    gate = tagged.result_of(EXPORTER_GATE)
    assert gate["ready"] is True and gate["deployment"]["updated"] == 1, gate
    assert list(gate["pods"]) != exporter_pods and pods(kubesim, "dev-exporter-") == list(gate["pods"])
    assert tagged.result_of(EXPORTER_REPORT)["msg"].startswith(
        "Set streams.kafka/restart=r2 on the pod template of Deployment dev-exporter: Kubernetes replaced its 1 pod(s)")

    # site.yml leaves the annotations alone: nothing written, nothing restarted
    kubesim.clear_requests()
    again = run_playbook(tmp_path, hosts)
    assert again.rc == 0, again.describe()
    assert kubesim.writes() == [] and deletes(kubesim) == [], kubesim.writes()
    assert template_annotations(kubesim, "StatefulSet", "dev-kafka")[ANNOTATION] == "r1"
    assert template_annotations(kubesim, "Deployment", "dev-exporter")[ANNOTATION] == "r2"


def test_interrupted_restart_resumes_without_marking_again(kubesim, kubeconfig, tmp_path):
    hosts, state = deploy(kubesim, kubeconfig, tmp_path)
    # once broker 1 restarted, a partition stays under-replicated: the restart stops there
    disarm = under_replicated_once_restarted(kubesim, state)
    kubesim.clear_requests()
    stopped = restart(tmp_path, hosts, "r1", ["kafka"], extra_vars={"kafka_roll_timeout": 4})
    assert stopped.rc != 0
    assert [pod for _t, pod in deletes(kubesim)] == ["dev-kafka-1"]

    disarm()
    kubesim.clear_requests()
    preview = restart(tmp_path, hosts, "r2", ["kafka"], check=True)
    assert preview.rc == 0, preview.describe()
    assert kubesim.writes() == []
    assert preview.result_of(KAFKA_REPORT)["msg"] == (
        "Would resume the unfinished roll of StatefulSet dev-kafka (its pod template is left as it is): dev-kafka-2, "
        "dev-kafka-0, in this order.")

    kubesim.clear_requests()
    resumed = restart(tmp_path, hosts, "r2", ["kafka"])
    assert resumed.rc == 0, resumed.describe()
    assert [pod for _t, pod in deletes(kubesim)] == ["dev-kafka-2", "dev-kafka-0"]
    assert [w for w in kubesim.writes() if w["method"] != "DELETE"] == []
    assert template_annotations(kubesim, "StatefulSet", "dev-kafka")[ANNOTATION] == "r1"
    assert resumed.result_of(KAFKA_REPORT)["msg"].startswith(
        "Resumed the unfinished roll of StatefulSet dev-kafka (its pod template is left as it is): dev-kafka-2, dev-kafka-0.")


@pytest.mark.parametrize("components, named", [
    (["kafka", "brokers"], '["kafka", "brokers"] is not valid: use a list of components to restart, and "brokers" is not '
                           'a component.'),
    ("kafka", '"kafka" is not valid: use a list of components to restart.'),
])
def test_unknown_component_is_refused_before_any_request(kubesim, kubeconfig, tmp_path, components, named):
    run = restart(tmp_path, inventory(tmp_path, kubeconfig), "r1", components)
    assert run.rc != 0
    assert [(task, msg) for task, _host, msg in run.failures()] == [(COMPONENTS_CHECK, (
        "streams_restart_components=" + named + " Valid names: zookeeper, kafka, connect, mirrormaker, bridge, exporter "
        "(they restart in this order). Example: -e '{\"streams_restart_components\": [\"kafka\"]}'; leave it unset for "
        "every enabled component."))], run.describe()
    assert kubesim.requests == []


def test_directory_mode_is_refused(kubesim, kubeconfig, tmp_path):
    run = restart(tmp_path, inventory(tmp_path, kubeconfig, streams_deploy_to="directory"), "r1")
    assert run.rc != 0
    msg = [m for task, _h, m in run.failures() if task == "Check the host deploys to a cluster"][0]
    assert msg.startswith("streams_deploy_to=directory for dev: a rolling restart needs a cluster"), msg
    assert kubesim.requests == []
