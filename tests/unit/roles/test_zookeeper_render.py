"""The zookeeper role in directory mode: what it renders, and what its preflight refuses.

One ansible-playbook run of playbooks/site.yml renders every variant: each inventory host is
one case (the valid ones write build/manifests/<host>/10-zookeeper.yaml, the refused ones
fail in preflight and write nothing of ZooKeeper).
"""

import hashlib
import json
import pathlib
import re
import subprocess

import pytest
import yaml

from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels
from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema
from tests.helpers import CRDS, KUBERNETES_VERSIONS, by_kind, load_manifests, run_playbook, write_inventory
from tests.zookeeper_ensemble import parse_properties

ROOT = pathlib.Path(__file__).resolve().parents[3]
OWNED = yaml.safe_load((ROOT / "roles/zookeeper/vars/main.yml").read_text())["__zookeeper_owned_keys"]

PRODUCTION = {
    "streams_namespace": "streams-prod",
    "streams_platform": "openshift",
    "streams_image_pull_secrets": ["rh-registry"],
    "zookeeper_replicas": 5,
    "zookeeper_image": "registry.redhat.io/amq-streams/kafka-39-rhel9:2.9.1",
    "zookeeper_storage_size": "50Gi",
    "zookeeper_storage_class": "fast-ssd",
    "zookeeper_cpu_request": "1",
    "zookeeper_cpu_limit": "2",
    "zookeeper_memory_request": "4Gi",
    "zookeeper_memory_limit": "4Gi",
    "zookeeper_jvm_heap": "2Gi",
    "zookeeper_jvm_options": ["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"],
    "zookeeper_config": {"tickTime": 3000, "snapCount": 50000, "syncEnabled": True, "maxClientCnxns": 0},
    "zookeeper_log_level": "WARN",
    "zookeeper_anti_affinity": "required",
    "zookeeper_topology_spread": "DoNotSchedule",
    "zookeeper_node_selector": {"node-role.kubernetes.io/infra": ""},
    "zookeeper_tolerations": [{"key": "infra", "operator": "Exists", "effect": "NoSchedule"}],
    "zookeeper_metrics_enabled": True,
}

VALID = {
    "dev": {},
    "prod": PRODUCTION,
    "solo": {"zookeeper_replicas": 1, "zookeeper_metrics_enabled": True, "zookeeper_metrics_monitor": "servicemonitor",
             "zookeeper_anti_affinity": "none", "zookeeper_topology_spread": "none", "zookeeper_cpu_request": "",
             "zookeeper_memory_limit": "", "zookeeper_memory_request": "512Mi", "zookeeper_jvm_heap": "256Mi"},
}

# host -> (variables, [fragments every failure message must contain])
REFUSED = {
    "even": ({"zookeeper_replicas": 4}, ["zookeeper_replicas=4 is not valid", "odd number from 1 to 7"]),
    "zero": ({"zookeeper_replicas": 0}, ["zookeeper_replicas=0 is not valid", "odd number from 1 to 7"]),
    "nine": ({"zookeeper_replicas": 9}, ["zookeeper_replicas=9 is not valid", "odd number from 1 to 7"]),
    "negative": ({"zookeeper_replicas": -1}, ["zookeeper_replicas=-1 is not valid"]),
    "storage-gb": ({"zookeeper_storage_size": "10GB"}, ["zookeeper_storage_size='10GB' is not valid", "Kubernetes quantity", "10Gi"]),
    "cpu-word": ({"zookeeper_cpu_request": "half"}, ["zookeeper_cpu_request='half' is not valid", "250m"]),
    "zero-limit": ({"zookeeper_memory_limit": "0"}, ["zookeeper_memory_limit='0' is not valid", "positive Kubernetes quantity"]),
    "request-above-limit": ({"zookeeper_memory_request": "2Gi"},
                            ["zookeeper_memory_request='2Gi' is above zookeeper_memory_limit='1Gi'"]),
    "heap-too-big": ({"zookeeper_jvm_heap": "900Mi"},
                     ["zookeeper_jvm_heap='900Mi' does not fit", "80% of zookeeper_memory_limit='1Gi'"]),
    "owned-keys": ({"zookeeper_config": {"tickTime": 2000, "dataDir": "/data", "server.4": "x:2888:3888",
                                         "4lw.commands.whitelist": "*", "admin.serverPort": 9090}},
                   ["zookeeper_config sets 4lw.commands.whitelist, admin.serverPort, dataDir, server.4, which the role owns",
                    "server.*, group.*, weight.*, peerType, dataDir, dataLogDir, clientPort"]),
    # every owned key, wildcards filled in, is refused and named
    "all-owned": ({"zookeeper_config": {key.replace("*", "7"): "x" for key in OWNED}},
                  ["zookeeper_config sets " + ", ".join(sorted(key.replace("*", "7") for key in OWNED)) + ", which the role owns"]),
    "malformed-config": ({"zookeeper_config": {"bad key": 1, "tickTime": "2000\nserver.9=evil:1:2", "jvmFlags": ["a"]}},
                         ["zookeeper_config entries bad key, jvmFlags, tickTime are not valid", "single-line"]),
    "bad-class": ({"zookeeper_storage_class": "Fast_SSD"}, ["zookeeper_storage_class='Fast_SSD' is not valid"]),
    "bad-secret": ({"streams_image_pull_secrets": ["my secret"]}, ["streams_image_pull_secrets entry 'my secret' is not valid"]),
    "bad-name": ({"streams_cluster_name": "Prod_East"}, ["streams_cluster_name='Prod_East' is not valid", "DNS-1123 label"]),
    "bad-namespace": ({"streams_namespace": "Kafka"}, ["streams_namespace='Kafka' is not valid", "DNS-1123 label"]),
    "kafka-4": ({"streams_kafka_version": "4.0.0"},
                ["streams_kafka_version='4.0.0' cannot run with streams_metadata_mode='zookeeper'", "3.9"]),
    "bad-choice": ({"zookeeper_anti_affinity": "sometimes"}, ["zookeeper_anti_affinity", "preferred, required, none"]),
}


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("render")
    hosts = dict(VALID)
    hosts.update({host: variables for host, (variables, _fragments) in REFUSED.items()})
    inventory = write_inventory(tmp / "hosts.yml", hosts, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "out"})
    run = run_playbook(tmp, inventory, args=["--forks", "25"], timeout=900)
    return tmp, run


def manifests(rendered, host):
    tmp, run = rendered
    path = tmp / "out" / host / "10-zookeeper.yaml"
    assert path.is_file(), run.describe()
    return load_manifests(path)


def objects(rendered, host):
    return by_kind(manifests(rendered, host))


def statefulset(rendered, host):
    return objects(rendered, host)["StatefulSet"]


def container(rendered, host):
    return statefulset(rendered, host)["spec"]["template"]["spec"]["containers"][0]


def zoo_cfg(rendered, host):
    return parse_properties(objects(rendered, host)["ConfigMap"]["data"]["zoo.cfg"])


# --- the run ------------------------------------------------------------------------------

def test_valid_hosts_pass_and_refused_hosts_fail_in_preflight(rendered):
    tmp, run = rendered
    failed = {host for _task, host, _msg in run.failures()}
    assert failed == set(REFUSED), run.describe()
    for host in VALID:
        assert (tmp / "out" / host / "10-zookeeper.yaml").is_file(), run.describe()


@pytest.mark.parametrize("host", sorted(REFUSED))
def test_refusal_names_the_variable_and_what_is_valid(rendered, host):
    tmp, run = rendered
    messages = [msg for _task, name, msg in run.failures(host)]
    assert len(messages) == 1, messages
    for fragment in REFUSED[host][1]:
        assert fragment in messages[0], messages[0]
    assert not (tmp / "out" / host / "10-zookeeper.yaml").exists()


# --- the objects ----------------------------------------------------------------------------

@pytest.mark.parametrize("host", sorted(VALID))
def test_objects_pass_strict_schema_validation(rendered, host):
    objs = manifests(rendered, host)
    crds = manifest_schema.load_crd_schemas([str(CRDS)])
    cluster = VALID[host].get("streams_cluster_name", host)
    refs = manifest_schema.validate_manifests(objs, KUBERNETES_VERSIONS, crds, {
        "app.kubernetes.io/instance": cluster, "app.kubernetes.io/part-of": "streams",
        "app.kubernetes.io/managed-by": "streams.kafka", "app.kubernetes.io/component": "zookeeper"})
    assert len(refs) == len(objs)


def test_object_set_and_names(rendered):
    def names(host):
        # The NetworkPolicy: tests/unit/roles/test_network_policies.py
        return sorted("%s/%s" % (o["kind"], o["metadata"]["name"]) for o in manifests(rendered, host) if o["kind"] != "NetworkPolicy")

    assert names("dev") == ["ConfigMap/dev-zookeeper-config", "PodDisruptionBudget/dev-zookeeper",
                            "Service/dev-zookeeper-client", "Service/dev-zookeeper-nodes", "StatefulSet/dev-zookeeper"]
    assert "PodMonitor/prod-zookeeper" in names("prod") and "ServiceMonitor/prod-zookeeper" not in names("prod")
    assert {"ServiceMonitor/solo-zookeeper", "Service/solo-zookeeper-metrics"} <= set(names("solo"))
    assert "PodMonitor/solo-zookeeper" not in names("solo")
    for obj in manifests(rendered, "prod"):
        assert obj["metadata"]["namespace"] == "streams-prod"
        assert obj["metadata"]["labels"] == standard_labels("prod", "zookeeper")


def test_statefulset_identity_and_update_policy(rendered):
    sts = statefulset(rendered, "dev")
    spec = sts["spec"]
    assert spec["replicas"] == 3 and statefulset(rendered, "prod")["spec"]["replicas"] == 5
    assert spec["podManagementPolicy"] == "Parallel"
    assert spec["updateStrategy"] == {"type": "OnDelete"}
    assert spec["serviceName"] == "dev-zookeeper-nodes"
    selector = {"app.kubernetes.io/instance": "dev", "app.kubernetes.io/name": "zookeeper"}
    assert spec["selector"] == {"matchLabels": selector}
    assert selector.items() <= spec["template"]["metadata"]["labels"].items()


def test_config_hash_is_the_hash_of_the_configmap_data(rendered):
    hashes = {}
    for host in VALID:
        objs = objects(rendered, host)
        data = objs["ConfigMap"]["data"]
        expected = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        hashes[host] = objs["StatefulSet"]["spec"]["template"]["metadata"]["annotations"]["streams.kafka/config-hash"]
        assert hashes[host] == expected, host
    assert len(set(hashes.values())) == len(hashes)


def test_zoo_cfg_lists_every_member_and_owns_its_keys(rendered):
    cfg = zoo_cfg(rendered, "dev")
    servers = {k: v for k, v in cfg.items() if k.startswith("server.")}
    assert servers == {"server.%d" % (i + 1): "dev-zookeeper-%d.dev-zookeeper-nodes.kafka.svc:2888:3888" % i for i in range(3)}
    assert cfg["quorumListenOnAllIPs"] == "true"
    assert cfg["admin.enableServer"] == "true" and cfg["admin.serverPort"] == "8080"
    # clients over TLS only (Strimzi's port), with a certificate of the cluster CA; the quorum over mutual TLS
    assert cfg["dataDir"] == "/var/lib/zookeeper/data" and cfg["secureClientPort"] == "2181" and "clientPort" not in cfg
    assert cfg["serverCnxnFactory"] == "org.apache.zookeeper.server.NettyServerCnxnFactory" and cfg["ssl.clientAuth"] == "need"
    assert cfg["sslQuorum"] == "true"
    for prefix in ("ssl.", "ssl.quorum."):
        assert cfg[prefix + "keyStore.location"] == "/tmp/zookeeper-tls/keystore.pem" and cfg[prefix + "keyStore.type"] == "PEM"
        assert cfg[prefix + "trustStore.location"] == "/opt/streams/certs/ca.crt" and cfg[prefix + "trustStore.type"] == "PEM"
    assert cfg["standaloneEnabled"] == "false" and cfg["reconfigEnabled"] == "false"
    assert cfg["tickTime"] == "2000" and cfg["initLimit"] == "5" and cfg["syncLimit"] == "2"
    prod = zoo_cfg(rendered, "prod")
    assert len([k for k in prod if k.startswith("server.")]) == 5
    assert prod["server.5"] == "prod-zookeeper-4.prod-zookeeper-nodes.streams-prod.svc:2888:3888"
    assert prod["tickTime"] == "3000" and prod["snapCount"] == "50000" and prod["syncEnabled"] == "true"
    assert prod["maxClientCnxns"] == "0" and prod["initLimit"] == "5"
    assert list(zoo_cfg(rendered, "solo")) .count("server.1") == 1 and "server.2" not in zoo_cfg(rendered, "solo")


def test_probes_ask_the_admin_server_for_whitelisted_commands(rendered):
    """The client port speaks TLS only, so the probes ask the AdminServer over plain HTTP (8080)."""
    whitelist = set(zoo_cfg(rendered, "dev")["4lw.commands.whitelist"].split(","))
    box = container(rendered, "dev")
    for probe in ("livenessProbe", "readinessProbe"):
        command = box[probe]["exec"]["command"]
        assert command[:2] == ["/bin/bash", "-c"]
        words = set(re.findall(r"GET /commands/(\w{4}) ", command[2]))
        assert words and words <= whitelist, (probe, words, whitelist)
        assert "127.0.0.1/8080" in command[2] and "2181" not in command[2]
        assert box[probe]["initialDelaySeconds"] == 15 and box[probe]["timeoutSeconds"] == 5


def test_members_mount_their_certificate_and_build_the_pem_keystore(rendered, tmp_path):
    sts = statefulset(rendered, "dev")
    pod_spec = sts["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod_spec["volumes"]}
    mounts = {m["name"]: m for m in pod_spec["containers"][0]["volumeMounts"]}
    assert volumes["certificates"]["secret"]["secretName"] == "dev-zookeeper-nodes"
    assert mounts["certificates"]["mountPath"] == "/opt/streams/certs" and mounts["certificates"]["readOnly"]
    # the keystore is the key and the certificate in one file, readable by the user only
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "tls.key").write_text("KEY\n")
    (certs / "tls.crt").write_text("CERT\n")
    local = (pod_spec["containers"][0]["command"][2].replace("/var/lib/zookeeper", str(tmp_path))
             .replace("/opt/streams/certs", str(certs)).replace("/tmp/zookeeper-tls", str(tmp_path / "tls"))
             .replace("exec /opt/kafka/bin/zookeeper-server-start.sh", "exec echo start"))
    subprocess.run(["bash", "-ec", local], env={"HOSTNAME": "dev-zookeeper-0", "PATH": "/usr/bin:/bin"}, check=True,
                   capture_output=True)
    keystore = tmp_path / "tls" / "keystore.pem"
    assert keystore.read_text() == "KEY\nCERT\n" and oct(keystore.stat().st_mode & 0o777) == "0o600"


def test_myid_comes_from_the_pod_ordinal(rendered, tmp_path):
    script = container(rendered, "dev")["command"]
    assert script[:2] == ["/bin/bash", "-ec"]
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "tls.key").write_text("")
    (certs / "tls.crt").write_text("")
    local = script[2].replace("/var/lib/zookeeper", str(tmp_path)).replace(
        "exec /opt/kafka/bin/zookeeper-server-start.sh", "exec echo start").replace(
        "/opt/streams/certs", str(certs)).replace("/tmp/zookeeper-tls", str(tmp_path / "tls"))
    for hostname, myid in (("dev-zookeeper-0", "1"), ("dev-zookeeper-2", "3"), ("my-long-name-zookeeper-11", "12")):
        out = subprocess.run(["bash", "-ec", local], env={"HOSTNAME": hostname, "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, check=True)
        assert (tmp_path / "data" / "myid").read_text() == myid + "\n"
        assert out.stdout == "start /opt/kafka/custom-config/zoo.cfg\n"


def test_metrics_agent_is_resolved_from_the_glob(rendered, tmp_path):
    script = container(rendered, "prod")["command"][2]
    libs = tmp_path / "libs"
    libs.mkdir()
    (tmp_path / "certs").mkdir()
    for name in ("tls.key", "tls.crt"):
        (tmp_path / "certs" / name).write_text("")
    local = (script.replace("/var/lib/zookeeper", str(tmp_path)).replace("/opt/kafka/libs", str(libs))
             .replace("/opt/streams/certs", str(tmp_path / "certs")).replace("/tmp/zookeeper-tls", str(tmp_path / "tls"))
             .replace("exec /opt/kafka/bin/zookeeper-server-start.sh", 'echo "$KAFKA_OPTS"; exit 0; #'))
    env = {"HOSTNAME": "prod-zookeeper-1", "PATH": "/usr/bin:/bin", "KAFKA_OPTS": "-XX:+UseG1GC"}
    missing = subprocess.run(["bash", "-ec", local], env=env, capture_output=True, text=True, check=False)
    assert missing.returncode == 1 and "no JMX exporter agent" in missing.stderr
    (libs / "jmx_prometheus_javaagent-1.1.0.jar").write_text("")
    out = subprocess.run(["bash", "-ec", local], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ("-XX:+UseG1GC -javaagent:%s/jmx_prometheus_javaagent-1.1.0.jar=9404:"
                                  "/opt/kafka/custom-config/metrics-config.yml" % libs)
    assert "javaagent" not in container(rendered, "dev")["command"][2]


def test_config_files_are_mounted_where_the_command_reads_them(rendered):
    for host in VALID:
        objs = objects(rendered, host)
        pod_spec = objs["StatefulSet"]["spec"]["template"]["spec"]
        box = pod_spec["containers"][0]
        mounts = {m["name"]: m for m in box["volumeMounts"]}
        volumes = {v["name"]: v for v in pod_spec["volumes"]}
        assert volumes["config"]["configMap"]["name"] == objs["ConfigMap"]["metadata"]["name"]
        assert mounts["config"]["mountPath"] == "/opt/kafka/custom-config" and mounts["config"]["readOnly"]
        referenced = set(re.findall(r"/opt/kafka/custom-config/([\w.-]+)", json.dumps(box)))
        assert referenced and referenced <= set(objs["ConfigMap"]["data"]), (host, referenced)
        env = {e["name"]: e["value"] for e in box["env"]}
        assert env["KAFKA_LOG4J_OPTS"] == "-Dlog4j.configuration=file:/opt/kafka/custom-config/log4j.properties"
        assert mounts["data"]["mountPath"] == "/var/lib/zookeeper" and mounts["tmp"]["mountPath"] == "/tmp"
    assert "log4j.rootLogger=WARN, CONSOLE" in objects(rendered, "prod")["ConfigMap"]["data"]["log4j.properties"]


def test_resources_and_heap(rendered):
    dev, prod, solo = (container(rendered, h) for h in ("dev", "prod", "solo"))
    assert dev["resources"] == {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}
    assert prod["resources"] == {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}}
    assert solo["resources"] == {"requests": {"memory": "512Mi"}}

    def heap(box):
        return {e["name"]: e["value"] for e in box["env"]}["KAFKA_HEAP_OPTS"]

    assert heap(dev) == "-Xms512m -Xmx512m" and heap(prod) == "-Xms2048m -Xmx2048m" and heap(solo) == "-Xms256m -Xmx256m"
    assert {e["name"]: e["value"] for e in prod["env"]}["KAFKA_OPTS"] == "-XX:+UseG1GC -XX:MaxGCPauseMillis=20"
    assert "KAFKA_OPTS" not in {e["name"] for e in dev["env"]}


def test_storage(rendered):
    dev = statefulset(rendered, "dev")["spec"]["volumeClaimTemplates"]
    prod = statefulset(rendered, "prod")["spec"]["volumeClaimTemplates"]
    assert [c["metadata"]["name"] for c in dev] == ["data"]
    assert dev[0]["spec"] == {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    assert prod[0]["spec"]["storageClassName"] == "fast-ssd"
    assert prod[0]["spec"]["resources"]["requests"]["storage"] == "50Gi"


def test_services(rendered):
    services = {s["metadata"]["name"]: s["spec"] for s in objects(rendered, "dev")["Service"]}
    selector = {"app.kubernetes.io/instance": "dev", "app.kubernetes.io/name": "zookeeper"}
    nodes, client = services["dev-zookeeper-nodes"], services["dev-zookeeper-client"]
    assert nodes["clusterIP"] == "None" and nodes["publishNotReadyAddresses"] is True
    assert sorted(p["port"] for p in nodes["ports"]) == [2888, 3888]
    assert [p["port"] for p in client["ports"]] == [2181] and "clusterIP" not in client
    assert nodes["selector"] == client["selector"] == selector


def test_disruption_budget(rendered):
    pdb = objects(rendered, "dev")["PodDisruptionBudget"]
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {
        "app.kubernetes.io/instance": "dev", "app.kubernetes.io/name": "zookeeper"}}}


def test_anti_affinity_and_topology_spread(rendered):
    dev = statefulset(rendered, "dev")["spec"]["template"]["spec"]
    term = {"topologyKey": "kubernetes.io/hostname",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/instance": "dev", "app.kubernetes.io/name": "zookeeper"}}}
    assert dev["affinity"] == {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
        {"weight": 100, "podAffinityTerm": term}]}}
    assert dev["topologySpreadConstraints"] == [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                                 "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": term["labelSelector"]}]
    prod = statefulset(rendered, "prod")["spec"]["template"]["spec"]
    required = prod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required[0]["topologyKey"] == "kubernetes.io/hostname"
    assert prod["topologySpreadConstraints"][0]["whenUnsatisfiable"] == "DoNotSchedule"
    assert prod["nodeSelector"] == {"node-role.kubernetes.io/infra": ""}
    assert prod["tolerations"] == PRODUCTION["zookeeper_tolerations"]
    solo = statefulset(rendered, "solo")["spec"]["template"]["spec"]
    assert "affinity" not in solo and "topologySpreadConstraints" not in solo


def restricted_violations(pod_spec, platform):
    """Kubernetes' restricted Pod Security Standard, plus what OpenShift's restricted-v2 SCC adds."""
    problems = []
    pod_sc = pod_spec.get("securityContext") or {}
    text = json.dumps(pod_spec)
    for field in ("runAsUser", "runAsGroup", "supplementalGroups"):
        if '"%s"' % field in text:
            problems.append("fixed %s" % field)
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field):
            problems.append(field)
    allowed_volumes = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
    for volume in pod_spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= allowed_volumes:
            problems.append("volume %s" % volume["name"])
    if (pod_sc.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append("pod seccompProfile")
    if platform == "openshift" and "fsGroup" in pod_sc:
        problems.append("fsGroup is assigned by the SCC on OpenShift")
    if platform != "openshift" and pod_sc.get("fsGroup") != 0:
        problems.append("fsGroup 0 expected on Kubernetes")
    for box in pod_spec.get("initContainers", []) + pod_spec["containers"]:
        sc = box.get("securityContext") or {}
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            problems.append("%s runAsNonRoot" % box["name"])
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append("%s allowPrivilegeEscalation" % box["name"])
        if sc.get("privileged"):
            problems.append("%s privileged" % box["name"])
        if (sc.get("capabilities") or {}).get("drop") != ["ALL"] or set((sc.get("capabilities") or {}).get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append("%s capabilities" % box["name"])
        if any("hostPort" in port for port in box.get("ports", [])):
            problems.append("%s hostPort" % box["name"])
    return problems


@pytest.mark.parametrize("host, platform", [("dev", "kubernetes"), ("prod", "openshift"), ("solo", "kubernetes")])
def test_pods_fit_restricted_security(rendered, host, platform):
    pod_spec = statefulset(rendered, host)["spec"]["template"]["spec"]
    assert restricted_violations(pod_spec, platform) == []
    assert pod_spec["automountServiceAccountToken"] is False


def test_restricted_check_can_fail():
    pod_spec = {"securityContext": {"runAsUser": 0}, "containers": [{"name": "c", "securityContext": {}}],
                "volumes": [{"name": "h", "hostPath": {"path": "/"}}]}
    assert set(restricted_violations(pod_spec, "kubernetes")) >= {
        "fixed runAsUser", "volume h", "pod seccompProfile", "c runAsNonRoot", "c allowPrivilegeEscalation", "c capabilities"}


def test_image_and_pull_secrets(rendered):
    dev, prod = statefulset(rendered, "dev"), statefulset(rendered, "prod")
    assert dev["spec"]["template"]["spec"]["containers"][0]["image"] == "quay.io/strimzi/kafka:0.45.0-kafka-3.9.0"
    assert "imagePullSecrets" not in dev["spec"]["template"]["spec"]
    assert prod["spec"]["template"]["spec"]["containers"][0]["image"] == PRODUCTION["zookeeper_image"]
    assert prod["spec"]["template"]["spec"]["imagePullSecrets"] == [{"name": "rh-registry"}]


def test_metrics(rendered):
    prod = objects(rendered, "prod")
    ports = {p["name"]: p["containerPort"] for p in prod["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert ports["metrics"] == 9404
    monitor = prod["PodMonitor"]["spec"]
    assert monitor["selector"]["matchLabels"].items() <= prod["StatefulSet"]["spec"]["template"]["metadata"]["labels"].items()
    assert monitor["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    rules = yaml.safe_load(prod["ConfigMap"]["data"]["metrics-config.yml"])
    assert rules["lowercaseOutputName"] is True and rules["rules"][0]["name"] == "zookeeper_$2"
    solo = objects(rendered, "solo")
    metrics_service = [s for s in solo["Service"] if s["metadata"]["name"] == "solo-zookeeper-metrics"][0]
    assert solo["ServiceMonitor"]["spec"]["selector"]["matchLabels"].items() <= metrics_service["metadata"]["labels"].items()
    for other in solo["Service"]:
        if other is not metrics_service:
            assert not solo["ServiceMonitor"]["spec"]["selector"]["matchLabels"].items() <= other["metadata"]["labels"].items()
    assert [p["port"] for p in metrics_service["spec"]["ports"]] == [9404]
    assert "metrics" not in {p["name"] for p in container(rendered, "dev")["ports"]}
    assert "metrics-config.yml" not in objects(rendered, "dev")["ConfigMap"]["data"]


def test_owned_keys_documented_match_the_role():
    """The argument spec and docs list the same owned keys the preflight refuses."""
    spec = (ROOT / "roles/zookeeper/meta/argument_specs.yml").read_text()
    docs = (ROOT / "docs/zookeeper.md").read_text()
    assert len(OWNED) >= 19
    for key in OWNED:
        assert "C(%s)" % key in spec, key
        assert "`%s`" % key in docs, key
