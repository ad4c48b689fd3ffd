"""playbooks/migrate_to_kraft.yml against kubesim: a ZooKeeper-mode cluster moved to KRaft in its
five phases, resumed after an interruption, rolled back from dual-write, and what preflight refuses.

The controllers answer with a scripted quorum (tests/kafka_metrics.py serve_quorum) whose
ZkMigrationState is PRE_MIGRATION (2) until every broker restarted with migration enabled, then
MIGRATION (1), and POST_MIGRATION (3) once the controllers restarted out of migration mode.
"""

import pytest

from tests.helpers import REPO, run_playbook, run_tasks
from tests.integration.test_kafka_playbook import NS, inventory
from tests.integration.test_kafka_roll import serve, when
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.integration.test_zookeeper_roll import deletes
from tests.kafka_metrics import serve_quorum

MIGRATE = REPO / "playbooks" / "migrate_to_kraft.yml"
ROLLBACK = REPO / "playbooks" / "rollback_kraft_migration.yml"
CLUSTER_ID = "MkU3OEVBNTcwNTJENDM2Qg"
ANNOTATION = "streams.kafka/kraft-migration"
BROKERS = ["dev-kafka-0", "dev-kafka-1", "dev-kafka-2"]
CONTROLLERS = ["dev-kafka-controller-0", "dev-kafka-controller-1", "dev-kafka-controller-2"]


def migration(tmp_path, kubeconfig, **variables):
    settings = {"kafka_cluster_id": CLUSTER_ID, "kafka_roll_timeout": 30, "kafka_migration_timeout": 20}
    settings.update(variables)
    return inventory(tmp_path, kubeconfig, **settings)


def phase(kubesim):
    statefulset = kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka")
    return (statefulset["metadata"].get("annotations") or {}).get(ANNOTATION)


def deploy_zookeeper_mode(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve(kubesim)
    first = run_playbook(tmp_path, inventory(tmp_path, kubeconfig))
    assert first.rc == 0, first.describe()


def script_quorum(kubesim):
    """The quorum: PRE_MIGRATION until every broker restarted after the controllers exist, then
    MIGRATION; POST_MIGRATION once every controller restarted."""
    quorum = serve_quorum(kubesim, NS, leader=1, voters=dict((i, {"zk_migration_state": 2}) for i in range(3)))

    def set_state(value):
        for voter in quorum.values():
            voter["zk_migration_state"] = value

    def restarted(pods):
        return lambda: set(pods) <= {pod for _t, pod in deletes(kubesim)}

    when(restarted(BROKERS), lambda: set_state(1))
    when(restarted(CONTROLLERS), lambda: set_state(3))
    return quorum, set_state


def properties(kubesim, configmap, key):
    return kubesim.get("v1", "ConfigMap", NS, configmap)["data"][key]


@pytest.mark.parametrize("kubesim", [0.5], indirect=True)
def test_migration_runs_the_phases_in_order_and_site_then_writes_nothing(kubesim, kubeconfig, tmp_path):
    deploy_zookeeper_mode(kubesim, kubeconfig, tmp_path)
    hosts = migration(tmp_path, kubeconfig)

    # --check: the plan, nothing written
    kubesim.clear_requests()
    plan = run_playbook(tmp_path, hosts, playbook=MIGRATE, check=True)
    assert plan.rc == 0, plan.describe()
    assert kubesim.writes() == [], kubesim.writes()
    message = plan.result_of("Show the plan")["msg"]
    positions = [message.index(p + ":") for p in ("controllers", "brokers-migrating", "brokers-kraft", "controllers-kraft",
                                                  "zookeeper-removed")]
    assert positions == sorted(positions), message
    assert "not started" in message and "would run" in message, message

    script_quorum(kubesim)
    kubesim.clear_requests()
    # without kafka_migration_finalize it stops in dual-write, before the point of no return
    dual = run_playbook(tmp_path, hosts, playbook=MIGRATE)
    assert dual.rc == 0, dual.describe()
    assert phase(kubesim) == "brokers-kraft"
    assert "playbooks/rollback_kraft_migration.yml" in dual.result_of("Say how to finalize or roll back")["msg"]
    assert sorted(pod for _t, pod in deletes(kubesim)) == sorted(BROKERS * 2)
    assert "zookeeper.metadata.migration.enable=true" in properties(kubesim, "dev-kafka-controller-config", "controller.properties")
    run = run_playbook(tmp_path, migration(tmp_path, kubeconfig, kafka_migration_finalize=True), playbook=MIGRATE)
    assert run.rc == 0, run.describe()
    assert phase(kubesim) == "zookeeper-removed"

    order = [pod for _t, pod in deletes(kubesim)]
    # phase 2 rolls the brokers, phase 3 again, phase 4 the controllers (followers, the leader last)
    assert sorted(order[0:3]) == BROKERS and sorted(order[3:6]) == BROKERS, order
    assert order[6:] == ["dev-kafka-controller-0", "dev-kafka-controller-2", "dev-kafka-controller-1"], order
    writes = kubesim.writes()
    created_controllers = min(i for i, w in enumerate(writes) if w["method"] == "POST" and (w["name"] or "") == "dev-kafka-controller")
    first_delete = min(i for i, w in enumerate(writes) if w["method"] == "DELETE" and "/pods/" in w["path"])
    zookeeper_deleted = min(i for i, w in enumerate(writes) if w["method"] == "DELETE" and "dev-zookeeper" in w["path"])
    assert created_controllers < first_delete < zookeeper_deleted
    # kraft_migration records under its own field manager
    records = [i for i, w in enumerate(writes) if w["method"] == "PATCH" and w["path"].endswith("/statefulsets/dev-kafka")
               and w["query"].get("fieldManager") == "streams.kafka-kraft-migration"]
    assert len(records) == 5, records
    # each phase recorded after its work: controllers before any broker restarts, the last after ZooKeeper went
    assert created_controllers < records[0] < first_delete and records[4] > zookeeper_deleted, (records, writes)

    assert kubesim.get("apps/v1", "StatefulSet", NS, "dev-zookeeper") is None
    claims = [c for c in kubesim.objects("v1", "PersistentVolumeClaim", NS) if "zookeeper" in c["metadata"]["name"]]
    assert claims, "ZooKeeper's volumes are kept unless kafka_migration_delete_zookeeper_volumes is true"

    brokers = kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka")
    assert brokers["metadata"]["annotations"]["streams.kafka/metadata-mode"] == "kraft"
    server = properties(kubesim, "dev-kafka-config", "server.properties")
    assert "process.roles=broker" in server and "zookeeper." not in server
    controller = properties(kubesim, "dev-kafka-controller-config", "controller.properties")
    assert "zookeeper" not in controller
    assert properties(kubesim, "dev-kafka-kraft", "cluster.id") == CLUSTER_ID

    # the inventory switched to KRaft: site.yml converges without a write or a restart
    kubesim.clear_requests()
    again = run_playbook(tmp_path, migration(tmp_path, kubeconfig, streams_metadata_mode="kraft"))
    assert again.rc == 0, again.describe()
    assert kubesim.writes() == [], kubesim.writes()

    # no way back once finalized: the rollback is refused before any write
    refused = run_playbook(tmp_path, migration(tmp_path, kubeconfig), playbook=ROLLBACK)
    assert refused.rc != 0
    message = " ".join(m for _t, _h, m in refused.failures("dev"))
    assert "dev cannot go back to ZooKeeper: the migration is recorded at phase zookeeper-removed" in message, message
    assert kubesim.writes() == []

    # a re-run of the migration has nothing left to do
    done = run_playbook(tmp_path, migration(tmp_path, kubeconfig, streams_metadata_mode="kraft"), playbook=MIGRATE)
    assert done.rc == 0, done.describe()
    assert "complete" in done.result_of("Show the plan")["msg"]
    assert kubesim.writes() == []


@pytest.mark.parametrize("kubesim", [0.5], indirect=True)
def test_interrupted_in_phase_two_resumes_there_without_redoing_phase_one(kubesim, kubeconfig, tmp_path):
    deploy_zookeeper_mode(kubesim, kubeconfig, tmp_path)
    quorum = serve_quorum(kubesim, NS, leader=1, voters=dict((i, {"zk_migration_state": 2}) for i in range(3)))
    hosts = migration(tmp_path, kubeconfig, kafka_migration_timeout=3)

    stuck = run_playbook(tmp_path, hosts, playbook=MIGRATE)
    assert stuck.rc != 0
    failures = stuck.failures("dev")
    assert [task for task, _h, _m in failures] == ["Wait until the controllers have copied ZooKeeper's metadata"], stuck.describe()
    assert "PRE_MIGRATION" in failures[0][2], failures[0][2]
    assert phase(kubesim) == "controllers"

    for voter in quorum.values():
        voter["zk_migration_state"] = 1
    when(lambda: set(CONTROLLERS) <= {pod for _t, pod in deletes(kubesim)},
         lambda: [voter.update(zk_migration_state=3) for voter in quorum.values()])
    kubesim.clear_requests()
    resumed = run_playbook(tmp_path, migration(tmp_path, kubeconfig, kafka_migration_finalize=True), playbook=MIGRATE)
    assert resumed.rc == 0, resumed.describe()
    assert "phase controllers done" in resumed.result_of("Show the plan")["msg"]
    # the re-run started at phase 2: the controllers were neither created again nor changed before phase 4, and the
    # brokers, rolled by the interrupted run, were not rolled again in phase 2 (only into KRaft mode in phase 3)
    writes = kubesim.writes()
    assert not [w for w in writes if w["method"] == "POST" and (w["name"] or "").startswith("dev-kafka-controller")]
    order = [pod for _t, pod in deletes(kubesim)]
    assert sorted(order[:3]) == BROKERS and sorted(order[3:]) == CONTROLLERS, order
    assert phase(kubesim) == "zookeeper-removed"


def test_preflight_refuses_kafka_38_and_combined_controllers(kubesim, kubeconfig, tmp_path):
    deploy_zookeeper_mode(kubesim, kubeconfig, tmp_path)
    for variables, fragment in (
            ({"streams_kafka_version": "3.8.0", "kafka_image": "quay.io/strimzi/kafka:0.45.0-kafka-3.8.0"},
             "streams_kafka_version='3.8.0': the migration runs on Kafka 3.9.x only"),
            ({"kafka_controller_mode": "combined"}, "kafka_controller_mode='combined': the migration needs dedicated controllers"),
            ({"streams_metadata_mode": "kraft"}, "set it back to 'zookeeper'"),
            ({"kafka_cluster_id": ""}, "set kafka_cluster_id to it")):
        kubesim.clear_requests()
        run = run_playbook(tmp_path, migration(tmp_path, kubeconfig, **variables), playbook=MIGRATE)
        assert run.rc != 0
        message = " ".join(m for _t, _h, m in run.failures("dev"))
        assert fragment in message, message
        assert kubesim.writes() == []


def test_a_phase_is_never_skipped(kubesim, kubeconfig, tmp_path):
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    kubesim.create({"apiVersion": "apps/v1", "kind": "StatefulSet",
                    "metadata": {"name": "dev-kafka", "namespace": NS, "annotations": {ANNOTATION: "controllers"}},
                    "spec": {"replicas": 0, "serviceName": "dev-kafka-brokers",
                             "selector": {"matchLabels": {"app.kubernetes.io/name": "kafka"}},
                             "template": {"metadata": {"labels": {"app.kubernetes.io/name": "kafka"}},
                                          "spec": {"containers": [{"name": "kafka", "image": "kafka"}]}}}})
    kubesim.clear_requests()
    run = run_tasks(tmp_path, [{"name": "Record", "streams.kafka.kraft_migration": {
        "kubeconfig": kubeconfig, "namespace": NS, "cluster_name": "dev", "state": "record", "phase": "brokers-kraft"}}])
    assert run.rc != 0
    message = run.failures()[0][2]
    assert message == "cannot record phase brokers-kraft: the migration is at controllers, and phase brokers-migrating must come first", message
    assert kubesim.writes() == []
    assert phase(kubesim) == "controllers"


@pytest.mark.parametrize("kubesim", [0.5], indirect=True)
def test_rollback_from_dual_write_returns_to_zookeeper_and_site_then_writes_nothing(kubesim, kubeconfig, tmp_path):
    deploy_zookeeper_mode(kubesim, kubeconfig, tmp_path)
    script_quorum(kubesim)
    hosts = migration(tmp_path, kubeconfig)
    dual = run_playbook(tmp_path, hosts, playbook=MIGRATE)
    assert dual.rc == 0, dual.describe()
    assert phase(kubesim) == "brokers-kraft"
    controller_claims = [c["metadata"]["name"] for c in kubesim.objects("v1", "PersistentVolumeClaim", NS)
                         if c["metadata"]["name"].startswith("data-0-dev-kafka-controller-")]
    assert len(controller_claims) == 3, controller_claims

    kubesim.clear_requests()
    plan = run_playbook(tmp_path, hosts, playbook=ROLLBACK, check=True)
    assert plan.rc == 0, plan.describe()
    assert kubesim.writes() == [], kubesim.writes()
    steps = plan.result_of("Show the steps")["msg"]
    assert "at phase brokers-kraft; would run" in steps and "1. roll the brokers back to ZooKeeper mode" in steps, steps

    kubesim.clear_requests()
    back = run_playbook(tmp_path, hosts, playbook=ROLLBACK)
    assert back.rc == 0, back.describe()
    assert phase(kubesim) is None
    # the brokers rolled twice: back to ZooKeeper mode with migration, then without it; never a controller
    assert sorted(pod for _t, pod in deletes(kubesim)) == sorted(BROKERS * 2), deletes(kubesim)
    writes = kubesim.writes()
    controllers_gone = min(i for i, w in enumerate(writes) if w["method"] == "DELETE" and w["path"].endswith("/statefulsets/dev-kafka-controller"))
    job = min(i for i, w in enumerate(writes) if w["method"] in ("POST", "PATCH") and "dev-kafka-migration-rollback" in (w["name"] or w["path"]))
    second_roll = [i for i, w in enumerate(writes) if w["method"] == "DELETE" and "/pods/dev-kafka-" in w["path"]][3]
    assert controllers_gone < job < second_roll, writes
    script = kubesim.get("batch/v1", "Job", NS, "dev-kafka-migration-rollback")["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert "run delete /controller" in script and "run delete /migration" in script and "-zk-tls-config-file" in script
    assert kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka-controller") is None
    assert not [c for c in kubesim.objects("v1", "PersistentVolumeClaim", NS) if c["metadata"]["name"] in controller_claims]
    assert [c for c in kubesim.objects("v1", "PersistentVolumeClaim", NS) if "zookeeper" in c["metadata"]["name"]]
    assert kubesim.get("apps/v1", "StatefulSet", NS, "dev-zookeeper") is not None
    brokers = kubesim.get("apps/v1", "StatefulSet", NS, "dev-kafka")
    assert brokers["metadata"]["annotations"]["streams.kafka/metadata-mode"] == "zookeeper"
    server = properties(kubesim, "dev-kafka-config", "server.properties")
    assert "zookeeper.connect=" in server and "migration" not in server and "process.roles" not in server

    # the inventory never changed: site.yml finds the cluster as it deploys it
    kubesim.clear_requests()
    again = run_playbook(tmp_path, inventory(tmp_path, kubeconfig))
    assert again.rc == 0, again.describe()
    assert kubesim.writes() == [], kubesim.writes()

    # a second rollback has nothing to do
    nothing = run_playbook(tmp_path, hosts, playbook=ROLLBACK)
    assert nothing.rc == 0 and "nothing to do" in nothing.result_of("Show the steps")["msg"], nothing.describe()
    assert kubesim.writes() == []
