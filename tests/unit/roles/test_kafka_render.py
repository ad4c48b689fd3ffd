"""The kafka role in directory mode: what it renders, how its objects fit together, and what
its preflight refuses.

One ansible-playbook run of playbooks/site.yml renders every variant: each inventory host is
one case. The valid ones write build/manifests/<host>/10-zookeeper.yaml and 20-kafka.yaml; the
refused ones fail in the pre-pass, before anything of ZooKeeper or Kafka is written.
"""

import hashlib
import http.server
import json
import pathlib
import re
import socket
import subprocess
import threading

import pytest
import yaml

from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels
from ansible_collections.streams.kafka.plugins.module_utils import kafka as kafka_gate
from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema
from tests.helpers import CRDS, KUBERNETES_VERSIONS, load_manifests, run_playbook, write_inventory
from tests.kafka_metrics import GATE_BEANS, broker_metrics
from tests.zookeeper_ensemble import parse_properties

from tests.unit.roles.test_zookeeper_render import restricted_violations

ROOT = pathlib.Path(__file__).resolve().parents[3]
OWNED = yaml.safe_load((ROOT / "roles/kafka/vars/main.yml").read_text())["__kafka_owned_keys"]

PLAIN = {"name": "plain", "port": 9092, "type": "internal", "tls": False}
# the role's default listener
DEFAULT_LISTENER = {"name": "tls", "port": 9093, "type": "internal", "tls": True, "authentication": "tls"}
TLS = {"name": "tls", "port": 9093, "type": "internal", "tls": True, "cert_secret": "prod-kafka-tls"}
ROUTE = {"name": "external", "port": 9094, "type": "route", "tls": True, "cert_secret": "prod-kafka-external",
         "bootstrap_host": "kafka-bootstrap.apps.example.com", "host_template": "kafka-{id}.apps.example.com"}
INGRESS = {"name": "external", "port": 9094, "type": "ingress", "tls": True, "cert_secret": "ing-kafka-external",
           "bootstrap_host": "kafka.example.com", "host_template": "kafka-{id}.example.com", "ingress_class": "public"}
LOADBALANCER = {"name": "external", "port": 9094, "type": "loadbalancer", "advertised_host_template": "kafka-{id}.example.com",
                "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"},
                "brokers": [{"id": 1, "load_balancer_ip": "10.0.0.11", "advertised_host": "10.0.0.11"}]}
NODEPORT = {"name": "external", "port": 9094, "type": "nodeport", "advertised_host_template": "nodes.example.com",
            "node_port_base": 32000, "bootstrap_node_port": 31999, "brokers": [{"id": 2, "node_port": 32100}]}

PRODUCTION = {
    "streams_namespace": "streams-prod",
    "streams_platform": "openshift",
    "streams_image_pull_secrets": ["rh-registry"],
    "zookeeper_replicas": 5,
    "kafka_replicas": 5,
    "kafka_image": "registry.redhat.io/amq-streams/kafka-39-rhel9:2.9.1",
    "kafka_listeners": [PLAIN, TLS, ROUTE],
    "kafka_storage_type": "jbod",
    "kafka_storage_volumes": [{"size": "500Gi", "class": "fast-ssd"}, {"size": "500Gi"}],
    "kafka_cpu_request": "2",
    "kafka_cpu_limit": "4",
    "kafka_memory_request": "8Gi",
    "kafka_memory_limit": "8Gi",
    "kafka_jvm_heap": "4Gi",
    "kafka_jvm_options": ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"],
    "kafka_config": {"num.partitions": 12, "auto.create.topics.enable": False, "log.retention.hours": 72},
    "kafka_inter_broker_protocol_version": "3.8",
    "kafka_log_level": "WARN",
    "kafka_rack_topology_key": "topology.kubernetes.io/zone",
    "kafka_anti_affinity": "required",
    "kafka_topology_spread": "DoNotSchedule",
    "kafka_node_selector": {"node-role.kubernetes.io/kafka": ""},
    "kafka_tolerations": [{"key": "kafka", "operator": "Exists", "effect": "NoSchedule"}],
    "kafka_metrics_enabled": True,
}

VALID = {
    "dev": {},
    "prod": PRODUCTION,
    "lb": {"kafka_listeners": [PLAIN, LOADBALANCER], "kafka_rack_topology_key": "topology.kubernetes.io/zone",
           "kafka_rack_source": "downward", "kafka_metrics_enabled": True, "kafka_metrics_monitor": "servicemonitor"},
    "np": {"kafka_listeners": [PLAIN, NODEPORT], "kafka_storage_size": "20Gi", "kafka_storage_class": "standard",
           "zookeeper_replicas": 1},
    "ing": {"kafka_listeners": [PLAIN, INGRESS]},
    "solo": {"kafka_replicas": 1, "zookeeper_replicas": 1, "kafka_anti_affinity": "none", "kafka_topology_spread": "none",
             "kafka_cpu_request": "", "kafka_memory_limit": "", "kafka_memory_request": "1Gi", "kafka_jvm_heap": "512Mi"},
    "extzk": {"zookeeper_enabled": False, "kafka_zookeeper_connect": "zk-a.example.com:2181,zk-b.example.com:2181",
              "kafka_zookeeper_chroot": "/teams/payments", "kafka_replicas": 2},
}

# host -> (variables, [fragments the failure message must contain])
REFUSED = {
    "zero-brokers": ({"kafka_replicas": 0}, ["kafka_replicas=0 is not valid", "at least 1"]),
    "rf-above-size": ({"kafka_replicas": 2, "kafka_config": {"default.replication.factor": 3}},
                      ["default.replication.factor=3 is not valid with kafka_replicas=2", "from 1 to the number of brokers"]),
    "offsets-rf": ({"kafka_config": {"offsets.topic.replication.factor": 4}},
                   ["offsets.topic.replication.factor=4 is not valid with kafka_replicas=3"]),
    "min-isr-above-size": ({"kafka_config": {"min.insync.replicas": 4, "default.replication.factor": 3}},
                           ["min.insync.replicas=4 is not valid with default.replication.factor=3 and kafka_replicas=3"]),
    "min-isr-equals-rf": ({"kafka_config": {"min.insync.replicas": 3}},
                          ["min.insync.replicas=3 is not valid with default.replication.factor=3",
                           "below the replication factor when that is above 1", "acks=all"]),
    "txn-min-isr": ({"kafka_config": {"transaction.state.log.min.isr": 3}},
                    ["transaction.state.log.min.isr=3 is not valid with transaction.state.log.replication.factor=3"]),
    "duplicate-names": ({"kafka_listeners": [PLAIN, dict(PLAIN, port=9093)]},
                        ["kafka_listeners has the name plain 2 times (entries 0, 1): listener names must be unique"]),
    "duplicate-ports": ({"kafka_listeners": [PLAIN, dict(PLAIN, name="other")]},
                        ["kafka_listeners uses port 9092 for plain and other: every listener needs its own port"]),
    "low-port": ({"kafka_listeners": [dict(PLAIN, port=9090)]},
                 ["kafka_listeners[0] (plain) port=9090 is not valid: use a port from 9092 to 65535"]),
    "metrics-port": ({"kafka_listeners": [dict(PLAIN, port=9404)]}, ["port=9404 is not valid", "9404 (the Prometheus metrics agent)"]),
    "jmx-port": ({"kafka_listeners": [dict(PLAIN, port=9999)]}, ["port=9999 is not valid", "9999 (JMX)"]),
    "unknown-type": ({"kafka_listeners": [dict(PLAIN, type="cluster-ip")]},
                     ["kafka_listeners[0] (plain) type='cluster-ip' is not a listener type: use one of internal, route, "
                      "loadbalancer, nodeport, ingress"]),
    "plain-route": ({"kafka_listeners": [PLAIN, dict(ROUTE, tls=False, cert_secret=None)]},
                    ["kafka_listeners[1] (external) is of type route, which needs tls: true"]),
    "plain-ingress": ({"kafka_listeners": [PLAIN, dict(INGRESS, tls=False, cert_secret=None)]},
                      ["kafka_listeners[1] (external) is of type ingress, which needs tls: true"]),
    "tls-bad-secret": ({"kafka_listeners": [dict(TLS, cert_secret="Not_A_Name")]},
                       ["cert_secret='Not_A_Name' is not valid", "leave cert_secret out for the brokers' certificate"]),
    "lb-without-address": ({"kafka_listeners": [PLAIN, {"name": "lb", "port": 9094, "type": "loadbalancer"}]},
                           ["kafka_listeners[1] (lb) has no advertised address for broker 0"]),
    "kafka-4": ({"streams_kafka_version": "4.0.0"},
                ["streams_kafka_version='4.0.0' cannot run with streams_metadata_mode='zookeeper'", "3.9"]),
    "owned-keys": ({"kafka_config": {"num.partitions": 3, "broker.id": 1, "listeners": "PLAINTEXT://:9092",
                                     "zookeeper.connect": "zk:2181", "log.dirs": "/data", "listener.name.plain.ssl.client.auth": "required"}},
                   ["kafka_config sets broker.id, listener.name.plain.ssl.client.auth, listeners, log.dirs, zookeeper.connect, "
                    "which the role owns; remove them", "broker.id, broker.id.generation.enable"]),
    # every owned key, wildcards filled in, is refused and named
    "all-owned": ({"kafka_config": {key.replace("*", "x"): "y" for key in OWNED}},
                  ["kafka_config sets " + ", ".join(sorted(key.replace("*", "x") for key in OWNED)) + ", which the role owns"]),
    "malformed-config": ({"kafka_config": {"bad key": 1, "num.partitions": "3\nbroker.id=7", "log.dirs.extra": ["a"]}},
                         ["kafka_config entries bad key, log.dirs.extra, num.partitions are not valid", "single-line"]),
    "heap-too-big": ({"kafka_jvm_heap": "1800Mi"}, ["kafka_jvm_heap='1800Mi' does not fit", "80% of kafka_memory_limit='2Gi'"]),
    "storage-gb": ({"kafka_storage_size": "100GB"}, ["kafka_storage_size='100GB' is not valid", "Kubernetes quantity"]),
    "jbod-without-volumes": ({"kafka_storage_type": "jbod"}, ["kafka_storage_type='jbod' does not fit kafka_storage_volumes (0 entries)"]),
    "jbod-bad-size": ({"kafka_storage_type": "jbod", "kafka_storage_volumes": [{"size": "10Gi"}, {"size": "lots"}]},
                      ["kafka_storage_volumes[1]={\"size\": \"lots\"} is not valid"]),
    "newer-protocol": ({"kafka_inter_broker_protocol_version": "4.0"},
                       ["kafka_inter_broker_protocol_version='4.0' is not valid with streams_kafka_version='3.9.0'", "empty for 3.9"]),
    "bad-chroot": ({"kafka_zookeeper_chroot": "payments"}, ["kafka_zookeeper_chroot='payments'", "is not valid"]),
    "bad-zookeeper-connect": ({"kafka_zookeeper_connect": "zk:2181/kafka"}, ["kafka_zookeeper_connect='zk:2181/kafka'"]),
    "bad-rack-key": ({"kafka_rack_topology_key": "my zone"}, ["kafka_rack_topology_key='my zone' is not valid"]),
    "bad-choice": ({"kafka_rack_source": "node"}, ["kafka_rack_source", "init, downward"]),
}


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    hosts = dict(VALID)
    hosts.update({host: variables for host, (variables, _fragments) in REFUSED.items()})
    inventory = write_inventory(tmp / "hosts.yml", hosts, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "out"})
    run = run_playbook(tmp, inventory, args=["--forks", "40"], timeout=900)
    return tmp, run


def manifests(rendered, host, component="kafka"):
    tmp, run = rendered
    path = tmp / "out" / host / ("20-kafka.yaml" if component == "kafka" else "10-zookeeper.yaml")
    assert path.is_file(), run.describe()
    return load_manifests(path)


def of_kind(objs, kind):
    return [obj for obj in objs if obj["kind"] == kind]


def one(objs, kind):
    found = of_kind(objs, kind)
    assert len(found) == 1, [o["metadata"]["name"] for o in found]
    return found[0]


def statefulset(rendered, host):
    return one(manifests(rendered, host), "StatefulSet")


def container(rendered, host):
    return statefulset(rendered, host)["spec"]["template"]["spec"]["containers"][0]


def configmap(rendered, host):
    return one(manifests(rendered, host), "ConfigMap")["data"]


def server_properties(rendered, host):
    return parse_properties(configmap(rendered, host)["server.properties"])


def broker_properties(rendered, host, broker):
    return parse_properties(configmap(rendered, host)["broker-%d.properties" % broker])


def replicas(host):
    return VALID[host].get("kafka_replicas", 3)


# --- the run ------------------------------------------------------------------------------

def test_valid_hosts_pass_and_refused_hosts_fail_in_the_pre_pass(rendered):
    tmp, run = rendered
    failed = {host for _task, host, _msg in run.failures()}
    assert failed == set(REFUSED), run.describe()
    for host in VALID:
        assert (tmp / "out" / host / "20-kafka.yaml").is_file(), run.describe()


@pytest.mark.parametrize("host", sorted(REFUSED))
def test_refusal_names_the_setting_and_what_is_valid_and_nothing_is_written(rendered, host):
    tmp, run = rendered
    messages = [msg for _task, name, msg in run.failures(host)]
    assert len(messages) == 1, messages
    for fragment in REFUSED[host][1]:
        assert fragment in messages[0], messages[0]
    # refused before ZooKeeper's objects (or even the namespace) were written
    assert not (tmp / "out" / host).exists()


# --- the objects ----------------------------------------------------------------------------

@pytest.mark.parametrize("host", sorted(VALID))
def test_objects_pass_strict_schema_validation(rendered, host):
    objs = manifests(rendered, host)
    crds = manifest_schema.load_crd_schemas([str(CRDS)])
    # the users Job (the ACL authorizer is on by default) and its NetworkPolicy are a component of
    # their own, for the NetworkPolicies that let the Job reach ZooKeeper
    jobs = [obj for obj in objs if obj["metadata"]["name"].startswith("%s-kafka-users" % host)]
    others = [obj for obj in objs if obj not in jobs]
    labels = {"app.kubernetes.io/instance": host, "app.kubernetes.io/part-of": "streams",
              "app.kubernetes.io/managed-by": "streams.kafka"}
    refs = manifest_schema.validate_manifests(others, KUBERNETES_VERSIONS, crds, dict(labels, **{"app.kubernetes.io/component": "kafka"}))
    refs += manifest_schema.validate_manifests(jobs, KUBERNETES_VERSIONS, crds, dict(labels, **{"app.kubernetes.io/component": "kafka-users"}))
    assert len(refs) == len(objs)
    for obj in others:
        labels = dict(obj["metadata"]["labels"])
        if obj["metadata"]["name"].endswith("-kafka-metrics"):
            assert labels.pop("streams.kafka/metrics") == "true"
        assert labels == standard_labels(host, "kafka")
    assert sorted("%s/%s" % (job["kind"], job["metadata"]["name"].rsplit("-", 1)[0] if job["kind"] == "Job" else job["metadata"]["name"])
                  for job in jobs) == ["Job/%s-kafka-users" % host, "NetworkPolicy/%s-kafka-users" % host]


def names(rendered, host):
    # The NetworkPolicy: tests/unit/roles/test_network_policies.py
    return sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in manifests(rendered, host) if o["kind"] != "NetworkPolicy")


def test_object_set_per_listener_type_storage_and_rack(rendered):
    # the defaults: the ACL authorizer brings the users Job (its name carries a hash of what it applies)
    dev = names(rendered, "dev")
    assert [name for name in dev if not name.startswith("Job/")] == [
        "ConfigMap/dev-kafka-config", "PodDisruptionBudget/dev-kafka",
        "Service/dev-kafka-bootstrap", "Service/dev-kafka-brokers", "StatefulSet/dev-kafka"]
    assert [name.rsplit("-", 1)[0] for name in dev if name.startswith("Job/")] == ["Job/dev-kafka-users"]
    external = ["external-bootstrap"] + ["external-%d" % i for i in range(3)]
    assert {"Service/lb-kafka-%s" % s for s in external} <= set(names(rendered, "lb"))
    assert {"Service/np-kafka-%s" % s for s in external} <= set(names(rendered, "np"))
    assert {"Service/ing-kafka-%s" % s for s in external} | {"Ingress/ing-kafka-%s" % s for s in external} <= set(names(rendered, "ing"))
    prod_external = ["external-bootstrap"] + ["external-%d" % i for i in range(5)]
    assert {"Route/prod-kafka-%s" % s for s in prod_external} <= set(names(rendered, "prod"))
    assert not [n for n in names(rendered, "prod") if n.startswith("Ingress/")]
    # rack through the init container: its account and the right to read nodes; not with downward
    assert {"ServiceAccount/prod-kafka", "ClusterRole/streams.kafka.streams-prod.prod-kafka-rack",
            "ClusterRoleBinding/streams.kafka.streams-prod.prod-kafka-rack", "PodMonitor/prod-kafka"} <= set(names(rendered, "prod"))
    assert not [n for n in names(rendered, "lb") if n.split("/")[0] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")]
    assert {"ServiceMonitor/lb-kafka", "Service/lb-kafka-metrics"} <= set(names(rendered, "lb"))
    for obj in manifests(rendered, "prod"):
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == "streams-prod"


def test_statefulset_identity_and_update_policy(rendered):
    sts = statefulset(rendered, "dev")
    spec = sts["spec"]
    assert spec["replicas"] == 3 and statefulset(rendered, "prod")["spec"]["replicas"] == 5
    assert statefulset(rendered, "solo")["spec"]["replicas"] == 1
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["updateStrategy"] == {"type": "OnDelete"}
    assert spec["serviceName"] == "dev-kafka-brokers"
    selector = {"app.kubernetes.io/instance": "dev", "app.kubernetes.io/name": "kafka"}
    assert spec["selector"] == {"matchLabels": selector}
    assert selector.items() <= spec["template"]["metadata"]["labels"].items()


def test_config_hash_is_the_hash_of_the_configmap_data(rendered):
    hashes = {}
    for host in VALID:
        data = configmap(rendered, host)
        expected = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        hashes[host] = statefulset(rendered, host)["spec"]["template"]["metadata"]["annotations"]["streams.kafka/config-hash"]
        assert hashes[host] == expected, host
    assert len(set(hashes.values())) == len(hashes)


def test_server_properties(rendered):
    dev = server_properties(rendered, "dev")
    # the defaults: one TLS listener whose clients present a certificate of the clients CA, and the ACL authorizer
    assert dev["listeners"] == "REPLICATION://0.0.0.0:9091,TLS://0.0.0.0:9093"
    assert dev["listener.security.protocol.map"] == "REPLICATION:SSL,TLS:SSL"
    assert dev["listener.name.tls.ssl.client.auth"] == "required"
    assert dev["listener.name.tls.ssl.truststore.location"] == "/opt/kafka/clients-ca/ca.crt"
    assert (dev["authorizer.class.name"], dev["allow.everyone.if.no.acl.found"]) == ("kafka.security.authorizer.AclAuthorizer", "false")
    assert dev["super.users"] == "User:dev-kafka;User:dev-kafka-admin"
    assert dev["inter.broker.listener.name"] == "REPLICATION"
    assert dev["log.dirs"] == "/var/lib/kafka/data-0/kafka-log"
    assert dev["inter.broker.protocol.version"] == "3.9"
    assert (dev["default.replication.factor"], dev["min.insync.replicas"]) == ("3", "2")
    assert (dev["offsets.topic.replication.factor"], dev["transaction.state.log.replication.factor"],
            dev["transaction.state.log.min.isr"]) == ("3", "3", "2")
    assert "broker.id" not in dev and "advertised.listeners" not in dev
    # replication: mutual TLS on the brokers' certificate from the cluster CA; ZooKeeper over TLS
    assert dev["config.providers"] == "directory"
    assert dev["listener.name.replication.ssl.keystore.certificate.chain"] == "${directory:/opt/streams/certs:tls.crt}"
    assert dev["listener.name.replication.ssl.keystore.key"] == "${directory:/opt/streams/certs:tls.key}"
    assert dev["listener.name.replication.ssl.client.auth"] == "required"
    assert dev["listener.name.replication.ssl.truststore.location"] == "/opt/streams/certs/ca.crt"
    assert (dev["zookeeper.ssl.client.enable"], dev["zookeeper.clientCnxnSocket"]) == ("true", "org.apache.zookeeper.ClientCnxnSocketNetty")
    assert (dev["zookeeper.ssl.keystore.type"], dev["zookeeper.ssl.truststore.location"]) == ("PEM", "/opt/streams/certs/ca.crt")
    solo = server_properties(rendered, "solo")
    assert (solo["default.replication.factor"], solo["min.insync.replicas"], solo["offsets.topic.replication.factor"]) == ("1", "1", "1")
    extzk = server_properties(rendered, "extzk")
    assert (extzk["default.replication.factor"], extzk["min.insync.replicas"]) == ("2", "1")
    assert extzk["zookeeper.connect"] == "zk-a.example.com:2181,zk-b.example.com:2181/teams/payments"
    # an ensemble of someone else's: its TLS is not known, so none is configured
    assert not [key for key in extzk if key.startswith("zookeeper.ssl")]
    prod = server_properties(rendered, "prod")
    assert prod["listeners"] == "REPLICATION://0.0.0.0:9091,PLAIN://0.0.0.0:9092,TLS://0.0.0.0:9093,EXTERNAL://0.0.0.0:9094"
    assert prod["listener.security.protocol.map"] == "REPLICATION:SSL,PLAIN:PLAINTEXT,TLS:SSL,EXTERNAL:SSL"
    assert prod["log.dirs"] == "/var/lib/kafka/data-0/kafka-log,/var/lib/kafka/data-1/kafka-log"
    assert prod["inter.broker.protocol.version"] == "3.8"
    assert (prod["num.partitions"], prod["auto.create.topics.enable"], prod["log.retention.hours"]) == ("12", "false", "72")
    assert prod["config.providers"] == "directory"
    assert prod["config.providers.directory.class"] == "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
    assert prod["listener.name.external.ssl.keystore.type"] == "PEM"
    assert prod["listener.name.external.ssl.keystore.key"] == "${directory:/opt/kafka/certificates/external:tls.key}"
    assert prod["listener.name.tls.ssl.keystore.certificate.chain"] == "${directory:/opt/kafka/certificates/tls:tls.crt}"
    assert "log4j.rootLogger=WARN, CONSOLE" in configmap(rendered, "prod")["log4j.properties"]


def run_start_script(script, tmp_path, hostname, env=None, rack=None):
    """Run the container command with the image's paths moved under tmp_path; returns (process, properties)."""
    config, libs, init, runtime, certs = (tmp_path / d for d in ("config", "libs", "init", "tmp", "certs"))
    for directory in (libs, init, runtime, certs):
        directory.mkdir(exist_ok=True)
    for name in ("tls.key", "tls.crt"):
        (certs / name).write_text(name + "\n")
    local = (script.replace("/opt/kafka/custom-config", str(config)).replace("/opt/kafka/libs", str(libs))
             .replace("/opt/streams/certs", str(certs))
             .replace("/opt/kafka/init", str(init)).replace("/tmp/kafka", str(runtime / "kafka"))
             .replace("exec /opt/kafka/bin/kafka-server-start.sh", 'echo "$KAFKA_OPTS"; echo start'))
    written = runtime / "kafka" / "server.properties"
    if written.exists():
        written.unlink()
    if rack is not None:
        (init / "rack.id").write_text(rack)
    proc = subprocess.run(["bash", "-ec", local], env=dict({"HOSTNAME": hostname, "PATH": "/usr/bin:/bin"}, **(env or {})),
                          capture_output=True, text=True, check=False)
    return proc, (parse_properties(written.read_text()) if written.exists() else None)


def write_config(rendered, host, tmp_path):
    config = tmp_path / "config"
    config.mkdir(parents=True, exist_ok=True)
    for name, text in configmap(rendered, host).items():
        (config / name).write_text(text)


def test_broker_id_and_advertised_listeners_come_from_the_pod_ordinal(rendered, tmp_path):
    write_config(rendered, "dev", tmp_path)
    (tmp_path / "libs").mkdir()
    (tmp_path / "libs" / "jmx_prometheus_javaagent-1.0.1.jar").write_text("")
    script = container(rendered, "dev")["command"]
    assert script[:2] == ["/bin/bash", "-ec"]
    for ordinal in (0, 2):
        proc, props = run_start_script(script[2], tmp_path, "dev-kafka-%d" % ordinal)
        assert proc.returncode == 0, proc.stderr
        assert props["broker.id"] == str(ordinal)
        assert props["advertised.listeners"] == (
            "REPLICATION://dev-kafka-{0}.dev-kafka-brokers.kafka.svc:9091,TLS://dev-kafka-{0}.dev-kafka-brokers.kafka.svc:9093"
            .format(ordinal))
        assert props["zookeeper.connect"].endswith("/dev") and "broker.rack" not in props
        # ZooKeeper's TLS client reads one PEM file with the key and the certificate, the user's only
        keystore = tmp_path / "tmp" / "kafka-tls" / "zookeeper-keystore.pem"
        assert keystore.read_text() == "tls.key\ntls.crt\n" and oct(keystore.stat().st_mode & 0o777) == "0o600"
        assert props["zookeeper.ssl.keystore.location"] == "/tmp/kafka-tls/zookeeper-keystore.pem"
        assert proc.stdout.splitlines()[-1] == "start %s/tmp/kafka/server.properties" % tmp_path
        assert proc.stdout.splitlines()[0].endswith(
            "-javaagent:%s/libs/jmx_prometheus_javaagent-1.0.1.jar=9404:%s/config/metrics-config.yml" % (tmp_path, tmp_path))
    # a pod beyond kafka_replicas has no broker file: it stops with a reason instead of joining as a stranger
    proc, props = run_start_script(script[2], tmp_path, "dev-kafka-3")
    assert proc.returncode == 1 and "no " in proc.stderr and "broker-3.properties" in proc.stderr and props is None


def test_start_script_needs_the_exporter_agent(rendered, tmp_path):
    write_config(rendered, "dev", tmp_path)
    proc, _props = run_start_script(container(rendered, "dev")["command"][2], tmp_path, "dev-kafka-0")
    assert proc.returncode == 1 and "no JMX exporter agent" in proc.stderr


def test_rack_from_the_init_container_and_from_the_downward_api(rendered, tmp_path):
    for host in ("prod", "lb"):
        write_config(rendered, host, tmp_path / host)
        (tmp_path / host / "libs").mkdir()
        (tmp_path / host / "libs" / "jmx_prometheus_javaagent-1.0.1.jar").write_text("")
    prod_script = container(rendered, "prod")["command"][2]
    proc, props = run_start_script(prod_script, tmp_path / "prod", "prod-kafka-4", rack="eu-west-1b")
    assert proc.returncode == 0, proc.stderr
    assert (props["broker.id"], props["broker.rack"]) == ("4", "eu-west-1b")
    assert props["advertised.listeners"].endswith(",EXTERNAL://kafka-4.apps.example.com:443")
    (tmp_path / "prod" / "init" / "rack.id").unlink()
    proc, props = run_start_script(prod_script, tmp_path / "prod", "prod-kafka-4")
    assert proc.returncode != 0 and "rack.id" in proc.stderr

    lb_script = container(rendered, "lb")["command"][2]
    proc, props = run_start_script(lb_script, tmp_path / "lb", "lb-kafka-1", env={"KAFKA_RACK": "zone-c"})
    assert proc.returncode == 0, proc.stderr
    assert props["broker.rack"] == "zone-c" and props["advertised.listeners"].endswith(",EXTERNAL://10.0.0.11:9094")
    proc, props = run_start_script(lb_script, tmp_path / "lb", "lb-kafka-1", env={"KAFKA_RACK": ""})
    assert proc.returncode == 1 and "has no label topology.kubernetes.io/zone" in proc.stderr
    env = {e["name"]: e for e in container(rendered, "lb")["env"]}
    assert env["KAFKA_RACK"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.labels['topology.kubernetes.io/zone']"}}
    assert "initContainers" not in statefulset(rendered, "lb")["spec"]["template"]["spec"]
    assert "KAFKA_RACK" not in {e["name"] for e in container(rendered, "prod")["env"]}


def test_rack_init_container_reads_the_node_with_its_own_account(rendered):
    objs = manifests(rendered, "prod")
    pod_spec = one(objs, "StatefulSet")["spec"]["template"]["spec"]
    init = pod_spec["initContainers"][0]
    env = {e["name"]: e for e in init["env"]}
    assert env["NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert env["RACK_TOPOLOGY_KEY"]["value"] == "topology.kubernetes.io/zone"
    assert init["command"] == ["/opt/strimzi/bin/kafka_init_run.sh"]
    init_mounts = {m["name"]: m["mountPath"] for m in init["volumeMounts"]}
    kafka_mounts = {m["name"]: m["mountPath"] for m in pod_spec["containers"][0]["volumeMounts"]}
    # it writes where the broker's command reads, and only it gets the API token
    assert init_mounts["rack"] == kafka_mounts["rack"] == env["INIT_FOLDER"]["value"] == "/opt/kafka/init"
    assert "/opt/kafka/init/rack.id" in pod_spec["containers"][0]["command"][2]
    assert init_mounts["init-token"] == "/var/run/secrets/kubernetes.io/serviceaccount" and "init-token" not in kafka_mounts
    assert pod_spec["automountServiceAccountToken"] is False
    account = one(objs, "ServiceAccount")
    assert pod_spec["serviceAccountName"] == account["metadata"]["name"] == "prod-kafka"
    role, binding = one(objs, "ClusterRole"), one(objs, "ClusterRoleBinding")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "prod-kafka", "namespace": "streams-prod"}]
    assert "serviceAccountName" not in statefulset(rendered, "dev")["spec"]["template"]["spec"]


def serve_once(text):
    """A local HTTP server answering /metrics with `text`; returns (port, stop)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # pylint: disable=invalid-name
            body = text.encode()
            self.send_response(200 if self.path == "/metrics" else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server.server_address[1], server.shutdown


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_probes(rendered):
    box = container(rendered, "dev")
    assert box["livenessProbe"]["tcpSocket"] == {"port": "metrics"}
    assert {p["name"]: p["containerPort"] for p in box["ports"]}["metrics"] == 9404
    command = box["readinessProbe"]["exec"]["command"]
    assert command[:2] == ["/bin/bash", "-c"] and "127.0.0.1/9404" in command[2]
    for probe in ("livenessProbe", "readinessProbe"):
        assert box[probe]["initialDelaySeconds"] == 15 and box[probe]["timeoutSeconds"] == 5

    def probe(port):
        return subprocess.run(["bash", "-c", command[2].replace("/9404", "/%d" % port)], capture_output=True, timeout=20,
                              check=False).returncode

    for text, expected in ((broker_metrics(state=3), 0), (broker_metrics(state=2), 1), ("nothing here\n", 1)):
        port, stop = serve_once(text)
        try:
            assert probe(port) == expected, text
        finally:
            stop()
    assert probe(free_port()) != 0


def jmx_exporter_name(rules, bean, lowercase):
    """The metric name the JMX exporter gives `bean` (first matching rule wins), or None."""
    for rule in rules:
        match = re.fullmatch(rule["pattern"], bean)
        if match:
            name = re.sub(r"\$(\d+)", lambda m: match.group(int(m.group(1))), rule["name"])
            return name.lower() if lowercase else name
    return None


PARTITION_BEANS = {
    "kafka.log<type=Log, name=Size, topic=orders, partition=0><>Value": kafka_gate.LOG_SIZE,
    "kafka.cluster<type=Partition, name=UnderReplicated, topic=orders, partition=0><>Value": kafka_gate.PARTITION_UNDER_REPLICATED,
    "kafka.cluster<type=Partition, name=AtMinIsr, topic=orders, partition=0><>Value": kafka_gate.PARTITION_AT_MIN_ISR,
    "kafka.cluster<type=Partition, name=UnderMinIsr, topic=orders, partition=0><>Value": kafka_gate.PARTITION_UNDER_MIN_ISR,
    "kafka.cluster<type=Partition, name=InSyncReplicasCount, topic=orders, partition=0><>Value": kafka_gate.PARTITION_ISR,
    "kafka.cluster<type=Partition, name=ReplicasCount, topic=orders, partition=0><>Value": kafka_gate.PARTITION_REPLICAS,
}


def exporter_bean(gate_bean):
    """'kafka.server:name=BrokerState,type=KafkaServer' as the exporter matches it."""
    domain, keys = gate_bean.split(":")
    props = dict(item.split("=") for item in keys.split(","))
    return "%s<type=%s, name=%s><>Value" % (domain, props["type"], props["name"])


@pytest.mark.parametrize("host", ["dev", "prod"])
def test_exporter_rules_name_the_metrics_the_gate_reads(rendered, host):
    config = yaml.safe_load(configmap(rendered, host)["metrics-config.yml"])
    assert set(GATE_BEANS) == set(kafka_gate.GATE_METRICS)
    for metric, bean in GATE_BEANS.items():
        assert jmx_exporter_name(config["rules"], exporter_bean(bean), config.get("lowercaseOutputName")) == metric, bean
    # the safe roll's per-partition series (kafka_roll): the replicas a broker holds, and the
    # state of the partitions it leads
    for bean, metric in PARTITION_BEANS.items():
        assert jmx_exporter_name(config["rules"], bean, config.get("lowercaseOutputName")) == metric, bean
    if host == "prod":
        # the Strimzi-style rules follow the gate's, and name other metrics the same way
        assert len(config["rules"]) > len(GATE_BEANS)
        assert jmx_exporter_name(config["rules"], "kafka.server<type=BrokerTopicMetrics, name=MessagesInPerSec><>Count",
                                 True) == "kafka_server_brokertopicmetrics_messagesin_total"
        assert jmx_exporter_name(config["rules"], "kafka.server<type=ReplicaManager, name=PartitionCount><>Value",
                                 True) == "kafka_server_replicamanager_partitioncount"
    else:
        assert len(config["rules"]) == len(GATE_BEANS) + 2


def test_config_files_are_mounted_where_the_command_reads_them(rendered):
    for host in VALID:
        objs = manifests(rendered, host)
        pod_spec = one(objs, "StatefulSet")["spec"]["template"]["spec"]
        box = pod_spec["containers"][0]
        mounts = {m["name"]: m for m in box["volumeMounts"]}
        volumes = {v["name"]: v for v in pod_spec["volumes"]}
        assert volumes["config"]["configMap"]["name"] == one(objs, "ConfigMap")["metadata"]["name"]
        assert mounts["config"]["mountPath"] == "/opt/kafka/custom-config" and mounts["config"]["readOnly"]
        referenced = set(re.findall(r"/opt/kafka/custom-config/([\w.-]+)", json.dumps(box)))
        data = set(one(objs, "ConfigMap")["data"])
        assert referenced - {"broker-"} <= data, (host, referenced)
        assert {"broker-%d.properties" % i for i in range(replicas(host))} <= data
        assert not {name for name in data if name.startswith("broker-")} - {"broker-%d.properties" % i for i in range(replicas(host))}
        assert mounts["tmp"]["mountPath"] == "/tmp" and volumes["tmp"] == {"name": "tmp", "emptyDir": {}}


def test_tls_listeners_mount_their_secret_where_server_properties_reads_it(rendered):
    pod_spec = statefulset(rendered, "prod")["spec"]["template"]["spec"]
    mounts = {m["name"]: m for m in pod_spec["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    props = server_properties(rendered, "prod")
    for listener in (TLS, ROUTE):
        name = listener["name"]
        volume = volumes["certificates-%s" % name]
        assert volume["secret"]["secretName"] == listener["cert_secret"]
        path = mounts["certificates-%s" % name]["mountPath"]
        assert mounts["certificates-%s" % name]["readOnly"]
        assert props["listener.name.%s.ssl.keystore.certificate.chain" % name] == "${directory:%s:tls.crt}" % path
        assert props["listener.name.%s.ssl.keystore.key" % name] == "${directory:%s:tls.key}" % path
    # the brokers' certificate from the cluster CA, for every host: replication, ZooKeeper and TLS
    # listeners without a cert_secret read it from /opt/streams/certs
    for host in ("dev", "prod"):
        pod_spec = statefulset(rendered, host)["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod_spec["volumes"] if "secret" in v}
        assert secrets["certificates"] == host + "-kafka-brokers", secrets
        mounts = {m["name"]: m for m in pod_spec["containers"][0]["volumeMounts"]}
        assert mounts["certificates"]["mountPath"] == "/opt/streams/certs" and mounts["certificates"]["readOnly"]
    assert set(secrets) == {"certificates", "certificates-tls", "certificates-external"}


def test_storage(rendered):
    dev = statefulset(rendered, "dev")["spec"]
    assert [(c["metadata"]["name"], c["spec"]) for c in dev["volumeClaimTemplates"]] == [
        ("data-0", {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "100Gi"}}})]
    np = statefulset(rendered, "np")["spec"]["volumeClaimTemplates"]
    assert np[0]["spec"]["storageClassName"] == "standard" and np[0]["spec"]["resources"]["requests"]["storage"] == "20Gi"
    prod = statefulset(rendered, "prod")["spec"]
    claims = prod["volumeClaimTemplates"]
    assert [c["metadata"]["name"] for c in claims] == ["data-0", "data-1"]
    assert claims[0]["spec"]["storageClassName"] == "fast-ssd" and "storageClassName" not in claims[1]["spec"]
    assert [c["spec"]["resources"]["requests"]["storage"] for c in claims] == ["500Gi", "500Gi"]
    # log.dirs has one directory on each claim's mount
    mounts = {m["name"]: m["mountPath"] for m in prod["template"]["spec"]["containers"][0]["volumeMounts"]}
    dirs = server_properties(rendered, "prod")["log.dirs"].split(",")
    assert [d.rsplit("/", 1)[0] for d in dirs] == [mounts["data-0"], mounts["data-1"]]


def test_resources_and_heap(rendered):
    dev, prod, solo = (container(rendered, h) for h in ("dev", "prod", "solo"))
    assert dev["resources"] == {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}
    assert prod["resources"] == {"requests": {"cpu": "2", "memory": "8Gi"}, "limits": {"cpu": "4", "memory": "8Gi"}}
    assert solo["resources"] == {"requests": {"memory": "1Gi"}}

    def env(box):
        return {e["name"]: e.get("value") for e in box["env"]}

    assert env(dev)["KAFKA_HEAP_OPTS"] == "-Xms1024m -Xmx1024m" and env(prod)["KAFKA_HEAP_OPTS"] == "-Xms4096m -Xmx4096m"
    assert env(prod)["KAFKA_OPTS"] == "-XX:+UseG1GC -XX:MaxGCPauseMillis=20" and "KAFKA_OPTS" not in env(dev)
    assert env(dev)["KAFKA_LOG4J_OPTS"] == "-Dlog4j.configuration=file:/opt/kafka/custom-config/log4j.properties"
    assert env(dev)["EXTRA_ARGS"] == "-name kafkaServer"


def test_disruption_budget_and_scheduling(rendered):
    selector = {"app.kubernetes.io/instance": "dev", "app.kubernetes.io/name": "kafka"}
    assert one(manifests(rendered, "dev"), "PodDisruptionBudget")["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    dev = statefulset(rendered, "dev")["spec"]["template"]["spec"]
    term = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": selector}}
    assert dev["affinity"] == {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": term}]}}
    assert dev["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "ScheduleAnyway"
    prod = statefulset(rendered, "prod")["spec"]["template"]["spec"]
    assert prod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"] == "kubernetes.io/hostname"
    assert prod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert prod["nodeSelector"] == PRODUCTION["kafka_node_selector"] and prod["tolerations"] == PRODUCTION["kafka_tolerations"]
    assert prod["imagePullSecrets"] == [{"name": "rh-registry"}]
    assert prod["containers"][0]["image"] == PRODUCTION["kafka_image"]
    solo = statefulset(rendered, "solo")["spec"]["template"]["spec"]
    assert "affinity" not in solo and "topologySpreadConstraints" not in solo


@pytest.mark.parametrize("host, platform", [("dev", "kubernetes"), ("prod", "openshift"), ("lb", "kubernetes")])
def test_pods_fit_restricted_security(rendered, host, platform):
    pod_spec = statefulset(rendered, host)["spec"]["template"]["spec"]
    assert restricted_violations(pod_spec, platform) == []
    assert pod_spec["automountServiceAccountToken"] is False


def test_monitors_select_the_metrics_port(rendered):
    prod = manifests(rendered, "prod")
    monitor = one(prod, "PodMonitor")["spec"]
    assert monitor["selector"]["matchLabels"].items() <= one(prod, "StatefulSet")["spec"]["template"]["metadata"]["labels"].items()
    assert monitor["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    lb = manifests(rendered, "lb")
    metrics_service = [s for s in of_kind(lb, "Service") if s["metadata"]["name"] == "lb-kafka-metrics"][0]
    selector = one(lb, "ServiceMonitor")["spec"]["selector"]["matchLabels"]
    assert [s["metadata"]["name"] for s in of_kind(lb, "Service") if selector.items() <= s["metadata"]["labels"].items()] == ["lb-kafka-metrics"]
    assert [p["port"] for p in metrics_service["spec"]["ports"]] == [9404]
    assert not of_kind(manifests(rendered, "dev"), "PodMonitor")


# --- how the objects fit together ----------------------------------------------------------

def pods_of(sts):
    """The pods the StatefulSet controller makes: template labels plus the per-pod name label."""
    name = sts["metadata"]["name"]
    labels = sts["spec"]["template"]["metadata"]["labels"]
    return {"%s-%d" % (name, i): dict(labels, **{"statefulset.kubernetes.io/pod-name": "%s-%d" % (name, i)})
            for i in range(sts["spec"]["replicas"])}


def container_ports(sts):
    box = sts["spec"]["template"]["spec"]["containers"][0]
    return {p["containerPort"] for p in box["ports"]} | {p["name"] for p in box["ports"]}


def split_addresses(value):
    """'A://h:1,B://h:2' -> {'A': ('h', 1), ...}."""
    out = {}
    for item in value.split(","):
        name, address = item.split("://")
        host, port = address.rsplit(":", 1)
        out[name] = (host, int(port))
    return out


@pytest.mark.parametrize("host", sorted(VALID))
def test_services_select_the_pods_and_target_container_ports(rendered, host):
    objs = manifests(rendered, host)
    sts = one(objs, "StatefulSet")
    pods = pods_of(sts)
    ports = container_ports(sts)
    for service in of_kind(objs, "Service"):
        selected = sorted(name for name, labels in pods.items() if service["spec"]["selector"].items() <= labels.items())
        wanted_pod = service["spec"]["selector"].get("statefulset.kubernetes.io/pod-name")
        assert selected == ([wanted_pod] if wanted_pod else sorted(pods)), service["metadata"]["name"]
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, (service["metadata"]["name"], port)
    services = {s["metadata"]["name"]: s for s in of_kind(objs, "Service")}
    for route in of_kind(objs, "Route"):
        target = services[route["spec"]["to"]["name"]]
        assert route["spec"]["port"]["targetPort"] in {p["name"] for p in target["spec"]["ports"]}
        assert route["spec"]["tls"]["termination"] == "passthrough"
    for ingress in of_kind(objs, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            backend = rule["http"]["paths"][0]["backend"]["service"]
            assert backend["port"]["number"] in {p["port"] for p in services[backend["name"]]["spec"]["ports"]}
            assert rule["host"] in ingress["spec"]["tls"][0]["hosts"]
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-passthrough"] == "true"


@pytest.mark.parametrize("host", sorted(VALID))
def test_advertised_listeners_resolve_to_the_brokers(rendered, host):
    objs = manifests(rendered, host)
    sts = one(objs, "StatefulSet")
    namespace = sts["metadata"]["namespace"]
    headless = [s for s in of_kind(objs, "Service") if s["metadata"]["name"] == sts["spec"]["serviceName"]]
    assert len(headless) == 1 and headless[0]["spec"]["clusterIP"] == "None"
    headless = headless[0]
    headless_ports = {p["port"] for p in headless["spec"]["ports"]}
    services = {s["metadata"]["name"]: s for s in of_kind(objs, "Service")}
    routes = {r["metadata"]["name"]: r for r in of_kind(objs, "Route")}
    ingresses = {i["metadata"]["name"]: i for i in of_kind(objs, "Ingress")}
    props = server_properties(rendered, host)
    bound = split_addresses(props["listeners"])
    protocols = dict(item.split(":") for item in props["listener.security.protocol.map"].split(","))
    listeners = {l["name"].upper(): l for l in VALID[host].get("kafka_listeners", [DEFAULT_LISTENER])}
    assert set(bound) == set(protocols) == set(listeners) | {"REPLICATION"}
    for broker in range(replicas(host)):
        pod = "%s-%d" % (sts["metadata"]["name"], broker)
        advertised = split_addresses(broker_properties(rendered, host, broker)["advertised.listeners"])
        assert set(advertised) == set(bound)
        for name, (adv_host, adv_port) in advertised.items():
            kind = listeners.get(name, {"type": "internal"})["type"]
            external = "%s-kafka-%s-%d" % (host, name.lower(), broker)
            if kind == "internal":
                # the pod's stable DNS name through the headless Service, on a port it listens on
                assert adv_host == "%s.%s.%s.svc" % (pod, headless["metadata"]["name"], namespace)
                assert adv_port == bound[name][1] and adv_port in headless_ports
            elif kind == "route":
                assert routes[external]["spec"]["host"] == adv_host and adv_port == 443
                assert routes[external]["spec"]["to"]["name"] == external
            elif kind == "ingress":
                assert ingresses[external]["spec"]["rules"][0]["host"] == adv_host and adv_port == 443
            elif kind == "nodeport":
                assert services[external]["spec"]["ports"][0]["nodePort"] == adv_port
            elif kind == "loadbalancer":
                assert services[external]["spec"]["ports"][0]["port"] == adv_port == bound[name][1]
            if kind != "internal":
                assert services[external]["spec"]["selector"]["statefulset.kubernetes.io/pod-name"] == pod
                assert services[external]["spec"]["ports"][0]["targetPort"] == bound[name][1]
    if host == "lb":
        assert services["lb-kafka-external-1"]["spec"]["loadBalancerIP"] == "10.0.0.11"
        assert "loadBalancerIP" not in services["lb-kafka-external-0"]["spec"]
        assert services["lb-kafka-external-0"]["metadata"]["annotations"] == LOADBALANCER["annotations"]
        assert services["lb-kafka-external-0"]["spec"]["type"] == "LoadBalancer"
    if host == "np":
        assert services["np-kafka-external-bootstrap"]["spec"]["ports"][0]["nodePort"] == 31999
        assert split_addresses(broker_properties(rendered, "np", 2)["advertised.listeners"])["EXTERNAL"] == ("nodes.example.com", 32100)
    if host == "ing":
        assert {i["spec"]["ingressClassName"] for i in ingresses.values()} == {"public"}
        assert ingresses["ing-kafka-external-bootstrap"]["spec"]["rules"][0]["host"] == "kafka.example.com"


@pytest.mark.parametrize("host", sorted(set(VALID) - {"extzk"}))
def test_zookeeper_connect_names_every_member_of_the_zookeeper_role(rendered, host):
    zk = manifests(rendered, host, component="zookeeper")
    zk_sts = one(zk, "StatefulSet")
    namespace = zk_sts["metadata"]["namespace"]
    zk_services = {s["metadata"]["name"]: s for s in of_kind(zk, "Service")}
    nodes = zk_services[zk_sts["spec"]["serviceName"]]
    assert nodes["spec"]["clusterIP"] == "None" and nodes["spec"]["publishNotReadyAddresses"] is True
    client_port = {p["name"]: p["containerPort"] for p in zk_sts["spec"]["template"]["spec"]["containers"][0]["ports"]}["tcp-clients"]
    client = [s for s in zk_services.values() if s["spec"].get("clusterIP") != "None"][0]
    assert client_port in {p["targetPort"] for p in client["spec"]["ports"]}
    connect = server_properties(rendered, host)["zookeeper.connect"]
    members, chroot = connect.split("/", 1)
    assert chroot == host
    expected = ["%s-%d.%s.%s.svc:%d" % (zk_sts["metadata"]["name"], i, nodes["metadata"]["name"], namespace, client_port)
                for i in range(zk_sts["spec"]["replicas"])]
    assert members.split(",") == expected
    # and the brokers' ZooKeeper selector picks ZooKeeper's pods, not Kafka's
    kafka_labels = one(manifests(rendered, host), "StatefulSet")["spec"]["template"]["metadata"]["labels"]
    assert not nodes["spec"]["selector"].items() <= kafka_labels.items()


def test_cross_object_checks_can_fail():
    assert split_addresses("A://h:1,B://x.y:22") == {"A": ("h", 1), "B": ("x.y", 22)}
    template = {"metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"ports": [{"name": "tcp-plain", "containerPort": 9092}]}]}}
    sts = {"metadata": {"name": "x-kafka"}, "spec": {"replicas": 2, "template": template}}
    pods = pods_of(sts)
    assert sorted(pods) == ["x-kafka-0", "x-kafka-1"]
    assert not {"statefulset.kubernetes.io/pod-name": "x-kafka-2"}.items() <= pods["x-kafka-1"].items()
    assert 9093 not in container_ports(sts) and "tcp-plain" in container_ports(sts)
    assert jmx_exporter_name([{"pattern": "kafka.server<type=(.+), name=(.+)><>Value", "name": "kafka_server_$1_$2"}],
                             "kafka.server<type=KafkaServer, name=BrokerState><>Value", False) == "kafka_server_KafkaServer_BrokerState"


def test_owned_keys_documented_match_the_role():
    """The argument spec and docs list the same owned keys the preflight refuses."""
    spec = (ROOT / "roles/kafka/meta/argument_specs.yml").read_text()
    docs = (ROOT / "docs/kafka.md").read_text()
    assert len(OWNED) >= 20
    for key in OWNED:
        assert "C(%s)" % key in spec, key
        assert "`%s`" % key in docs, key
