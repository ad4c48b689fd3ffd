"""The connect, mirrormaker, bridge and exporter roles in directory mode: what they render, and
what their preflight refuses.

One ansible-playbook run of tests/playbooks/components.yml renders every case: each inventory
host is one case and lists the roles it runs in `test_components`. The valid ones write
build/manifests/<host>/NN-<component>.yaml; the refused ones fail in preflight and write nothing.
"""

import hashlib
import json

import pytest

from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels
from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema
from tests.helpers import CRDS, KUBERNETES_VERSIONS, REPO, by_kind, load_manifests, run_playbook, write_inventory
from tests.zookeeper_ensemble import parse_properties

PLAYBOOK = REPO / "tests" / "playbooks" / "components.yml"
FILES = {"connect": "30-connect.yaml", "mirrormaker": "40-mirrormaker.yaml", "bridge": "50-bridge.yaml",
         "exporter": "60-exporter.yaml"}
# a plaintext cluster without the ACL authorizer, which has to be asked for
PLAIN = {"name": "plain", "port": 9092, "type": "internal", "tls": False}
SINK = {"connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "topics": "orders", "file": "/tmp/o"}

VALID = {
    "connect-dev": {"test_components": ["connect"]},
    "connect-prod": {
        "test_components": ["connect"], "streams_platform": "openshift", "streams_namespace": "streams-prod",
        "streams_image_pull_secrets": ["rh-registry"], "connect_replicas": 3,
        "connect_image": "registry.example.com/kafka/connect-with-jdbc:3.9.0-1",
        "connect_plugin_path_extra": ["/opt/connectors"], "connect_group_id": "orders-connect",
        "connect_config_storage_replication_factor": -1,
        "connect_value_converter": "org.apache.kafka.connect.storage.StringConverter",
        "connect_converter_config": {"key.converter.schemas.enable": False},
        "connect_config": {"offset.flush.interval.ms": 10000, "producer.compression.type": "lz4"},
        "connect_metrics_enabled": True, "connect_metrics_monitor": "servicemonitor",
        "connect_expose": "route", "connect_expose_host": "connect.apps.example.com",
        "connect_cpu_limit": "2", "connect_memory_limit": "4Gi", "connect_jvm_heap": "3Gi",
        "connect_connectors": [{"name": "orders-sink", "config": SINK}, {"name": "old", "state": "absent"}],
        "connect_anti_affinity": "required", "connect_node_selector": {"node-role.kubernetes.io/infra": ""},
        "connect_tolerations": [{"key": "infra", "operator": "Exists", "effect": "NoSchedule"}],
    },
    "connect-ing": {"test_components": ["connect"], "connect_expose": "ingress", "connect_expose_host": "connect.example.com",
                    "connect_ingress_class": "nginx", "connect_ingress_tls_secret": "connect-tls",
                    "connect_metrics_enabled": True, "connect_anti_affinity": "none", "kafka_authorization": "none", "kafka_listeners": [PLAIN]},
    # a Kafka host MirrorMaker 2 mirrors from; it deploys nothing here
    "mm-east": {"test_components": [], "streams_namespace": "east", "streams_cluster_name": "east"},
    "mm-west": {"test_components": ["mirrormaker"], "mirrormaker_sources": ["mm-east"],
                "mirrormaker_topics": ["orders[.].*", "payments"], "mirrormaker_groups_exclude": [],
                "mirrormaker_replication_policy": "identity", "mirrormaker_sync_group_offsets": False,
                "mirrormaker_source_connector_config": {"consumer.max.poll.records": 1000}, "mirrormaker_replicas": 2},
    # another Kubernetes cluster, reached at its external address
    "mm-remote": {"test_components": [], "streams_context": "remote",
                  "streams_kafka_external_bootstrap": "kafka-bootstrap.apps.remote.example.com:443",
                  "streams_kafka_client_properties": {"security.protocol": "SSL"}},
    "mm-far": {"test_components": ["mirrormaker"], "streams_context": "far", "mirrormaker_sources": ["mm-remote", "mm-east2"]},
    "mm-east2": {"test_components": [], "streams_context": "far"},
    "bridge-dev": {"test_components": ["bridge"]},
    "bridge-prod": {"test_components": ["bridge"], "bridge_replicas": 2, "bridge_expose": "route",
                    "bridge_producer_config": {"acks": "all", "enable.idempotence": True},
                    "bridge_consumer_config": {"auto.offset.reset": "earliest"},
                    "bridge_cors_enabled": True, "bridge_cors_allowed_origins": ["https://app.example.com"],
                    "bridge_config": {"http.timeoutSeconds": 300}, "bridge_image": "registry.example.com/bridge:0.31.1"},
    "bridge-pm": {"test_components": ["bridge"], "bridge_metrics_enabled": True, "kafka_authorization": "none", "kafka_listeners": [PLAIN]},
    "bridge-sm": {"test_components": ["bridge"], "bridge_metrics_enabled": True, "bridge_metrics_monitor": "servicemonitor",
                  "bridge_metrics_interval": "15s", "streams_namespace": "bridge-ns"},
    "exporter-dev": {"test_components": ["exporter"]},
    "exporter-prod": {"test_components": ["exporter"], "exporter_replicas": 2, "exporter_topic_exclude_regex": "__.*",
                      "exporter_group_regex": "billing-.*", "exporter_show_all_offsets": False,
                      "exporter_servicemonitor_enabled": False, "kafka_authorization": "none", "kafka_listeners": [
                          {"name": "tls", "port": 9093, "type": "internal", "tls": True},
                          {"name": "plain", "port": 9095, "type": "internal", "tls": False}]},
    "all-four": {"test_components": ["connect", "mirrormaker", "bridge", "exporter"], "mirrormaker_sources": ["mm-east"]},
    # every component over TLS: the host's internal listener has TLS with the brokers' certificate,
    # and MirrorMaker 2's source, in the same namespace, too
    "tls-all": {"test_components": ["connect", "mirrormaker", "bridge", "exporter"], "mirrormaker_sources": ["tls-src"],
                "kafka_authorization": "none", "kafka_listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": True}]},
    "tls-src": {"test_components": [], "kafka_authorization": "none",
                "kafka_listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": True}]},
    # the ACL authorizer: every component authenticates with its client certificate, and MirrorMaker 2
    # with one its source issued
    "mtls-all": {"test_components": ["connect", "mirrormaker", "bridge", "exporter"], "mirrormaker_sources": ["mtls-src"],
                 "kafka_authorization": "simple", "kafka_listeners": [
                     {"name": "plain", "port": 9092, "type": "internal", "tls": False},
                     {"name": "mtls", "port": 9094, "type": "internal", "tls": True, "authentication": "tls"}]},
    "mtls-src": {"test_components": [], "streams_cluster_name": "src", "kafka_authorization": "simple",
                 "kafka_listeners": [{"name": "mtls", "port": 9094, "type": "internal", "tls": True, "authentication": "tls"}]},
}

# host -> (variables, [fragments the one failure message must contain])
REFUSED = {
    "connect-zero": ({"test_components": ["connect"], "connect_replicas": 0}, ["connect_replicas=0 is not valid", "1 or more"]),
    "connect-owned": ({"test_components": ["connect"], "connect_config": {"group.id": "x", "bootstrap.servers": "y:1"}},
                      ["connect_config sets bootstrap.servers, group.id, which the role owns", "connect_group_id"]),
    "connect-same-topic": ({"test_components": ["connect"], "connect_offset_storage_topic": "connect-same-topic-connect-configs"},
                           ["must be three different topics"]),
    "connect-rf": ({"test_components": ["connect"], "connect_status_storage_replication_factor": 0},
                   ["connect_status_storage_replication_factor=0 is not valid", "-1 for the brokers' default.replication.factor"]),
    "connect-heap": ({"test_components": ["connect"], "connect_jvm_heap": "1900Mi"},
                     ["connect_jvm_heap='1900Mi' does not fit", "80% of connect_memory_limit='2Gi'"]),
    "connect-ingress": ({"test_components": ["connect"], "connect_expose": "ingress"},
                        ["connect_expose='ingress' with connect_expose_host=''", "an Ingress needs"]),
    "connect-bad-name": ({"test_components": ["connect"], "connect_connectors": [{"name": "my sink", "config": SINK}]},
                         ["connect_connectors entry", "my sink", "is not valid"]),
    "connect-no-class": ({"test_components": ["connect"], "connect_connectors": [{"name": "a", "config": {"topics": "x"}}]},
                         ["needs a config with connector.class"]),
    "connect-dup": ({"test_components": ["connect"], "connect_connectors": [{"name": "a", "config": SINK}, {"name": "b", "config": SINK},
                                                                            {"name": "a", "state": "absent"}]},
                    ["connect_connectors names a more than once"]),
    "connect-converter": ({"test_components": ["connect"], "connect_key_converter": "Json Converter"},
                          ["connect_key_converter='Json Converter' is not valid", "fully qualified name"]),
    # a TLS listener with a certificate of the user's own is not one the cluster CA lets clients trust
    "connect-tls-only": ({"test_components": ["connect"], "kafka_authorization": "none",
                          "kafka_listeners": [{"name": "tls", "port": 9093, "type": "internal", "tls": True, "cert_secret": "my-cert"}]},
                         ["kafka_listeners of host connect-tls-only has no internal listener Connect, MirrorMaker 2"]),
    "mm-none": ({"test_components": ["mirrormaker"]}, ["mirrormaker_sources is empty"]),
    "mm-unknown": ({"test_components": ["mirrormaker"], "mirrormaker_sources": ["nowhere"]},
                   ["mirrormaker_sources entry 'nowhere' is not valid", "inventory hosts other than mm-unknown"]),
    "mm-self": ({"test_components": ["mirrormaker"], "mirrormaker_sources": ["mm-self"]},
                ["mirrormaker_sources entry 'mm-self' is not valid"]),
    "mm-cross": ({"test_components": ["mirrormaker"], "streams_context": "cross", "mirrormaker_sources": ["mm-east"]},
                 ["mirrormaker_sources entry 'mm-east' cannot be reached: host mm-east runs on another Kubernetes cluster than mm-cross",
                  "Set streams_kafka_external_bootstrap in the host_vars of mm-east"]),
    "mm-owned": ({"test_components": ["mirrormaker"], "mirrormaker_sources": ["mm-east"],
                  "mirrormaker_source_connector_config": {"topics": "x", "source.cluster.alias": "y"}},
                 ["mirrormaker_source_connector_config sets source.cluster.alias, topics"]),
    "mm-comma": ({"test_components": ["mirrormaker"], "mirrormaker_sources": ["mm-east"], "mirrormaker_topics": ["a{1,2}"]},
                 ['mirrormaker_topics=["a{1,2}"] is not valid', "without commas"]),
    "bridge-cors": ({"test_components": ["bridge"], "bridge_cors_enabled": True}, ["at least one when CORS is enabled"]),
    "bridge-owned": ({"test_components": ["bridge"], "bridge_config": {"http.port": 9000, "kafka.producer.acks": "all"}},
                     ["bridge_config sets http.port, kafka.producer.acks, which the role owns"]),
    "bridge-prefixed": ({"test_components": ["bridge"], "bridge_producer_config": {"kafka.producer.acks": "all"}},
                        ["bridge_producer_config entries kafka.producer.acks are not valid", "without the kafka.producer. prefix"]),
    "bridge-quantity": ({"test_components": ["bridge"], "bridge_memory_limit": "512MB"},
                        ["bridge_memory_limit='512MB' is not valid", "Kubernetes quantity"]),
    "bridge-interval": ({"test_components": ["bridge"], "bridge_metrics_enabled": True, "bridge_metrics_interval": "30 seconds"},
                        ["bridge_metrics_interval='30 seconds' is not valid", "Prometheus duration"]),
    "bridge-monitor": ({"test_components": ["bridge"], "bridge_metrics_monitor": "prometheus"},
                       ["bridge_metrics_monitor", "podmonitor, servicemonitor"]),
    "exporter-simple": ({"test_components": ["exporter"], "kafka_authorization": "simple", "kafka_listeners": [PLAIN]},
                        ["kafka_authorization of host exporter-simple is simple", "authentication: tls"]),
    "exporter-tls": ({"test_components": ["exporter"], "streams_kafka_client_properties": {"sasl.mechanism": "SCRAM-SHA-512"}},
                     ["the Kafka Exporter cannot yet connect with this host's Kafka client settings"]),
    "exporter-brokers": ({"test_components": ["exporter"], "exporter_expected_brokers": 0},
                         ["exporter_expected_brokers=0 are not valid"]),
    "exporter-choice": ({"test_components": ["exporter"], "exporter_anti_affinity": "sometimes"},
                        ["exporter_anti_affinity", "preferred, required, none"]),
}


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    hosts = dict(VALID)
    hosts.update({host: variables for host, (variables, _fragments) in REFUSED.items()})
    inventory = write_inventory(tmp / "hosts.yml", hosts, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "out"})
    run = run_playbook(tmp, inventory, playbook=PLAYBOOK, args=["--forks", "30"], timeout=900)
    return tmp, run


def manifests(rendered, host, component):
    tmp, run = rendered
    path = tmp / "out" / host / FILES[component]
    assert path.is_file(), run.describe()
    return load_manifests(path)


def objects(rendered, host, component):
    return by_kind(manifests(rendered, host, component))


def names(rendered, host, component):
    # The NetworkPolicy every component has: tests/unit/roles/test_network_policies.py
    return sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in manifests(rendered, host, component) if o["kind"] != "NetworkPolicy")


def deployment(rendered, host, component):
    return objects(rendered, host, component)["Deployment"]


def container(rendered, host, component):
    return deployment(rendered, host, component)["spec"]["template"]["spec"]["containers"][0]


def config_maps(rendered, host, component):
    return {o["metadata"]["name"]: o for o in manifests(rendered, host, component) if o["kind"] == "ConfigMap"}


def worker_properties(rendered, host, component, raw=False):
    cluster = VALID[host].get("streams_cluster_name", host)
    text = config_maps(rendered, host, component)["%s-%s-config" % (cluster, component)]["data"]["worker.properties"]
    return text if raw else parse_properties(text)


VALID_CASES = [(host, component) for host, variables in sorted(VALID.items()) for component in variables["test_components"]]


# --- the run ----------------------------------------------------------------------------------

def test_valid_hosts_pass_and_refused_hosts_fail_in_preflight(rendered):
    tmp, run = rendered
    failed = {host for _task, host, _msg in run.failures()}
    assert failed == set(REFUSED), run.describe()
    for host, component in VALID_CASES:
        assert (tmp / "out" / host / FILES[component]).is_file(), (host, component)


@pytest.mark.parametrize("host", sorted(REFUSED))
def test_refusal_names_the_variable_and_what_is_valid(rendered, host):
    tmp, run = rendered
    messages = [msg for _task, name, msg in run.failures(host)]
    assert len(messages) == 1, messages
    for fragment in REFUSED[host][1]:
        assert fragment in messages[0], messages[0]
    assert not (tmp / "out" / host).exists() or not list((tmp / "out" / host).glob("[1-9]*.yaml"))


# --- every object -------------------------------------------------------------------------------

@pytest.mark.parametrize("host, component", VALID_CASES)
def test_objects_pass_strict_schema_validation(rendered, host, component):
    objs = manifests(rendered, host, component)
    crds = manifest_schema.load_crd_schemas([str(CRDS)])
    cluster = VALID[host].get("streams_cluster_name", host)
    refs = manifest_schema.validate_manifests(objs, KUBERNETES_VERSIONS, crds, {
        "app.kubernetes.io/instance": cluster, "app.kubernetes.io/part-of": "streams",
        "app.kubernetes.io/managed-by": "streams.kafka", "app.kubernetes.io/component": component})
    assert len(refs) == len(objs)
    for obj in objs:
        labels = dict(obj["metadata"]["labels"])
        # the ServiceMonitor's Service carries one label more, which the monitor selects
        if labels.pop("streams.kafka/metrics", None):
            assert obj["kind"] == "Service" and obj["metadata"]["name"].endswith("-metrics")
        assert labels == standard_labels(cluster, component)
        assert obj["metadata"]["namespace"] == VALID[host].get("streams_namespace", "kafka")


@pytest.mark.parametrize("host, component", VALID_CASES)
def test_deployment_rolls_one_up_first_with_a_restricted_pod(rendered, host, component):
    dep = deployment(rendered, host, component)
    spec = dep["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    cluster = VALID[host].get("streams_cluster_name", host)
    assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/instance": cluster, "app.kubernetes.io/name": component}}
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert "runAsUser" not in security
    openshift = VALID[host].get("streams_platform") == "openshift"
    assert ("fsGroup" in security) is not openshift and security.get("fsGroup", 0) == 0
    for c in pod["containers"]:
        assert c["securityContext"] == {"runAsNonRoot": True, "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                        "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
        assert "runAsUser" not in c["securityContext"]
        assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
        assert c["resources"]["limits"]["memory"]
    replicas = spec["replicas"]
    pdb = objects(rendered, host, component).get("PodDisruptionBudget")
    if replicas > 1:
        assert pdb["spec"] == {"maxUnavailable": 1, "selector": spec["selector"]}
    else:
        assert pdb is None


@pytest.mark.parametrize("host, component", [(h, c) for h, c in VALID_CASES if c != "exporter"])
def test_config_hash_is_the_hash_of_the_configmap_data(rendered, host, component):
    cluster = VALID[host].get("streams_cluster_name", host)
    data = config_maps(rendered, host, component)["%s-%s-config" % (cluster, component)]["data"]
    annotation = deployment(rendered, host, component)["spec"]["template"]["metadata"]["annotations"]["streams.kafka/config-hash"]
    assert annotation == hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# --- connect ------------------------------------------------------------------------------------

def test_connect_objects(rendered):
    assert names(rendered, "connect-dev", "connect") == [
        "ConfigMap/connect-dev-connect-config", "Deployment/connect-dev-connect", "Service/connect-dev-connect-api"]
    assert names(rendered, "connect-prod", "connect") == [
        "ConfigMap/connect-prod-connect-config", "Deployment/connect-prod-connect", "PodDisruptionBudget/connect-prod-connect",
        "Route/connect-prod-connect-api", "Service/connect-prod-connect-api", "Service/connect-prod-connect-metrics",
        "ServiceMonitor/connect-prod-connect"]
    assert names(rendered, "connect-ing", "connect") == [
        "ConfigMap/connect-ing-connect-config", "Deployment/connect-ing-connect", "Ingress/connect-ing-connect-api",
        "PodMonitor/connect-ing-connect", "Service/connect-ing-connect-api"]


def test_connect_worker_properties(rendered):
    props = worker_properties(rendered, "connect-dev", "connect")
    # the defaults: the tls listener, the workers' own certificate
    assert props["bootstrap.servers"] == "connect-dev-kafka-bootstrap.kafka.svc:9093"
    assert props["group.id"] == "connect-dev-connect"
    assert [props[k + ".storage.topic"] for k in ("config", "offset", "status")] == [
        "connect-dev-connect-configs", "connect-dev-connect-offsets", "connect-dev-connect-status"]
    assert [props[k + ".storage.replication.factor"] for k in ("config", "offset", "status")] == ["3", "3", "3"]
    assert props["key.converter"] == props["value.converter"] == "org.apache.kafka.connect.json.JsonConverter"
    assert props["key.converter.schemas.enable"] == "true"
    assert props["plugin.path"] == "/opt/kafka/plugins"
    assert props["listeners"] == "http://:8083" and props["rest.advertised.port"] == "8083"
    # the worker's own config providers, which resolve the clients' ${directory:...} too: not
    # replaced by the client properties' config.providers=directory (the last key in the file wins)
    assert props["config.providers"] == "file,directory,env"
    raw = worker_properties(rendered, "connect-dev", "connect", raw=True).splitlines()
    assert [line for line in raw if line.split("=")[0].endswith("config.providers")] == ["config.providers=file,directory,env"]
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert props[prefix + "security.protocol"] == "SSL"
        assert props[prefix + "ssl.keystore.key"] == "${directory:/opt/streams/certs:tls.key}"
    assert worker_properties(rendered, "connect-ing", "connect")["security.protocol"] == "PLAINTEXT"
    prod = worker_properties(rendered, "connect-prod", "connect")
    assert prod["bootstrap.servers"] == "connect-prod-kafka-bootstrap.streams-prod.svc:9093"
    assert prod["group.id"] == "orders-connect" and prod["config.storage.replication.factor"] == "-1"
    assert prod["plugin.path"] == "/opt/kafka/plugins,/opt/connectors"
    assert prod["value.converter"] == "org.apache.kafka.connect.storage.StringConverter"
    assert prod["key.converter.schemas.enable"] == "false" and "value.converter.schemas.enable" not in prod
    assert prod["offset.flush.interval.ms"] == "10000" and prod["producer.compression.type"] == "lz4"


def test_connect_container(rendered):
    dev = container(rendered, "connect-dev", "connect")
    assert dev["image"] == "quay.io/strimzi/kafka:0.45.0-kafka-3.9.0"
    script = dev["command"][2]
    assert "exec /opt/kafka/bin/connect-distributed.sh /tmp/worker.properties" in script
    assert 'echo "rest.advertised.host.name=${POD_IP}"' in script and "javaagent" not in script
    env = {e["name"]: e for e in dev["env"]}
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert env["KAFKA_HEAP_OPTS"]["value"] == "-Xms1024m -Xmx1024m"
    assert dev["readinessProbe"]["httpGet"] == {"path": "/", "port": "rest"}
    assert dev["readinessProbe"]["initialDelaySeconds"] == 60
    assert dev["ports"] == [{"name": "rest", "containerPort": 8083, "protocol": "TCP"}]
    prod = container(rendered, "connect-prod", "connect")
    assert prod["image"] == "registry.example.com/kafka/connect-with-jdbc:3.9.0-1"
    assert "-javaagent:${agents[0]}=9404:/opt/kafka/custom-config/metrics-config.yml" in prod["command"][2]
    assert {"name": "metrics", "containerPort": 9404, "protocol": "TCP"} in prod["ports"]
    assert prod["resources"] == {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}
    pod = deployment(rendered, "connect-prod", "connect")["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [{"name": "rh-registry"}]
    assert "requiredDuringSchedulingIgnoredDuringExecution" in pod["affinity"]["podAntiAffinity"]
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/infra": ""}
    assert "affinity" not in deployment(rendered, "connect-ing", "connect")["spec"]["template"]["spec"]


def test_connect_route_and_ingress(rendered):
    route = objects(rendered, "connect-prod", "connect")["Route"]
    assert route["spec"] == {"host": "connect.apps.example.com", "to": {"kind": "Service", "name": "connect-prod-connect-api", "weight": 100},
                             "port": {"targetPort": "rest"}, "tls": {"termination": "edge", "insecureEdgeTerminationPolicy": "Redirect"}}
    ingress = objects(rendered, "connect-ing", "connect")["Ingress"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["connect.example.com"], "secretName": "connect-tls"}]
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"] == {"service": {"name": "connect-ing-connect-api", "port": {"name": "rest"}}}


# --- mirrormaker ----------------------------------------------------------------------------------

def mm2_connectors(rendered, host):
    cluster = VALID[host].get("streams_cluster_name", host)
    data = config_maps(rendered, host, "mirrormaker")["%s-mirrormaker-connectors" % cluster]["data"]
    return {key[:-len(".json")]: json.loads(value) for key, value in data.items()}


def test_mirrormaker_points_at_the_other_hosts_bootstrap(rendered):
    connectors = mm2_connectors(rendered, "mm-west")
    assert sorted(connectors) == ["mm-east-to-mm-west.MirrorCheckpointConnector", "mm-east-to-mm-west.MirrorHeartbeatConnector",
                                  "mm-east-to-mm-west.MirrorSourceConnector"]
    for config in connectors.values():
        # mm-east's own streams_cluster_name and namespace, from its hostvars
        assert config["source.cluster.bootstrap.servers"] == "east-kafka-bootstrap.east.svc:9093"
        assert config["target.cluster.bootstrap.servers"] == "mm-west-kafka-bootstrap.kafka.svc:9093"
        assert config["source.cluster.alias"] == "mm-east" and config["target.cluster.alias"] == "mm-west"
        assert config["source.cluster.security.protocol"] == config["target.cluster.security.protocol"] == "SSL"
        # mm-east's certificate for mm-west, mounted from the copy in mm-west's namespace
        assert config["source.cluster.ssl.keystore.key"] == "${directory:/opt/streams/certs-east:tls.key}"
        assert config["replication.policy.class"] == "org.apache.kafka.connect.mirror.IdentityReplicationPolicy"
        assert config["key.converter"] == config["value.converter"] == "org.apache.kafka.connect.converters.ByteArrayConverter"
    source = connectors["mm-east-to-mm-west.MirrorSourceConnector"]
    assert source["connector.class"] == "org.apache.kafka.connect.mirror.MirrorSourceConnector"
    assert source["topics"] == "orders[.].*,payments" and source["topics.exclude"] == ".*[\\-\\.]internal,.*\\.replica,__.*"
    assert source["offset-syncs.topic.location"] == "source" and source["consumer.max.poll.records"] == 1000
    checkpoint = connectors["mm-east-to-mm-west.MirrorCheckpointConnector"]
    assert checkpoint["groups"] == ".*" and checkpoint["groups.exclude"] == ""
    assert checkpoint["sync.group.offsets.enabled"] is False
    heartbeat = connectors["mm-east-to-mm-west.MirrorHeartbeatConnector"]
    assert heartbeat["connector.class"] == "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector"


def test_mirrormaker_reaches_another_cluster_at_its_external_address(rendered):
    connectors = mm2_connectors(rendered, "mm-far")
    remote = connectors["mm-remote-to-mm-far.MirrorSourceConnector"]
    assert remote["source.cluster.bootstrap.servers"] == "kafka-bootstrap.apps.remote.example.com:443"
    assert remote["source.cluster.security.protocol"] == "SSL"
    assert remote["target.cluster.security.protocol"] == "SSL"
    # mm-east2 shares mm-far's cluster (same context): its internal address
    east2 = connectors["mm-east2-to-mm-far.MirrorSourceConnector"]
    assert east2["source.cluster.bootstrap.servers"] == "mm-east2-kafka-bootstrap.kafka.svc:9093"
    assert len(connectors) == 6


def test_mirrormaker_worker_is_a_connect_worker_on_the_target(rendered):
    assert names(rendered, "mm-west", "mirrormaker") == [
        "ConfigMap/mm-west-mirrormaker-config", "ConfigMap/mm-west-mirrormaker-connectors", "Deployment/mm-west-mirrormaker",
        "PodDisruptionBudget/mm-west-mirrormaker", "Service/mm-west-mirrormaker-api"]
    props = worker_properties(rendered, "mm-west", "mirrormaker")
    assert props["bootstrap.servers"] == "mm-west-kafka-bootstrap.kafka.svc:9093"
    assert props["group.id"] == "mm-west-mirrormaker" and props["config.storage.topic"] == "mm-west-mirrormaker-configs"
    c = container(rendered, "mm-west", "mirrormaker")
    assert c["name"] == "mirrormaker" and "connect-distributed.sh" in c["command"][2]


# --- bridge -----------------------------------------------------------------------------------------

def bridge_properties(rendered, host):
    return parse_properties(config_maps(rendered, host, "bridge")["%s-bridge-config" % host]["data"]["application.properties"])


def test_bridge_objects_and_properties(rendered):
    assert names(rendered, "bridge-dev", "bridge") == ["ConfigMap/bridge-dev-bridge-config", "Deployment/bridge-dev-bridge",
                                                       "Service/bridge-dev-bridge"]
    assert "Route/bridge-prod-bridge" in names(rendered, "bridge-prod", "bridge")
    props = bridge_properties(rendered, "bridge-dev")
    assert props == {"bridge.id": "bridge-dev-bridge", "kafka.bootstrap.servers": "bridge-dev-kafka-bootstrap.kafka.svc:9093",
                     "kafka.security.protocol": "SSL", "kafka.ssl.truststore.type": "PEM",
                     "kafka.ssl.truststore.location": "/opt/streams/cluster-ca/ca.crt", "kafka.config.providers": "directory",
                     "kafka.config.providers.directory.class": "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
                     "kafka.ssl.keystore.type": "PEM", "kafka.ssl.keystore.certificate.chain": "${directory:/opt/streams/certs:tls.crt}",
                     "kafka.ssl.keystore.key": "${directory:/opt/streams/certs:tls.key}",
                     "http.host": "0.0.0.0", "http.port": "8080", "http.cors.enabled": "false"}
    assert bridge_properties(rendered, "bridge-pm")["kafka.security.protocol"] == "PLAINTEXT"
    prod = bridge_properties(rendered, "bridge-prod")
    assert prod["kafka.producer.acks"] == "all" and prod["kafka.producer.enable.idempotence"] == "true"
    assert prod["kafka.consumer.auto.offset.reset"] == "earliest"
    assert prod["http.cors.enabled"] == "true" and prod["http.cors.allowedOrigins"] == "https://app.example.com"
    assert prod["http.timeoutSeconds"] == "300"
    service = objects(rendered, "bridge-dev", "bridge")["Service"]
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]


def test_bridge_container(rendered):
    c = container(rendered, "bridge-dev", "bridge")
    assert c["image"] == "quay.io/strimzi/kafka-bridge:0.31.1"
    assert c["command"] == ["/opt/strimzi/bin/kafka_bridge_run.sh", "--config-file=/opt/strimzi/custom-config/application.properties"]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthy", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env["JAVA_OPTS"] == "-Xms256m -Xmx256m"
    assert env["KAFKA_BRIDGE_LOG4J_OPTS"] == "-Dlog4j2.configurationFile=file:/opt/strimzi/custom-config/log4j2.properties"
    assert container(rendered, "bridge-prod", "bridge")["image"] == "registry.example.com/bridge:0.31.1"


def bridge_env(rendered, host):
    return {e["name"]: e["value"] for e in container(rendered, host, "bridge")["env"]}


@pytest.mark.parametrize("host", ["bridge-dev", "bridge-prod"])
def test_bridge_metrics_off_render_no_monitor_and_no_metrics_setting(rendered, host):
    kinds = {o["kind"] for o in manifests(rendered, host, "bridge")}
    assert not kinds & {"PodMonitor", "ServiceMonitor"}
    assert "Service/%s-bridge-metrics" % host not in names(rendered, host, "bridge")
    assert "KAFKA_BRIDGE_METRICS_ENABLED" not in bridge_env(rendered, host)
    assert not [key for key in bridge_properties(rendered, host) if "metrics" in key]


def test_bridge_metrics_podmonitor_scrapes_the_http_port(rendered):
    assert names(rendered, "bridge-pm", "bridge") == ["ConfigMap/bridge-pm-bridge-config", "Deployment/bridge-pm-bridge",
                                                      "PodMonitor/bridge-pm-bridge", "Service/bridge-pm-bridge"]
    # Bridge 0.31 turns its /metrics endpoint on with this variable only
    assert bridge_env(rendered, "bridge-pm")["KAFKA_BRIDGE_METRICS_ENABLED"] == "true"
    assert not [key for key in bridge_properties(rendered, "bridge-pm") if "metrics" in key]
    c = container(rendered, "bridge-pm", "bridge")
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    monitor = objects(rendered, "bridge-pm", "bridge")["PodMonitor"]
    assert monitor["metadata"]["labels"] == standard_labels("bridge-pm", "bridge")
    assert monitor["spec"] == {
        "selector": {"matchLabels": {"app.kubernetes.io/instance": "bridge-pm", "app.kubernetes.io/name": "bridge"}},
        "podMetricsEndpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}]}
    pod_labels = deployment(rendered, "bridge-pm", "bridge")["spec"]["template"]["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_bridge_metrics_servicemonitor_scrapes_every_pod_through_a_headless_service(rendered):
    assert names(rendered, "bridge-sm", "bridge") == ["ConfigMap/bridge-sm-bridge-config", "Deployment/bridge-sm-bridge",
                                                      "Service/bridge-sm-bridge", "Service/bridge-sm-bridge-metrics",
                                                      "ServiceMonitor/bridge-sm-bridge"]
    assert bridge_env(rendered, "bridge-sm")["KAFKA_BRIDGE_METRICS_ENABLED"] == "true"
    services = {o["metadata"]["name"]: o for o in manifests(rendered, "bridge-sm", "bridge") if o["kind"] == "Service"}
    metrics = services["bridge-sm-bridge-metrics"]
    selector = {"app.kubernetes.io/instance": "bridge-sm", "app.kubernetes.io/name": "bridge"}
    assert metrics["metadata"]["namespace"] == "bridge-ns"
    assert metrics["spec"] == {"clusterIP": "None", "selector": selector,
                               "ports": [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]}
    monitor = objects(rendered, "bridge-sm", "bridge")["ServiceMonitor"]
    assert monitor["metadata"]["labels"] == standard_labels("bridge-sm", "bridge")
    assert monitor["spec"] == {"selector": {"matchLabels": dict(selector, **{"streams.kafka/metrics": "true"})},
                               "endpoints": [{"port": "http", "path": "/metrics", "interval": "15s"}]}
    # it selects the headless Service only, not the client Service, and names a port the Service has
    wanted = monitor["spec"]["selector"]["matchLabels"].items()
    assert [name for name, svc in services.items() if wanted <= svc["metadata"]["labels"].items()] == ["bridge-sm-bridge-metrics"]
    assert monitor["spec"]["endpoints"][0]["port"] in [p["name"] for p in metrics["spec"]["ports"]]


# --- exporter -----------------------------------------------------------------------------------------

def test_exporter_objects_and_command_line(rendered):
    assert names(rendered, "exporter-dev", "exporter") == ["Deployment/exporter-dev-exporter", "Service/exporter-dev-exporter",
                                                           "ServiceMonitor/exporter-dev-exporter"]
    assert names(rendered, "exporter-prod", "exporter") == ["Deployment/exporter-prod-exporter",
                                                            "PodDisruptionBudget/exporter-prod-exporter", "Service/exporter-prod-exporter"]
    c = container(rendered, "exporter-dev", "exporter")
    assert c["command"] == ["/opt/kafka-exporter/kafka_exporter"]
    assert c["args"] == ["--kafka.server=exporter-dev-kafka-bootstrap.kafka.svc:9093", "--kafka.version=3.9.0",
                         "--web.listen-address=:9404", "--web.telemetry-path=/metrics", "--topic.filter=.*", "--group.filter=.*",
                         "--offset.show-all", "--verbosity=0",
                         "--tls.enabled", "--tls.ca-file=/opt/streams/cluster-ca/ca.crt", "--tls.insecure-skip-tls-verify=false",
                         "--tls.cert-file=/opt/streams/certs/tls.crt", "--tls.key-file=/opt/streams/certs/tls.key"]
    assert c["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    prod = container(rendered, "exporter-prod", "exporter")["args"]
    # the port of the first internal TLS listener with the brokers' certificate, trusting the cluster CA
    assert prod[0] == "--kafka.server=exporter-prod-kafka-bootstrap.kafka.svc:9093"
    assert prod[-3:] == ["--tls.enabled", "--tls.ca-file=/opt/streams/cluster-ca/ca.crt", "--tls.insecure-skip-tls-verify=false"]
    assert not [arg for arg in prod if arg.startswith("--tls.cert-file")]
    assert "--topic.exclude=__.*" in prod and "--group.filter=billing-.*" in prod and "--offset.show-all" not in prod
    monitor = objects(rendered, "exporter-dev", "exporter")["ServiceMonitor"]
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    assert monitor["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/instance": "exporter-dev", "app.kubernetes.io/name": "exporter"}


def test_all_four_in_one_host_write_their_numbered_files(rendered):
    tmp, _run = rendered
    written = sorted(p.name for p in (tmp / "out" / "all-four").glob("*.yaml"))
    assert written == ["00-namespace.yaml", "30-connect.yaml", "40-mirrormaker.yaml", "50-bridge.yaml", "60-exporter.yaml"]


def test_components_on_a_tls_listener_trust_the_mounted_cluster_ca(rendered):
    """With a TLS internal listener every component says SSL, trusts the PEM cluster CA, and mounts
    <cluster>-cluster-ca-cert where its properties (or flags) read it."""
    def mounted(host, component):
        pod = deployment(rendered, host, component)["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        return {m["mountPath"]: secrets[m["name"]] for m in pod["containers"][0]["volumeMounts"] if m["name"] in secrets}

    connect = worker_properties(rendered, "tls-all", "connect")
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert connect[prefix + "security.protocol"] == "SSL"
        assert connect[prefix + "ssl.truststore.type"] == "PEM"
        assert connect[prefix + "ssl.truststore.location"] == "/opt/streams/cluster-ca/ca.crt"
    assert connect["bootstrap.servers"] == "tls-all-kafka-bootstrap.kafka.svc:9093"
    assert mounted("tls-all", "connect") == {"/opt/streams/cluster-ca": "tls-all-cluster-ca-cert"}
    # MirrorMaker 2: its own cluster's CA and the source's, each where the connectors read it
    assert mounted("tls-all", "mirrormaker") == {"/opt/streams/cluster-ca": "tls-all-cluster-ca-cert",
                                                 "/opt/streams/cluster-ca-tls-src": "tls-src-cluster-ca-cert"}
    source = mm2_connectors(rendered, "tls-all")["tls-src-to-tls-all.MirrorSourceConnector"]
    assert source["source.cluster.ssl.truststore.location"] == "/opt/streams/cluster-ca-tls-src/ca.crt"
    assert source["target.cluster.ssl.truststore.location"] == "/opt/streams/cluster-ca/ca.crt"
    bridge = parse_properties(config_maps(rendered, "tls-all", "bridge")["tls-all-bridge-config"]["data"]["application.properties"])
    assert bridge["kafka.security.protocol"] == "SSL" and bridge["kafka.ssl.truststore.location"] == "/opt/streams/cluster-ca/ca.crt"
    assert mounted("tls-all", "bridge") == {"/opt/streams/cluster-ca": "tls-all-cluster-ca-cert"}
    assert "--tls.ca-file=/opt/streams/cluster-ca/ca.crt" in container(rendered, "tls-all", "exporter")["args"]
    assert mounted("tls-all", "exporter") == {"/opt/streams/cluster-ca": "tls-all-cluster-ca-cert"}
    # a plain listener: no CA mounted
    assert mounted("connect-ing", "connect") == {} and mounted("bridge-pm", "bridge") == {}
    # the defaults: the CA and the component's own certificate
    assert mounted("connect-dev", "connect") == {"/opt/streams/cluster-ca": "connect-dev-cluster-ca-cert",
                                                 "/opt/streams/certs": "connect-dev-connect-user"}


def test_with_the_acl_authorizer_each_component_mounts_and_presents_its_own_certificate(rendered):
    """kafka_authorization simple: the components take the authentication: tls listener (not the
    plain one), mount <cluster>-<component>-user at /opt/streams/certs and read it as a PEM keystore;
    MirrorMaker 2 also mounts the certificate its source issued it, and the exporter takes it as flags."""
    def mounted(component):
        pod = deployment(rendered, "mtls-all", component)["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        return {m["mountPath"]: secrets[m["name"]] for m in pod["containers"][0]["volumeMounts"] if m["name"] in secrets}

    ca = {"/opt/streams/cluster-ca": "mtls-all-cluster-ca-cert"}
    for component in ("connect", "bridge", "exporter"):
        assert mounted(component) == dict(ca, **{"/opt/streams/certs": "mtls-all-%s-user" % component}), component
    assert mounted("mirrormaker") == dict(ca, **{"/opt/streams/certs": "mtls-all-mirrormaker-user",
                                                 "/opt/streams/cluster-ca-src": "src-cluster-ca-cert",
                                                 "/opt/streams/certs-src": "src-mtls-all-mirrormaker-user"})
    connect = worker_properties(rendered, "mtls-all", "connect")
    assert connect["bootstrap.servers"] == "mtls-all-kafka-bootstrap.kafka.svc:9094"
    assert connect["producer.ssl.keystore.certificate.chain"] == "${directory:/opt/streams/certs:tls.crt}"
    assert connect["config.providers.directory.class"].endswith("DirectoryConfigProvider")
    source = mm2_connectors(rendered, "mtls-all")["mtls-src-to-mtls-all.MirrorSourceConnector"]
    assert source["source.cluster.ssl.keystore.key"] == "${directory:/opt/streams/certs-src:tls.key}"
    assert source["target.cluster.ssl.keystore.key"] == "${directory:/opt/streams/certs:tls.key}"
    bridge = parse_properties(config_maps(rendered, "mtls-all", "bridge")["mtls-all-bridge-config"]["data"]["application.properties"])
    assert bridge["kafka.ssl.keystore.key"] == "${directory:/opt/streams/certs:tls.key}"
    args = container(rendered, "mtls-all", "exporter")["args"]
    assert "--tls.cert-file=/opt/streams/certs/tls.crt" in args and "--tls.key-file=/opt/streams/certs/tls.key" in args
    # no key file is in a ConfigMap
    for component in ("connect", "mirrormaker", "bridge"):
        for config_map in config_maps(rendered, "mtls-all", component).values():
            assert "PRIVATE KEY" not in json.dumps(config_map), component
