"""The workload controller: StatefulSets, Deployments, Jobs and simulated pod behaviours."""
import re
import time

import pytest

from kubernetes.dynamic.resource import ResourceInstance
from ansible_collections.kubernetes.core.plugins.module_utils.k8s import waiter

NS = "default"


def statefulset(name, replicas=3, strategy="RollingUpdate", policy="OrderedReady", image="kafka:3.7"):
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": NS},
        "spec": {
            "replicas": replicas, "serviceName": f"{name}-headless", "podManagementPolicy": policy,
            "selector": {"matchLabels": labels}, "updateStrategy": {"type": strategy},
            "template": {"metadata": {"labels": dict(labels, role="broker")},
                         "spec": {"containers": [{"name": "kafka", "image": image, "ports": [{"containerPort": 9092}]}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                      "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}}],
        },
    }


def deployment(name, replicas=2, image="nginx:1.27"):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "web", "image": image}]}}}}


def pod(name, image="busybox:1.36"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS},
            "spec": {"containers": [{"name": "main", "image": image}]}}


def sts_ready(sim, name):
    obj = sim.get("apps/v1", "StatefulSet", NS, name)
    return bool(obj) and waiter.statefulset_ready(ResourceInstance(None, obj))


def deployment_ready(sim, name):
    obj = sim.get("apps/v1", "Deployment", NS, name)
    return bool(obj) and waiter.deployment_ready(ResourceInstance(None, obj))


def pods_of(sim, prefix):
    return {p["metadata"]["name"]: p for p in sim.objects("v1", "Pod", NS) if p["metadata"]["name"].startswith(prefix)}


def conditions(obj):
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def container_status(sim, name):
    """The first container's status, or {} before the pod (or its status) exists."""
    pod_obj = sim.get("v1", "Pod", NS, name) or {}
    return ((pod_obj.get("status") or {}).get("containerStatuses") or [{}])[0]


def pod_uid(sim, name):
    return ((sim.get("v1", "Pod", NS, name) or {}).get("metadata") or {}).get("uid")


def test_statefulset_creates_pods_claims_and_status(kubesim):
    kubesim.create(statefulset("kafka"))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "kafka"))
    sts = kubesim.get("apps/v1", "StatefulSet", NS, "kafka")
    status = sts["status"]
    assert status["observedGeneration"] == 1
    assert status["replicas"] == status["readyReplicas"] == status["availableReplicas"] == 3
    assert status["currentReplicas"] == status["updatedReplicas"] == 3
    assert status["currentRevision"] == status["updateRevision"]
    assert sts["spec"]["updateStrategy"]["rollingUpdate"] == {"partition": 0}
    pods = pods_of(kubesim, "kafka-")
    assert sorted(pods) == ["kafka-0", "kafka-1", "kafka-2"]
    for ordinal, (name, obj) in enumerate(sorted(pods.items())):
        labels = obj["metadata"]["labels"]
        assert labels["app"] == "kafka" and labels["role"] == "broker"
        assert labels["statefulset.kubernetes.io/pod-name"] == name
        assert labels["controller-revision-hash"] == status["updateRevision"]
        owner = obj["metadata"]["ownerReferences"][0]
        assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == ("StatefulSet", "kafka", sts["metadata"]["uid"], True)
        assert obj["spec"]["hostname"] == name and obj["spec"]["subdomain"] == "kafka-headless"
        assert obj["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": f"data-kafka-{ordinal}"}}]
        assert obj["status"]["phase"] == "Running"
        assert re.fullmatch(r"127\.0\.0\.\d+", obj["status"]["podIP"])
    claims = {c["metadata"]["name"]: c for c in kubesim.objects("v1", "PersistentVolumeClaim", NS)}
    assert sorted(claims) == ["data-kafka-0", "data-kafka-1", "data-kafka-2"]
    assert claims["data-kafka-0"]["status"]["phase"] == "Bound"
    assert claims["data-kafka-0"]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert claims["data-kafka-0"]["metadata"]["labels"] == {"app": "kafka"}

    sts["spec"]["replicas"] = 1
    kubesim.store.update(kubesim.catalog.by_kind("apps/v1", "StatefulSet"), NS, "kafka", sts)
    assert kubesim.wait_for(lambda: sorted(pods_of(kubesim, "kafka-")) == ["kafka-0"] and sts_ready(kubesim, "kafka"))
    kubesim.store.delete(kubesim.catalog.by_kind("apps/v1", "StatefulSet"), NS, "kafka")
    assert not pods_of(kubesim, "kafka-")
    assert len(kubesim.objects("v1", "PersistentVolumeClaim", NS)) == 3, "claims outlive their StatefulSet"


@pytest.mark.parametrize("kubesim", [0.15], indirect=True)
def test_ordered_ready_creates_one_pod_at_a_time(kubesim):
    kubesim.create(statefulset("ordered"))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "ordered"))
    times = kubesim.pod_ready_times()
    ready = [times[f"{NS}/ordered-{i}"] for i in range(3)]
    assert ready[0] < ready[1] < ready[2]
    assert ready[2] - ready[0] >= 2 * 0.15 * 0.9


@pytest.mark.parametrize("kubesim", [0.2], indirect=True)
def test_parallel_creates_all_pods_at_once(kubesim):
    kubesim.create(statefulset("par", policy="Parallel"))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "par"))
    times = kubesim.pod_ready_times()
    ready = [times[f"{NS}/par-{i}"] for i in range(3)]
    assert max(ready) - min(ready) < 0.2, "all pods start together instead of waiting for each other"


@pytest.mark.parametrize("kubesim", [0.05], indirect=True)
def test_rolling_update_replaces_highest_ordinal_first(kubesim):
    kubesim.create(statefulset("roll"))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "roll"))
    old_revision = kubesim.get("apps/v1", "StatefulSet", NS, "roll")["status"]["currentRevision"]
    before = kubesim.pod_ready_times()
    sts = kubesim.get("apps/v1", "StatefulSet", NS, "roll")
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = "kafka:3.8"
    updated = kubesim.store.update(kubesim.catalog.by_kind("apps/v1", "StatefulSet"), NS, "roll", sts)
    assert updated["metadata"]["generation"] == 2
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "roll"))
    status = kubesim.get("apps/v1", "StatefulSet", NS, "roll")["status"]
    assert status["currentRevision"] == status["updateRevision"] != old_revision
    pods = pods_of(kubesim, "roll-")
    assert {p["spec"]["containers"][0]["image"] for p in pods.values()} == {"kafka:3.8"}
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods.values()} == {status["updateRevision"]}
    after = kubesim.pod_ready_times()
    ready = [after[f"{NS}/roll-{i}"] for i in range(3)]
    assert all(after[k] > before[k] for k in before if k.startswith(f"{NS}/roll-"))
    assert ready[2] < ready[1] < ready[0], "highest ordinal is replaced first, one at a time"
    assert ready[0] - ready[2] >= 2 * 0.05 * 0.9


def test_on_delete_waits_for_pod_deletion(kubesim):
    kubesim.create(statefulset("od", strategy="OnDelete"))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "od") and len(pods_of(kubesim, "od-")) == 3)
    old_revision = kubesim.get("apps/v1", "StatefulSet", NS, "od")["status"]["updateRevision"]
    sts = kubesim.get("apps/v1", "StatefulSet", NS, "od")
    sts["spec"]["template"]["spec"]["containers"][0]["image"] = "kafka:3.8"
    kubesim.store.update(kubesim.catalog.by_kind("apps/v1", "StatefulSet"), NS, "od", sts)
    for _i in range(3):
        kubesim.controller.reconcile()
    status = kubesim.get("apps/v1", "StatefulSet", NS, "od")["status"]
    assert status["observedGeneration"] == 2 and status["updateRevision"] != old_revision
    assert status["currentRevision"] == old_revision and status.get("updatedReplicas", 0) == 0
    revisions = {n: p["metadata"]["labels"]["controller-revision-hash"] for n, p in pods_of(kubesim, "od-").items()}
    assert set(revisions.values()) == {old_revision}, "OnDelete never replaces pods by itself"
    old_uid = kubesim.get("v1", "Pod", NS, "od-1")["metadata"]["uid"]
    kubesim.delete_pod(NS, "od-1")
    assert kubesim.wait_for(lambda: pod_uid(kubesim, "od-1") not in (None, old_uid))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "od"))
    pods = pods_of(kubesim, "od-")
    assert pods["od-1"]["metadata"]["labels"]["controller-revision-hash"] == status["updateRevision"]
    assert pods["od-1"]["spec"]["containers"][0]["image"] == "kafka:3.8"
    assert pods["od-0"]["metadata"]["labels"]["controller-revision-hash"] == old_revision


def test_deleted_statefulset_pod_is_recreated(kubesim):
    kubesim.create(statefulset("again", replicas=2))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "again"))
    old_uid = kubesim.get("v1", "Pod", NS, "again-0")["metadata"]["uid"]
    kubesim.delete_pod(NS, "again-0")
    assert kubesim.wait_for(lambda: pod_uid(kubesim, "again-0") not in (None, old_uid) and sts_ready(kubesim, "again"))


def test_deployment_status_and_rollout(kubesim):
    kubesim.create(deployment("web"))
    assert kubesim.wait_for(lambda: deployment_ready(kubesim, "web"))
    dep = kubesim.get("apps/v1", "Deployment", NS, "web")
    status = dep["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"], status["updatedReplicas"]) == (2, 2, 2, 2)
    assert "unavailableReplicas" not in status and status["observedGeneration"] == 1
    conds = conditions(dep)
    assert (conds["Available"]["status"], conds["Available"]["reason"]) == ("True", "MinimumReplicasAvailable")
    assert (conds["Progressing"]["status"], conds["Progressing"]["reason"]) == ("True", "NewReplicaSetAvailable")
    first = set(pods_of(kubesim, "web-"))
    assert all(re.fullmatch(r"web-[a-z0-9]{10}-[a-z0-9]{5}", name) for name in first)

    dep["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    kubesim.store.update(kubesim.catalog.by_kind("apps/v1", "Deployment"), NS, "web", dep)
    assert kubesim.wait_for(lambda: deployment_ready(kubesim, "web")
                            and conditions(kubesim.get("apps/v1", "Deployment", NS, "web"))["Progressing"]["reason"] == "NewReplicaSetAvailable")
    pods = pods_of(kubesim, "web-")
    assert len(pods) == 2 and not set(pods) & first
    assert {p["spec"]["containers"][0]["image"] for p in pods.values()} == {"nginx:1.28"}
    replica_sets = sorted((rs["spec"]["replicas"], rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
                          for rs in kubesim.objects("apps/v1", "ReplicaSet", NS))
    assert replica_sets == [(0, "1"), (2, "2")]


def test_deployment_with_unready_pods_reports_unavailable(kubesim):
    kubesim.set_pod_behaviour(NS, r"stuck-.*", "never_ready")
    kubesim.create(deployment("stuck"))
    assert kubesim.wait_for(lambda: conditions(kubesim.get("apps/v1", "Deployment", NS, "stuck")).get("Available"))
    dep = kubesim.get("apps/v1", "Deployment", NS, "stuck")
    assert dep["status"]["unavailableReplicas"] == 2 and "availableReplicas" not in dep["status"]
    assert conditions(dep)["Available"]["status"] == "False"
    assert conditions(dep)["Progressing"]["reason"] == "ReplicaSetUpdated"
    assert not deployment_ready(kubesim, "stuck")
    kubesim.set_pod_behaviour(NS, r"stuck-.*", "ready")
    assert kubesim.wait_for(lambda: deployment_ready(kubesim, "stuck"))


def test_job_completes(kubesim):
    kubesim.create({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": NS},
                    "spec": {"template": {"spec": {"containers": [{"name": "run", "image": "busybox"}]}}}})

    def complete():
        job = kubesim.get("batch/v1", "Job", NS, "once")
        return conditions(job).get("Complete", {}).get("status") == "True"

    assert kubesim.wait_for(complete)
    job = kubesim.get("batch/v1", "Job", NS, "once")
    assert job["status"]["succeeded"] == 1 and job["status"]["completionTime"]
    (job_pod,) = pods_of(kubesim, "once-").values()
    assert job_pod["status"]["phase"] == "Succeeded"
    assert job_pod["metadata"]["labels"]["job-name"] == "once"
    assert job_pod["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0


@pytest.mark.parametrize("kubesim", [0.3], indirect=True)
def test_ready_delay_and_ready_times(kubesim):
    created = time.monotonic()
    kubesim.create(pod("slow"))
    assert kubesim.wait_for(lambda: kubesim.get("v1", "Pod", NS, "slow")["status"].get("containerStatuses"))
    early = kubesim.get("v1", "Pod", NS, "slow")
    assert early["status"]["phase"] == "Pending" and conditions(early)["Ready"]["status"] == "False"
    assert early["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    assert kubesim.wait_for(lambda: conditions(kubesim.get("v1", "Pod", NS, "slow"))["Ready"]["status"] == "True")
    became_ready = kubesim.pod_ready_times()[f"{NS}/slow"]
    assert 0.3 <= became_ready - created < 0.8
    kubesim.set_ready_delay(0)
    created = time.monotonic()
    kubesim.create(pod("fast"))
    assert kubesim.wait_for(lambda: f"{NS}/fast" in kubesim.pod_ready_times())
    assert kubesim.pod_ready_times()[f"{NS}/fast"] - created < 0.25


def test_ready_pod_status_looks_real(kubesim):
    kubesim.create(pod("real"))
    assert kubesim.wait_for(lambda: waiter.pod_ready(ResourceInstance(None, kubesim.get("v1", "Pod", NS, "real"))))
    status = kubesim.get("v1", "Pod", NS, "real")["status"]
    assert {"PodScheduled", "Initialized", "ContainersReady", "Ready"} <= set(conditions({"status": status}))
    assert all(c["status"] == "True" for c in status["conditions"] if c["type"] != "PodReadyToStartContainers")
    (container,) = status["containerStatuses"]
    assert (container["name"], container["ready"], container["started"], container["restartCount"]) == ("main", True, True, 0)
    assert container["image"] == "busybox:1.36" and "startedAt" in container["state"]["running"]
    assert status["startTime"] and status["hostIP"] == "127.0.0.1"


def test_never_ready_pod_fails_readiness(kubesim):
    kubesim.set_pod_behaviour(NS, "lazy", "never_ready")
    kubesim.create(pod("lazy"))
    assert kubesim.wait_for(lambda: kubesim.objects("v1", "Event", NS))
    obj = kubesim.get("v1", "Pod", NS, "lazy")
    assert obj["status"]["phase"] == "Running" and conditions(obj)["Ready"]["status"] == "False"
    container = obj["status"]["containerStatuses"][0]
    assert container["ready"] is False and "running" in container["state"]
    (event,) = kubesim.objects("v1", "Event", NS)
    assert event["involvedObject"]["name"] == "lazy" and event["message"].startswith("Readiness probe failed")
    kubesim.set_pod_behaviour(NS, "lazy", "ready")
    assert kubesim.wait_for(lambda: container_status(kubesim, "lazy").get("ready"))


def test_crashloop_restart_count_grows(kubesim):
    kubesim.set_pod_behaviour(None, "crashy", "crashloop")
    kubesim.create(pod("crashy"))
    assert kubesim.wait_for(lambda: container_status(kubesim, "crashy").get("restartCount", 0) >= 2, timeout=3)
    container = container_status(kubesim, "crashy")
    assert container["state"]["waiting"]["reason"] == "CrashLoopBackOff" and container["ready"] is False
    assert container["lastState"]["terminated"]["exitCode"] == 1


@pytest.mark.parametrize("behaviour,phase,reason", [
    ("imagepull", "Pending", "ImagePullBackOff"),
    ("config_error", "Pending", "CreateContainerConfigError"),
])
def test_waiting_behaviours(kubesim, behaviour, phase, reason):
    kubesim.set_pod_behaviour(NS, "w", behaviour)
    kubesim.create(pod("w"))
    assert kubesim.wait_for(lambda: kubesim.get("v1", "Pod", NS, "w")["status"].get("containerStatuses"))
    obj = kubesim.get("v1", "Pod", NS, "w")
    assert obj["status"]["phase"] == phase
    assert obj["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == reason


def test_unschedulable_pod_stays_pending(kubesim):
    kubesim.set_pod_behaviour(NS, "nowhere", "unschedulable")
    kubesim.create(pod("nowhere"))
    assert kubesim.wait_for(lambda: conditions(kubesim.get("v1", "Pod", NS, "nowhere")).get("PodScheduled"))
    obj = kubesim.get("v1", "Pod", NS, "nowhere")
    scheduled = conditions(obj)["PodScheduled"]
    assert obj["status"]["phase"] == "Pending" and scheduled["status"] == "False" and scheduled["reason"] == "Unschedulable"
    assert scheduled["message"].startswith("0/3 nodes are available: ")
    assert "containerStatuses" not in obj["status"] and "podIP" not in obj["status"]


def test_behaviour_change_applies_to_existing_pods(kubesim):
    kubesim.create(statefulset("flip", replicas=2, policy="Parallel"))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "flip"))
    kubesim.set_pod_behaviour(NS, r"flip-1", "crashloop")
    assert kubesim.wait_for(lambda: "waiting" in container_status(kubesim, "flip-1").get("state", {}))
    assert container_status(kubesim, "flip-0")["ready"] is True
    assert kubesim.wait_for(lambda: kubesim.get("apps/v1", "StatefulSet", NS, "flip")["status"].get("readyReplicas") == 1)
    assert not sts_ready(kubesim, "flip")


def test_controller_goes_quiet_when_converged(kubesim):
    kubesim.create(statefulset("quiet"))
    kubesim.create(deployment("calm"))
    assert kubesim.wait_for(lambda: sts_ready(kubesim, "quiet") and deployment_ready(kubesim, "calm"))
    assert kubesim.controller.reconcile() is None, "no timers pending"
    version = kubesim.store.resource_version
    kubesim.controller.reconcile()
    assert kubesim.store.resource_version == version
