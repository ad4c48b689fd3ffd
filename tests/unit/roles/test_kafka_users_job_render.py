"""The kafka role's users Job as its template renders it, in KRaft and in ZooKeeper mode (issue #8).

One small ansible-playbook run renders roles/kafka/templates/users-job.yml.j2 with the role's own
variables (roles/kafka/vars/main.yml) and the script expressions of tasks/users.yml and
tasks/users_directory.yml, without the rest of the role; the objects are then checked against the
Kubernetes schemas like every other rendered object.
"""

import pytest
import yaml

from ansible_collections.streams.kafka.plugins.module_utils import manifest_schema
from tests.helpers import CRDS, KUBERNETES_VERSIONS, REPO, run_tasks

ROLE = REPO / "roles" / "kafka"
ROLE_VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
# The role's variables the template and the script expressions read.
OWN = ["__kafka_users_kraft", "__kafka_users_bootstrap", "__kafka_cert_secret", "__kafka_users_scram",
       "__kafka_users_job_label", "__kafka_brokers_service"]
USERS = [
    {"name": "orders-app", "authentication": "scram-sha-512", "password_secret": {"name": "orders-login", "key": "pw"},
     "acls": [{"resource": {"type": "topic", "name": "orders"}, "operations": ["Read", "Describe"]}]},
    {"name": "audit", "authentication": "tls", "acls": []},
]


def task_expression(task_file, task_name):
    tasks = yaml.safe_load((ROLE / "tasks" / task_file).read_text())

    def find(items):
        for task in items:
            if task.get("name") == task_name:
                return task
            found = find(task.get("block", []))
            if found:
                return found
        return None
    return find(tasks)["ansible.builtin.set_fact"]["__kafka_users_script"]


CASES = {
    "kraft": {"streams_metadata_mode": "kraft"},
    # ZooKeeper over TLS (the brokers' own ensemble), and a ZooKeeper without TLS
    "zookeeper-tls": {"streams_metadata_mode": "zookeeper", "__kafka_users_zookeeper_tls": True},
    "zookeeper": {"streams_metadata_mode": "zookeeper", "__kafka_users_zookeeper_tls": False},
}


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("users-job")
    common = dict({name: ROLE_VARS[name] for name in OWN}, **{
        "streams_cluster_name": "dev", "streams_namespace": "ns", "kafka_users": USERS,
        "__kafka_zookeeper_connect": "dev-zookeeper-client.ns.svc:2182/dev",
        "__kafka_component_acls": {"exporter": [{"resource": {"type": "cluster"}, "operations": ["Describe"]}]},
        "__kafka_acl_identities": [], "__kafka_users_previous": {},
        "__kafka_users_job_name": "dev-kafka-users-0123456789", "__kafka_users_fingerprint": "f" * 64,
        "kafka_users_timeout": 300, "streams_image_pull_secrets": [], "kafka_image": "quay.io/strimzi/kafka:0.45.0-kafka-3.9.0",
        "kafka_image_pull_policy": "IfNotPresent", "streams_network_policies": True,
    })
    template = str(ROLE / "templates" / "users-job.yml.j2")
    tasks = []
    for case, variables in CASES.items():
        for source, task_file, task_name in (("cluster", "users.yml", "Render the users Job"),
                                             ("directory", "users_directory.yml", "Render the users Job")):
            task_vars = dict(common, **variables)
            if case == "kraft":
                # ZooKeeper's address and TLS must not be read in KRaft mode: there are none to read
                task_vars["__kafka_zookeeper_connect"] = "{{ undefined_in_kraft_mode }}"
                task_vars["__kafka_users_zookeeper_tls"] = "{{ undefined_in_kraft_mode }}"
            task_vars["__kafka_users_script"] = task_expression(task_file, task_name)
            tasks.append({"name": "%s %s" % (case, source), "ansible.builtin.set_fact": {
                "objects": "{{ lookup('ansible.builtin.template', %r) | ansible.builtin.from_yaml_all | list }}" % template},
                "vars": task_vars})
    run = run_tasks(tmp, tasks, timeout=300)
    assert run.rc == 0, run.describe()
    return {name: run.result_of(name, "localhost")["ansible_facts"]["objects"]
            for name in ("%s %s" % (case, source) for case in CASES for source in ("cluster", "directory"))}


def job_of(objects):
    [job] = [obj for obj in objects if obj["kind"] == "Job"]
    return job


@pytest.mark.parametrize("case", sorted(CASES))
def test_users_job_passes_strict_schema_validation(rendered, case):
    objects = rendered["%s directory" % case]
    labels = {"app.kubernetes.io/instance": "dev", "app.kubernetes.io/part-of": "streams",
              "app.kubernetes.io/managed-by": "streams.kafka", "app.kubernetes.io/component": "kafka-users"}
    refs = manifest_schema.validate_manifests(objects, KUBERNETES_VERSIONS, manifest_schema.load_crd_schemas([str(CRDS)]), labels)
    assert sorted(refs) == ["ns/Job/dev-kafka-users-0123456789", "ns/NetworkPolicy/dev-kafka-users"]
    # cluster and directory mode render the same Job (no previous state here)
    assert rendered["%s cluster" % case] == objects


def test_kraft_users_job_mounts_the_brokers_certificate_and_uses_the_brokers(rendered):
    job = job_of(rendered["kraft directory"])
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    mounts = {mount["name"]: mount for mount in container["volumeMounts"]}
    assert mounts["kafka-client"] == {"name": "kafka-client", "mountPath": "/opt/streams/kafka-client", "readOnly": True}
    assert "zookeeper-client" not in mounts and "cluster-ca" not in mounts
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert volumes["kafka-client"]["secret"] == {"secretName": "dev-kafka-brokers", "items": [
        {"key": "tls.crt", "path": "tls.crt"}, {"key": "tls.key", "path": "tls.key"}, {"key": "ca.crt", "path": "ca.crt"}]}
    # the SCRAM user's password, mounted where the script reads it
    assert mounts["password-0"]["mountPath"] == "/opt/streams/users/0"
    assert volumes["password-0"]["secret"] == {"secretName": "orders-login", "items": [{"key": "pw", "path": "password"}]}
    command = container["command"]
    assert command[:2] == ["/bin/bash", "-c"]
    script = command[2]
    assert "bootstrap='dev-kafka-brokers.ns.svc:9091'" in script
    assert "client_dir='/opt/streams/kafka-client'" in script
    assert "zookeeper" not in script.lower() and "--command-config" in script
    assert "scram 'orders-app' '/opt/streams/users/0/password'" in script
    assert "'User:dev-exporter'" in script


@pytest.mark.parametrize("case", ["zookeeper", "zookeeper-tls"])
def test_zookeeper_users_job_is_as_before(rendered, case):
    job = job_of(rendered["%s directory" % case])
    pod = job["spec"]["template"]["spec"]
    mounts = [mount["name"] for mount in pod["containers"][0]["volumeMounts"]]
    volumes = [volume["name"] for volume in pod["volumes"]]
    tls = case == "zookeeper-tls"
    assert mounts == ["tmp"] + (["zookeeper-client", "cluster-ca"] if tls else []) + ["password-0"]
    assert volumes == mounts
    script = pod["containers"][0]["command"][2]
    assert "zk='dev-zookeeper-client.ns.svc:2182/dev'" in script and "--bootstrap-server" not in script
    assert ("--zk-tls-config-file" in script) == tls
