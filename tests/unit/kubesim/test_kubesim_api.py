"""The simulated API server, exercised with the real kubernetes client."""
import json
import threading
import time

import pytest

import kubernetes
from kubernetes.dynamic import exceptions as dynamic_errors

NS = "default"


def configmap(name, labels=None, data=None, namespace=NS):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}}, "data": data or {"k": "v"}}


def deployment(name, image="nginx:1.27", replicas=1):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "main", "image": image, "env": [{"name": "A", "value": "1"}],
                                                           "ports": [{"containerPort": 8080}]}]}}}}


def resource(client, api_version, kind):
    return client.resources.get(api_version=api_version, kind=kind)


def raw_get(client, path):
    return json.loads(client.request("GET", path, serialize=False).data)


def status_body(error):
    body = json.loads(error.body)
    assert body["kind"] == "Status" and body["status"] == "Failure"
    return body


def test_discovery_documents(kubesim_client):
    assert raw_get(kubesim_client, "/version")["gitVersion"] == "v1.31.0"
    assert raw_get(kubesim_client, "/api")["versions"] == ["v1"]
    groups = {g["name"]: g for g in raw_get(kubesim_client, "/apis")["groups"]}
    for group in ("apps", "batch", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
                  "authorization.k8s.io", "route.openshift.io", "monitoring.coreos.com"):
        assert groups[group]["preferredVersion"]["version"] == "v1"
    core = {r["name"]: r for r in raw_get(kubesim_client, "/api/v1")["resources"]}
    assert core["namespaces"]["namespaced"] is False
    assert core["pods"]["singularName"] == "pod" and "watch" in core["pods"]["verbs"]
    assert core["pods/proxy"]["kind"] == "PodProxyOptions"
    assert core["pods/log"]["verbs"] == ["get"]
    assert {"pods/status", "persistentvolumeclaims", "endpoints", "events", "serviceaccounts"} <= set(core)
    apps = {r["name"]: r for r in raw_get(kubesim_client, "/apis/apps/v1")["resources"]}
    assert apps["statefulsets/scale"]["kind"] == "Scale" and apps["statefulsets/scale"]["group"] == "autoscaling"
    assert {"statefulsets/status", "deployments/status", "deployments/scale", "replicasets"} <= set(apps)
    with pytest.raises(dynamic_errors.NotFoundError):
        raw_get(kubesim_client, "/apis/nonexistent.example.com/v1")


@pytest.mark.parametrize("api_version,kind,namespaced", [
    ("v1", "Namespace", False), ("v1", "ConfigMap", True), ("v1", "Secret", True), ("v1", "Service", True),
    ("v1", "ServiceAccount", True), ("v1", "Pod", True), ("v1", "PersistentVolumeClaim", True), ("v1", "Endpoints", True),
    ("v1", "Event", True), ("apps/v1", "StatefulSet", True), ("apps/v1", "Deployment", True), ("apps/v1", "ReplicaSet", True),
    ("batch/v1", "Job", True), ("policy/v1", "PodDisruptionBudget", True), ("networking.k8s.io/v1", "NetworkPolicy", True),
    ("networking.k8s.io/v1", "Ingress", True), ("rbac.authorization.k8s.io/v1", "Role", True),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", True), ("rbac.authorization.k8s.io/v1", "ClusterRole", False),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", False), ("route.openshift.io/v1", "Route", True),
    ("monitoring.coreos.com/v1", "ServiceMonitor", True), ("monitoring.coreos.com/v1", "PodMonitor", True),
    ("monitoring.coreos.com/v1", "PrometheusRule", True),
])
def test_dynamic_client_finds_every_kind(kubesim_client, api_version, kind, namespaced):
    found = resource(kubesim_client, api_version, kind)
    assert found.namespaced is namespaced
    listing = found.get(namespace=NS) if namespaced else found.get()
    assert listing.kind == f"{kind}List"


def test_subresources_are_discovered(kubesim_client):
    assert set(resource(kubesim_client, "v1", "Pod").subresources) == {"status", "log", "proxy"}
    assert set(resource(kubesim_client, "apps/v1", "StatefulSet").subresources) == {"status", "scale"}
    assert set(resource(kubesim_client, "apps/v1", "Deployment").subresources) == {"status", "scale"}


def test_initial_namespaces_and_metadata(kubesim_client, kubesim):
    names = {n.metadata.name for n in resource(kubesim_client, "v1", "Namespace").get().items}
    assert {"default", "kube-system"} <= names
    created = resource(kubesim_client, "v1", "ConfigMap").create(body=configmap("meta"), namespace=NS)
    assert created.metadata.uid and created.metadata.creationTimestamp.endswith("Z")
    assert int(created.metadata.resourceVersion) > 0 and created.metadata.generation == 1
    assert kubesim.get("v1", "ConfigMap", NS, "meta")["data"] == {"k": "v"}


def test_list_label_and_field_selectors(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    cms.create(body=configmap("a", {"app": "kafka", "tier": "broker"}), namespace=NS)
    cms.create(body=configmap("b", {"app": "kafka", "tier": "controller"}), namespace=NS)
    cms.create(body=configmap("c", {"app": "zk"}), namespace=NS)

    def names(**kwargs):
        return sorted(i.metadata.name for i in cms.get(namespace=NS, **kwargs).items)

    assert names(label_selector="app=kafka") == ["a", "b"]
    assert names(label_selector="app==kafka,tier!=broker") == ["b"]
    assert names(label_selector="tier in (broker, controller)") == ["a", "b"]
    assert names(label_selector="app notin (kafka)") == ["c"]
    assert names(label_selector="tier") == ["a", "b"]
    assert names(label_selector="!tier") == ["c"]
    assert names(field_selector="metadata.name=b") == ["b"]
    assert names(field_selector="metadata.namespace=default,metadata.name!=a", label_selector="app=kafka") == ["b"]
    listing = cms.get(namespace=NS)
    assert listing.kind == "ConfigMapList" and listing.apiVersion == "v1"
    assert int(listing.metadata.resourceVersion) >= max(int(i.metadata.resourceVersion) for i in listing.items)
    with pytest.raises(dynamic_errors.BadRequestError):
        cms.get(namespace=NS, label_selector="app in kafka")


def test_list_items_carry_kind_only_for_custom_resources(kubesim_client):
    resource(kubesim_client, "v1", "ConfigMap").create(body=configmap("builtin"), namespace=NS)
    resource(kubesim_client, "monitoring.coreos.com/v1", "ServiceMonitor").create(
        body={"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": "sm"}, "spec": {"endpoints": []}},
        namespace=NS)
    (builtin,) = raw_get(kubesim_client, f"/api/v1/namespaces/{NS}/configmaps")["items"]
    (custom,) = raw_get(kubesim_client, f"/apis/monitoring.coreos.com/v1/namespaces/{NS}/servicemonitors")["items"]
    assert "kind" not in builtin and "apiVersion" not in builtin
    assert (custom["kind"], custom["apiVersion"]) == ("ServiceMonitor", "monitoring.coreos.com/v1")


def test_list_across_namespaces(kubesim_client):
    resource(kubesim_client, "v1", "Namespace").create(body={"metadata": {"name": "other"}})
    pods = resource(kubesim_client, "v1", "Pod")
    for namespace in (NS, "other"):
        pods.create(body={"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}, namespace=namespace)
    everywhere = raw_get(kubesim_client, "/api/v1/pods")
    assert sorted(p["metadata"]["namespace"] for p in everywhere["items"]) == ["default", "other"]
    assert len(pods.get(namespace="other").items) == 1


def test_error_bodies_parse_as_api_exceptions(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    cms.create(body=configmap("dup"), namespace=NS)
    with pytest.raises(dynamic_errors.ConflictError) as exists:
        cms.create(body=configmap("dup"), namespace=NS)
    assert exists.value.status == 409
    assert status_body(exists.value)["reason"] == "AlreadyExists"
    assert status_body(exists.value)["message"] == 'configmaps "dup" already exists'
    with pytest.raises(dynamic_errors.NotFoundError) as missing:
        cms.get(name="nope", namespace=NS)
    assert missing.value.status == 404 and status_body(missing.value)["details"] == {"name": "nope", "kind": "configmaps"}
    assert missing.value.summary() == 'configmaps "nope" not found'
    with pytest.raises(dynamic_errors.NotFoundError) as apps_missing:
        resource(kubesim_client, "apps/v1", "StatefulSet").get(name="nope", namespace=NS)
    assert status_body(apps_missing.value)["message"] == 'statefulsets.apps "nope" not found'
    with pytest.raises(dynamic_errors.NotFoundError) as no_namespace:
        cms.create(body=configmap("x", namespace="absent"), namespace="absent")
    assert status_body(no_namespace.value)["message"] == 'namespaces "absent" not found'
    with pytest.raises(dynamic_errors.NotFoundError):
        cms.patch(body={"data": {"a": "b"}}, name="nope", namespace=NS, content_type="application/merge-patch+json")


def test_typed_client_sees_the_same_errors(kubesim):
    configuration = kubernetes.client.Configuration()
    configuration.host = kubesim.url
    with kubernetes.client.ApiClient(configuration) as api_client:
        core = kubernetes.client.CoreV1Api(api_client)
        with pytest.raises(kubernetes.client.exceptions.ApiException) as missing:
            core.read_namespaced_config_map("nope", NS)
        assert missing.value.status == 404
        core.create_namespaced_config_map(NS, configmap("typed"))
        with pytest.raises(kubernetes.client.exceptions.ApiException) as exists:
            core.create_namespaced_config_map(NS, configmap("typed"))
        assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"
        assert core.read_namespaced_config_map("typed", NS).data == {"k": "v"}


def test_replace_with_stale_resource_version_conflicts(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    first = cms.create(body=configmap("r"), namespace=NS).to_dict()
    updated = dict(first, data={"k": "v2"})
    second = cms.replace(body=updated, namespace=NS)
    assert int(second.metadata.resourceVersion) > int(first["metadata"]["resourceVersion"])
    with pytest.raises(dynamic_errors.ConflictError) as stale:
        cms.replace(body=dict(first, data={"k": "v3"}), namespace=NS)
    assert status_body(stale.value)["reason"] == "Conflict"
    assert cms.get(name="r", namespace=NS).data.k == "v2"


def test_no_op_writes_keep_resource_version(kubesim_client, kubesim):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    created = cms.create(body=configmap("same", {"a": "b"}), namespace=NS)
    rv = created.metadata.resourceVersion
    global_rv = kubesim.store.resource_version
    for content_type in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
        patched = cms.patch(body={"data": {"k": "v"}, "metadata": {"labels": {"a": "b"}}}, name="same", namespace=NS, content_type=content_type)
        assert patched.metadata.resourceVersion == rv
    json_patched = cms.patch(body=[{"op": "replace", "path": "/data/k", "value": "v"}], name="same", namespace=NS,
                             content_type="application/json-patch+json")
    assert json_patched.metadata.resourceVersion == rv
    assert cms.replace(body=created.to_dict(), namespace=NS).metadata.resourceVersion == rv
    applied = cms.server_side_apply(body=configmap("same", {"a": "b"}), name="same", namespace=NS, field_manager="test")
    assert applied.metadata.resourceVersion == rv
    assert kubesim.store.resource_version == global_rv
    changed = cms.patch(body={"data": {"k": "w"}}, name="same", namespace=NS, content_type="application/merge-patch+json")
    assert int(changed.metadata.resourceVersion) > int(rv)


def test_generation_tracks_spec_not_metadata_or_status(kubesim_client):
    deployments = resource(kubesim_client, "apps/v1", "Deployment")
    deployments.create(body=deployment("gen"), namespace=NS)
    relabelled = deployments.patch(body={"metadata": {"labels": {"x": "y"}}}, name="gen", namespace=NS,
                                   content_type="application/merge-patch+json")
    assert relabelled.metadata.generation == 1
    scaled = deployments.patch(body={"spec": {"replicas": 2}}, name="gen", namespace=NS, content_type="application/merge-patch+json")
    assert scaled.metadata.generation == 2
    status = deployments.status.patch(body={"status": {"replicas": 99}}, name="gen", namespace=NS,
                                      content_type="application/merge-patch+json")
    assert status.metadata.generation == 2 and status.status.replicas == 99
    ignored = deployments.patch(body={"status": {"replicas": 5}}, name="gen", namespace=NS, content_type="application/merge-patch+json")
    assert ignored.status.replicas != 5


def test_merge_patch_removes_keys_with_null(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    cms.create(body=configmap("m", data={"a": "1", "b": "2"}), namespace=NS)
    patched = cms.patch(body={"data": {"a": None, "c": "3"}}, name="m", namespace=NS, content_type="application/merge-patch+json")
    assert patched.data.to_dict() == {"b": "2", "c": "3"}


def test_strategic_merge_patch_merges_containers_by_name(kubesim_client):
    deployments = resource(kubesim_client, "apps/v1", "Deployment")
    deployments.create(body=deployment("smp"), namespace=NS)
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "main", "env": [{"name": "B", "value": "2"}], "ports": [{"containerPort": 9090}]},
        {"name": "sidecar", "image": "busybox:1"}]}}}}
    patched = deployments.patch(body=patch, name="smp", namespace=NS).to_dict()
    main, sidecar = patched["spec"]["template"]["spec"]["containers"]
    assert main["image"] == "nginx:1.27"
    assert [e["name"] for e in main["env"]] == ["A", "B"]
    assert [p["containerPort"] for p in main["ports"]] == [8080, 9090]
    assert sidecar["name"] == "sidecar"
    deleted = deployments.patch(body={"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}},
                                name="smp", namespace=NS).to_dict()
    assert [c["name"] for c in deleted["spec"]["template"]["spec"]["containers"]] == ["main"]
    replaced = deployments.patch(body={"spec": {"template": {"metadata": {"labels": {"app": "smp", "extra": "1"}}}}},
                                 name="smp", namespace=NS).to_dict()
    assert replaced["spec"]["template"]["metadata"]["labels"] == {"app": "smp", "extra": "1"}


def test_json_patch(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    cms.create(body=configmap("jp", data={"a": "1"}), namespace=NS)
    ops = [{"op": "add", "path": "/data/b", "value": "2"}, {"op": "replace", "path": "/data/a", "value": "10"},
           {"op": "add", "path": "/metadata/labels/x~1y", "value": "z"}, {"op": "test", "path": "/data/b", "value": "2"},
           {"op": "copy", "from": "/data/a", "path": "/data/c"}, {"op": "remove", "path": "/data/b"}]
    patched = cms.patch(body=ops, name="jp", namespace=NS, content_type="application/json-patch+json")
    assert patched.data.to_dict() == {"a": "10", "c": "10"}
    assert patched.metadata.labels["x/y"] == "z"
    with pytest.raises(dynamic_errors.UnprocessibleEntityError):
        cms.patch(body=[{"op": "test", "path": "/data/a", "value": "nope"}], name="jp", namespace=NS,
                  content_type="application/json-patch+json")
    assert cms.get(name="jp", namespace=NS).data.a == "10"


def test_server_side_apply_creates_then_merges(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    created = cms.server_side_apply(body=configmap("ssa", data={"a": "1"}), name="ssa", namespace=NS, field_manager="t", force_conflicts=True)
    assert created.data.a == "1"
    merged = cms.server_side_apply(body=configmap("ssa", data={"b": "2"}), name="ssa", namespace=NS, field_manager="t")
    assert merged.data.to_dict() == {"a": "1", "b": "2"}
    again = cms.server_side_apply(body=configmap("ssa", data={"b": "2"}), name="ssa", namespace=NS, field_manager="t")
    assert again.metadata.resourceVersion == merged.metadata.resourceVersion
    with pytest.raises(dynamic_errors.UnprocessibleEntityError):
        cms.server_side_apply(body=configmap("ssa"), name="ssa", namespace=NS)


def test_unknown_patch_type_is_rejected(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    cms.create(body=configmap("pt"), namespace=NS)
    with pytest.raises(dynamic_errors.DynamicApiError) as rejected:
        cms.patch(body={"data": {}}, name="pt", namespace=NS, content_type="application/x-unknown+json")
    assert rejected.value.status == 415


def test_dry_run_never_stores(kubesim_client, kubesim):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    preview = cms.create(body=configmap("dry"), namespace=NS, dry_run="All")
    assert preview.metadata.name == "dry" and kubesim.get("v1", "ConfigMap", NS, "dry") is None
    cms.create(body=configmap("dry"), namespace=NS)
    rv = kubesim.store.resource_version
    patched = cms.patch(body={"data": {"k": "new"}}, name="dry", namespace=NS, dry_run="All", content_type="application/merge-patch+json")
    assert patched.data.k == "new"
    replaced = cms.replace(body=configmap("dry", data={"z": "1"}), namespace=NS, dry_run="All")
    assert replaced.data.to_dict() == {"z": "1"}
    cms.delete(name="dry", namespace=NS, dry_run="All")
    assert kubesim.get("v1", "ConfigMap", NS, "dry")["data"] == {"k": "v"}
    assert kubesim.store.resource_version == rv
    assert all(r["dry_run"] and not r["write"] for r in kubesim.requests if r["query"].get("dryRun"))


def test_status_subresource_for_pod_disruption_budget(kubesim_client):
    pdbs = resource(kubesim_client, "policy/v1", "PodDisruptionBudget")
    pdbs.create(body={"metadata": {"name": "pdb"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"a": "b"}}}}, namespace=NS)
    patched = pdbs.status.patch(body={"status": {"currentHealthy": 3}}, name="pdb", namespace=NS, content_type="application/merge-patch+json")
    assert patched.status.currentHealthy == 3 and patched.spec.maxUnavailable == 1
    fetched = pdbs.status.get(name="pdb", namespace=NS)
    assert fetched.status.currentHealthy == 3


def test_delete_collects_dependents_and_namespace_contents(kubesim_client, kubesim):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    owner = cms.create(body=configmap("owner"), namespace=NS)
    dependent = configmap("dependent")
    dependent["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}]
    cms.create(body=dependent, namespace=NS)
    status = cms.delete(name="owner", namespace=NS)
    assert status.kind == "Status" and status.status == "Success"
    assert kubesim.get("v1", "ConfigMap", NS, "dependent") is None

    namespaces = resource(kubesim_client, "v1", "Namespace")
    namespaces.create(body={"metadata": {"name": "doomed"}})
    cms.create(body=configmap("inside", namespace="doomed"), namespace="doomed")
    namespaces.delete(name="doomed")
    assert kubesim.get("v1", "Namespace", None, "doomed") is None
    assert kubesim.objects("v1", "ConfigMap", "doomed") == []
    with pytest.raises(dynamic_errors.ForbiddenError):
        namespaces.delete(name="default")


def test_delete_collection_by_label(kubesim_client, kubesim):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    for name, app in (("x1", "x"), ("x2", "x"), ("y1", "y")):
        cms.create(body=configmap(name, {"app": app}), namespace=NS)
    cms.delete(namespace=NS, label_selector="app=x")
    assert [c["metadata"]["name"] for c in kubesim.objects("v1", "ConfigMap", NS)] == ["y1"]


def test_scale_subresource(kubesim_client, kubesim):
    deployments = resource(kubesim_client, "apps/v1", "Deployment")
    deployments.create(body=deployment("scaled"), namespace=NS)
    scale = deployments.scale.get(name="scaled", namespace=NS)
    assert scale.kind == "Scale" and scale.spec.replicas == 1 and scale.status.selector == "app=scaled"
    deployments.scale.patch(body={"spec": {"replicas": 3}}, name="scaled", namespace=NS, content_type="application/merge-patch+json")
    assert kubesim.get("apps/v1", "Deployment", NS, "scaled")["spec"]["replicas"] == 3


def test_self_subject_access_review_is_allowed(kubesim_client):
    reviews = resource(kubesim_client, "authorization.k8s.io/v1", "SelfSubjectAccessReview")
    review = reviews.create(body={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                  "spec": {"resourceAttributes": {"verb": "create", "resource": "statefulsets", "group": "apps"}}})
    assert review.status.allowed is True


def test_secret_string_data_is_encoded(kubesim_client):
    secret = resource(kubesim_client, "v1", "Secret").create(body={"metadata": {"name": "s"}, "stringData": {"pw": "hunter2"}}, namespace=NS)
    assert secret.data.pw == "aHVudGVyMg==" and secret.type == "Opaque" and not secret.get("stringData")


def test_watch_streams_events_until_timeout(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    start_rv = cms.get(namespace=NS).metadata.resourceVersion
    events = []
    ready = threading.Event()

    def watch():
        ready.set()
        for event in kubesim_client.watch(cms, namespace=NS, resource_version=start_rv, timeout=2):
            events.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                return

    worker = threading.Thread(target=watch)
    worker.start()
    ready.wait()
    cms.create(body=configmap("w"), namespace=NS)
    cms.create(body=configmap("other"), namespace=NS)
    cms.patch(body={"data": {"k": "2"}}, name="w", namespace=NS, content_type="application/merge-patch+json")
    cms.delete(name="w", namespace=NS)
    worker.join(timeout=10)
    assert events == [("ADDED", "w"), ("ADDED", "other"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_watch_by_name_sends_current_state_then_ends(kubesim_client):
    cms = resource(kubesim_client, "v1", "ConfigMap")
    cms.create(body=configmap("named"), namespace=NS)
    cms.create(body=configmap("unnamed"), namespace=NS)
    started = time.monotonic()
    events = [(e["type"], e["object"].metadata.name) for e in kubesim_client.watch(cms, namespace=NS, name="named", timeout=1)]
    elapsed = time.monotonic() - started
    assert events == [("ADDED", "named")]
    assert 0.9 <= elapsed < 3
