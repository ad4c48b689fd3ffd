"""kraft_migration against kubesim: the annotation recorded, read back and refused when a phase
is skipped; check mode writes nothing; wait_migrated reads the controllers' metrics through the
pod proxy."""

import threading

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import kraft_migration as km
from ansible_collections.streams.kafka.plugins.modules import kraft_migration
from tests.helpers import run_tasks

from ..module_utils.test_kraft_migration import controller_text
from .module_run import run_main

NS = "kafka"
STS_PATH = "/apis/apps/v1/namespaces/%s/statefulsets/dev-kafka" % NS


def run(capsys, check_mode=False, diff=False, **args):
    return run_main(kraft_migration, capsys, args, check_mode, diff)


def statefulset(name, component, replicas, annotations=None):
    labels = {"app.kubernetes.io/instance": "dev", "app.kubernetes.io/name": component}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": NS, "labels": labels, "annotations": annotations or {}},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "kafka", "image": "quay.io/strimzi/kafka"}]}}}}


@pytest.fixture(name="cluster")
def cluster_fixture(kubesim, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    kubesim.create(statefulset("dev-kafka", "kafka", 0, {"streams.kafka/metadata-mode": "zookeeper"}))
    return kubesim


def annotation(sim):
    return (sim.get("apps/v1", "StatefulSet", NS, "dev-kafka")["metadata"].get("annotations") or {}).get(km.ANNOTATION)


def test_record_then_query(cluster, kubeconfig, capsys):
    base = dict(kubeconfig=kubeconfig, namespace=NS, cluster_name="dev")
    start = run(capsys, **base)
    assert start["_rc"] == 0 and not start["changed"], start
    assert start["phase"] is None and start["next_phase"] == "controllers" and start["rollback_possible"] is True
    assert [step["phase"] for step in start["plan"]] == list(km.PHASES) and start["rollback"] == []
    assert start["statefulset"] == "dev-kafka" and start["metadata_mode"] == "zookeeper"
    cluster.clear_requests()
    recorded = run(capsys, state="record", phase="controllers", diff=True, **base)
    assert recorded["_rc"] == 0 and recorded["changed"] is True, recorded
    assert recorded["phase"] == "controllers" and recorded["previous_phase"] is None
    assert recorded["next_phase"] == "brokers-migrating"
    assert recorded["diff"] == {"before": {"phase": None}, "after": {"phase": "controllers"}}
    assert annotation(cluster) == "controllers"
    writes = cluster.writes()
    assert [(w["method"], w["path"], w["content_type"].split(";")[0]) for w in writes] == [
        ("PATCH", STS_PATH, "application/merge-patch+json")]
    assert writes[0]["query"].get("fieldManager") == km.FIELD_MANAGER
    # the annotation patch leaves the other annotations alone
    sts = cluster.get("apps/v1", "StatefulSet", NS, "dev-kafka")
    assert sts["metadata"]["annotations"]["streams.kafka/metadata-mode"] == "zookeeper"
    after = run(capsys, **base)
    assert after["phase"] == "controllers" and after["next_phase"] == "brokers-migrating"
    assert after["rollback"][0].startswith("delete the KRaft controllers: StatefulSet dev-kafka-controller,")
    assert [step["phase"] for step in after["plan"]] == list(km.PHASES[1:])


def test_a_skip_is_refused_and_nothing_written(cluster, kubeconfig, capsys):
    base = dict(kubeconfig=kubeconfig, namespace=NS, cluster_name="dev")
    assert run(capsys, state="record", phase="controllers", **base)["changed"]
    cluster.clear_requests()
    refused = run(capsys, state="record", phase="brokers-kraft", **base)
    assert refused["_rc"] == 1 and refused["failed"]
    assert refused["msg"] == ("cannot record phase brokers-kraft: the migration is at controllers, and phase "
                              "brokers-migrating must come first")
    assert cluster.writes() == [] and annotation(cluster) == "controllers"
    missing = run(capsys, state="record", **base)
    assert missing["_rc"] == 1 and "state is record but all of the following are missing: phase" in missing["msg"]


def test_record_is_idempotent(cluster, kubeconfig, capsys):
    base = dict(kubeconfig=kubeconfig, namespace=NS, cluster_name="dev", state="record")
    assert run(capsys, phase="controllers", **base)["changed"]
    assert run(capsys, phase="brokers-migrating", **base)["changed"]
    cluster.clear_requests()
    again = run(capsys, phase="brokers-migrating", **base)
    assert again["_rc"] == 0 and again["changed"] is False and again["phase"] == "brokers-migrating"
    assert again["previous_phase"] == "brokers-migrating"
    assert cluster.writes() == [] and annotation(cluster) == "brokers-migrating"


def test_check_mode_writes_nothing(cluster, kubeconfig, capsys):
    base = dict(kubeconfig=kubeconfig, namespace=NS, cluster_name="dev", state="record")
    cluster.clear_requests()
    would = run(capsys, phase="controllers", check_mode=True, **base)
    assert would["_rc"] == 0 and would["changed"] is True, would
    assert would["phase"] == "controllers" and would["previous_phase"] is None
    assert cluster.writes() == [] and not any(r["method"] == "PATCH" for r in cluster.requests)
    assert annotation(cluster) is None
    # and it still refuses a skip
    refused = run(capsys, phase="brokers-migrating", check_mode=True, **base)
    assert refused["_rc"] == 1 and "phase controllers must come first" in refused["msg"]


def test_a_missing_cluster_and_a_kraft_cluster_are_refused(cluster, kubeconfig, capsys):
    gone = run(capsys, kubeconfig=kubeconfig, namespace=NS, cluster_name="other")
    assert gone["_rc"] == 1 and gone["msg"] == ("StatefulSet kafka/other-kafka does not exist: there is no Kafka "
                                                "cluster other to migrate")
    cluster.create(dict(statefulset("new-kafka", "kafka", 0, {"streams.kafka/metadata-mode": "kraft"})))
    kraft = run(capsys, kubeconfig=kubeconfig, namespace=NS, cluster_name="new", state="record", phase="controllers")
    assert kraft["_rc"] == 1 and "runs in KRaft mode (streams.kafka/metadata-mode: kraft)" in kraft["msg"]


def test_a_concurrent_change_is_not_overwritten(cluster, kubeconfig, capsys):
    """The patch carries the resourceVersion read: a 409 means someone else wrote, and the rule is checked again."""
    base = dict(kubeconfig=kubeconfig, namespace=NS, cluster_name="dev", state="record")
    cluster.add_fault(method="PATCH", path_regex=STS_PATH + "$", status=409, times=1)
    result = run(capsys, phase="controllers", **base)
    assert result["_rc"] == 0 and result["changed"] and annotation(cluster) == "controllers"
    patches = [r for r in cluster.requests if r["method"] == "PATCH"]
    assert [r["status"] for r in patches] == [409, 200]


def controllers(sim, states):
    """Three ready controller pods; controller 0 is active and reports `states` in turn (the last one repeated)."""
    sim.create(statefulset("dev-kafka-controller", "kafka-controller", 3))
    assert sim.wait_for(lambda: len([p for p in sim.objects("v1", "Pod", NS)
                                     if p["metadata"]["name"].startswith("dev-kafka-controller-")
                                     and (p.get("status") or {}).get("phase") == "Running"]) == 3, timeout=10)
    lock, asked = threading.Lock(), []

    def active(_method, _path, _query, _body):
        with lock:
            asked.append(1)
            state = states[min(len(asked), len(states)) - 1]
        return 200, {"Content-Type": "text/plain; version=0.0.4"}, controller_text(active=True, state=state)

    def follower(_method, _path, _query, _body):
        return 200, {"Content-Type": "text/plain; version=0.0.4"}, controller_text(state=states[0])

    sim.route_proxy_handler(NS, "dev-kafka-controller-0", 9404, active)
    for ordinal in (1, 2):
        sim.route_proxy_handler(NS, "dev-kafka-controller-%d" % ordinal, 9404, follower)
    return asked


def test_wait_migrated_passes_when_the_state_moves_from_2_to_1(cluster, kubeconfig, capsys):
    asked = controllers(cluster, [km.PRE_MIGRATION, km.PRE_MIGRATION, km.MIGRATION])
    result = run(capsys, kubeconfig=kubeconfig, namespace=NS, cluster_name="dev", state="wait_migrated", timeout=30)
    assert result["_rc"] == 0 and result["migrated"] is True and result["changed"] is False, result
    assert result["active_controller"] == "dev-kafka-controller-0"
    assert result["migration_state"] == 1 and result["migration_state_name"] == "MIGRATION"
    assert result["finalized"] is False and result["rollback_possible"] is True
    assert len(asked) == 3
    assert cluster.writes() == []


def test_wait_migrated_fails_on_timeout_naming_the_pod(cluster, kubeconfig, capsys):
    controllers(cluster, [km.PRE_MIGRATION])
    result = run(capsys, kubeconfig=kubeconfig, namespace=NS, cluster_name="dev", state="wait_migrated", timeout=1)
    assert result["_rc"] == 1 and result["failed"]
    assert result["msg"] == ("the ZooKeeper migration of Kafka cluster dev in namespace kafka is not done after 1s: "
                             "active controller dev-kafka-controller-0 reports PRE_MIGRATION (2): the controllers wait "
                             "for every broker to register with migration enabled")
    assert result["migration_state"] == 2 and result["migrated"] is False


def test_wait_migrated_in_check_mode_reads_once(cluster, kubeconfig, capsys):
    asked = controllers(cluster, [km.PRE_MIGRATION])
    result = run(capsys, kubeconfig=kubeconfig, namespace=NS, cluster_name="dev", state="wait_migrated", timeout=300,
                 check_mode=True)
    assert result["_rc"] == 0 and result["migrated"] is False and result["waited"] == 0
    assert len(asked) == 1


def test_as_ansible_runs_it_with_the_action_group(cluster, kubeconfig, tmp_path):
    """Through ansible-playbook: module_defaults of group/streams.kafka.k8s reach it; --check writes nothing."""
    tasks = [{"name": "Record", "module_defaults": {"group/streams.kafka.k8s": {"kubeconfig": kubeconfig}},
              "streams.kafka.kraft_migration": {"namespace": NS, "cluster_name": "dev", "state": "record",
                                                "phase": "controllers"}}]
    cluster.clear_requests()
    checked = run_tasks(tmp_path, tasks, check=True)
    assert checked.rc == 0, checked.describe()
    assert checked.result_of("Record")["changed"] is True and cluster.writes() == [] and annotation(cluster) is None
    applied = run_tasks(tmp_path, tasks)
    assert applied.rc == 0, applied.describe()
    assert applied.result_of("Record")["changed"] is True and annotation(cluster) == "controllers"


def test_the_roles_apply_keeps_the_annotation(kubesim, kubeconfig, capsys, tmp_path, monkeypatch):
    """The roles deliver with manifest_apply (client-side, from the last-applied annotation): a later
    apply that changes the StatefulSet does not remove the annotation it never set."""
    from ansible_collections.streams.kafka.plugins.module_utils import manifest_apply  # pylint: disable=import-outside-toplevel
    from tests.helpers import object_api  # pylint: disable=import-outside-toplevel

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    api = object_api(kubeconfig)
    desired = statefulset("dev-kafka", "kafka", 0, {"streams.kafka/metadata-mode": "zookeeper"})
    assert manifest_apply.apply_one(api, desired)[0] == "created"
    assert run(capsys, kubeconfig=kubeconfig, namespace=NS, cluster_name="dev", state="record", phase="controllers")["changed"]
    changed = dict(desired, spec=dict(desired["spec"], replicas=1))
    assert manifest_apply.apply_one(api, changed)[0] == "patched"
    live = kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka")
    assert live["spec"]["replicas"] == 1 and annotation(kubesim) == "controllers"


def test_revert_steps_back_once_removes_the_annotation_and_refuses_out_of_order(cluster, kubeconfig, capsys):
    base = dict(kubeconfig=kubeconfig, namespace=NS, cluster_name="dev")
    for phase in ("controllers", "brokers-migrating", "brokers-kraft"):
        assert run(capsys, state="record", phase=phase, **base)["changed"]
    cluster.clear_requests()
    early = run(capsys, state="revert", phase="brokers-migrating", **base)
    assert early["_rc"] == 1 and early["msg"] == ("cannot undo phase brokers-migrating: the migration is at phase "
                                                  "brokers-kraft, which must be undone first")
    assert cluster.writes() == []
    back = run(capsys, state="revert", phase="brokers-kraft", diff=True, **base)
    assert back["changed"] and back["phase"] == "brokers-migrating" and back["previous_phase"] == "brokers-kraft"
    assert back["diff"] == {"before": {"phase": "brokers-kraft"}, "after": {"phase": "brokers-migrating"}}
    assert annotation(cluster) == "brokers-migrating"
    assert not run(capsys, state="revert", phase="brokers-kraft", **base)["changed"]
    gone = run(capsys, state="revert", phase="brokers-migrating", **base)
    assert gone["changed"] and gone["phase"] is None and annotation(cluster) is None
    sts = cluster.get("apps/v1", "StatefulSet", NS, "dev-kafka")
    assert km.ANNOTATION not in sts["metadata"]["annotations"]
    assert sts["metadata"]["annotations"]["streams.kafka/metadata-mode"] == "zookeeper"
    assert [w["method"] for w in cluster.writes()] == ["PATCH", "PATCH"]


def test_revert_is_refused_once_finalized(cluster, kubeconfig, capsys):
    base = dict(kubeconfig=kubeconfig, namespace=NS, cluster_name="dev")
    for phase in km.PHASES[:4]:
        assert run(capsys, state="record", phase=phase, **base)["changed"]
    cluster.clear_requests()
    refused = run(capsys, state="revert", phase="controllers-kraft", **base)
    assert refused["_rc"] == 1 and refused["msg"].startswith("cannot undo phase controllers-kraft: phases are undone only before")
    assert cluster.writes() == [] and annotation(cluster) == "controllers-kraft"
