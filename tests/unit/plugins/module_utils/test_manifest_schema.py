"""manifest_schema: strict Kubernetes and CRD validation of rendered objects."""

import copy

import pytest

from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels
from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema

CRDS = "roles/common/files/crds"
VERSIONS = ["1.27", "1.37"]
LABELS = standard_labels("dev", "zookeeper")
REQUIRED = {"app.kubernetes.io/instance": "dev", "app.kubernetes.io/part-of": "streams"}


def configmap(**extra):
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "dev-zookeeper-config", "namespace": "kafka", "labels": dict(LABELS)},
           "data": {"zoo.cfg": "tickTime=2000\n"}}
    obj.update(extra)
    return obj


def servicemonitor():
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": "dev-zookeeper", "namespace": "kafka", "labels": dict(LABELS)},
            "spec": {"selector": {"matchLabels": {"app.kubernetes.io/name": "zookeeper"}},
                     "endpoints": [{"port": "metrics", "interval": "30s"}]}}


@pytest.fixture(scope="module", name="crds")
def crds_fixture():
    return manifest_schema.load_crd_schemas([CRDS])


def validate(objs, crds):
    return manifest_schema.validate_manifests(objs, VERSIONS, crds, REQUIRED)


def problems_of(objs, crds):
    with pytest.raises(manifest_schema.ManifestError) as error:
        validate(objs, crds)
    return error.value.problems


def test_loads_every_shipped_crd(crds):
    assert set(crds) == {
        ("monitoring.coreos.com/v1", "PodMonitor"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
        ("route.openshift.io/v1", "Route"),
    }


def test_valid_objects_pass_and_are_named(crds):
    assert validate([configmap(), servicemonitor()], crds) == [
        "kafka/ConfigMap/dev-zookeeper-config", "kafka/ServiceMonitor/dev-zookeeper"]


def test_unknown_field_is_refused_for_each_version(crds):
    problems = problems_of([configmap(spec={"replicas": 1})], crds)
    assert len(problems) == 2
    assert "Kubernetes 1.27" in problems[0] and "Kubernetes 1.37" in problems[1]
    assert "spec" in problems[0]


def test_wrong_type_names_the_field():
    sts = {"apiVersion": "apps/v1", "kind": "StatefulSet",
           "metadata": {"name": "dev-zookeeper", "namespace": "kafka", "labels": dict(LABELS)},
           "spec": {"replicas": "three", "serviceName": "x", "selector": {"matchLabels": {"a": "b"}},
                    "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "zk", "image": "i"}]}}}}
    problems = problems_of([sts], {})
    assert any("spec/replicas" in p and "'three'" in p for p in problems)


def test_crd_objects_are_strict(crds):
    monitor = servicemonitor()
    monitor["spec"]["endpoints"][0]["portt"] = "metrics"
    problems = problems_of([monitor], crds)
    assert problems == [
        "kafka/ServiceMonitor/dev-zookeeper: spec/endpoints/0: Additional properties are not allowed "
        "('portt' was unexpected) (CRD schema)"]


def test_crd_int_or_string_accepts_both(crds):
    route = {"apiVersion": "route.openshift.io/v1", "kind": "Route",
             "metadata": {"name": "dev-bridge", "namespace": "kafka", "labels": dict(LABELS)},
             "spec": {"to": {"kind": "Service", "name": "dev-bridge"}, "port": {"targetPort": 8080}}}
    validate([route], crds)
    route["spec"]["port"]["targetPort"] = "http"
    validate([route], crds)


def test_unknown_kind_is_refused(crds):
    obj = {"apiVersion": "kafka.strimzi.io/v1beta2", "kind": "Kafka",
           "metadata": {"name": "dev", "labels": dict(LABELS)}}
    assert "no CRD schema" in problems_of([obj], crds)[0]


def test_labels_are_required(crds):
    obj = configmap()
    del obj["metadata"]["labels"]["app.kubernetes.io/component"]
    obj["metadata"]["labels"]["app.kubernetes.io/instance"] = "other"
    assert problems_of([obj], crds) == [
        "kafka/ConfigMap/dev-zookeeper-config: label app.kubernetes.io/component is missing",
        "kafka/ConfigMap/dev-zookeeper-config: label app.kubernetes.io/instance is 'other', expected 'dev'"]


def test_duplicates_and_non_objects_are_refused(crds):
    problems = problems_of([configmap(), copy.deepcopy(configmap()), {"data": 1}], crds)
    assert "kafka/ConfigMap/dev-zookeeper-config appears twice" in problems
    assert any(p.startswith("not a Kubernetes object") for p in problems)


def test_unsupported_version_lists_the_valid_ones():
    with pytest.raises(manifest_schema.ManifestError) as error:
        manifest_schema.validate_manifests([configmap()], ["1.2"], {}, {})
    assert "1.27" in str(error.value) and "'1.2'" in str(error.value)


def test_each_schema_file_is_parsed_once_per_process(crds):
    contents = manifest_schema.kubernetes_validate_utils.schema_contents
    assert validate([configmap()], crds) == ["kafka/ConfigMap/dev-zookeeper-config"]
    parsed = contents.cache_info().misses
    assert validate([configmap(), configmap(metadata=dict(configmap()["metadata"], name="other"))], crds)
    assert contents.cache_info().misses == parsed and contents.cache_info().hits >= 2 * 2 * len(VERSIONS)
