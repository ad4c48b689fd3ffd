"""Listener authentication, kafka_users and the users Job, with playbooks/site.yml on kubesim.

kubesim answers the gates as a healthy ZooKeeper and Kafka do, and completes Jobs (its Job
controller makes the pod, which succeeds). A run with a SCRAM user (password from the inventory,
as Ansible Vault gives it) and a mutual-TLS user creates the users' Secrets and one Job whose
spec holds no password, and waits for it; a second run writes nothing; a changed ACL makes a
new Job that revokes the old ACL; bad input is refused before any write.
"""

import base64
import json

import pytest
import yaml

from tests.healthy_apps import HealthyApps
from tests.helpers import run_playbook, write_inventory

NS = "kafka"
PASSWORD = "orders-Pa55word-not-in-any-manifest"
OTHER_PASSWORD = "legacy-Pa55word-not-in-any-manifest"
BILLING_PASSWORD = "billing-Pa55word-from-its-own-secret"
SCRAM = {"name": "scram", "port": 9093, "type": "internal", "tls": True, "authentication": "scram-sha-512"}
MTLS = {"name": "mtls", "port": 9094, "type": "internal", "tls": True, "authentication": "tls"}
PLAIN = {"name": "plain", "port": 9092, "type": "internal", "tls": False}
ORDERS_READ = {"resource": {"type": "topic", "name": "orders"}, "operations": ["Read", "Describe"]}
ORDERS_WRITE = {"resource": {"type": "topic", "name": "orders"}, "operations": ["Write"]}
GROUP = {"resource": {"type": "group", "name": "orders-", "pattern_type": "prefix"}, "operations": ["Read"]}
WAIT_TASK = "streams.kafka.kafka : Wait for the users Job to complete"


def users(acl=None, legacy=True):
    acl = acl or ORDERS_READ
    declared = [
        {"name": "orders-app", "authentication": "scram-sha-512", "password": PASSWORD, "acls": [acl, GROUP]},
        {"name": "audit", "authentication": "tls", "acls": [ORDERS_READ]},
        {"name": "billing", "authentication": "scram-sha-512", "password_secret": {"name": "billing-login", "key": "pw"}},
    ]
    if legacy:
        declared.append({"name": "legacy", "authentication": "scram-sha-512", "password": OTHER_PASSWORD, "acls": [ORDERS_READ]})
    return declared


def host_vars(kubeconfig, **extra):
    variables = {"streams_kubeconfig": kubeconfig, "streams_namespace": NS, "zookeeper_ready_timeout": 30,
                 "kafka_ready_timeout": 30, "kafka_users_timeout": 60,
                 "kafka_listeners": [PLAIN, SCRAM, MTLS], "kafka_authorization": "simple", "kafka_users": users()}
    variables.update(extra)
    return variables


def jobs(kubesim):
    return [job for job in kubesim.objects("batch/v1", "Job", NS)
            if job["metadata"]["labels"].get("app.kubernetes.io/component") == "kafka-users"]


def job_writes(kubesim):
    return [w for w in kubesim.writes() if "/jobs" in w["path"] and w["method"] == "POST"]


@pytest.fixture(name="apps")
def apps_fixture(kubesim):
    HealthyApps(kubesim, poll=0.2).start()
    return kubesim


def billing_secret(kubesim):
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    kubesim.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "billing-login", "namespace": NS},
                    "type": "Opaque", "data": {"pw": base64.b64encode(BILLING_PASSWORD.encode()).decode()}})


def script_of(job):
    return job["spec"]["template"]["spec"]["containers"][0]["command"][2]


def test_users_job_applies_scram_and_tls_users_once_and_again_on_change(apps, kubeconfig, tmp_path):
    kubesim = apps
    billing_secret(kubesim)
    hosts = write_inventory(tmp_path / "hosts.yml", {"dev": host_vars(kubeconfig)})

    first = run_playbook(tmp_path, hosts, timeout=900)
    assert first.rc == 0, (first.failures(), first.stderr[-3000:])
    waited = first.result_of(WAIT_TASK)["resources"][0]
    assert waited["status"]["succeeded"] == 1 and waited["metadata"]["name"].startswith("dev-kafka-users-")

    # vault passwords are kept in <cluster>-user-<name>; the mutual-TLS user and the admin get clients-CA certificates
    secret = kubesim.get("v1", "Secret", NS, "dev-user-orders-app")
    assert base64.b64decode(secret["data"]["password"]).decode() == PASSWORD
    assert kubesim.get("v1", "Secret", NS, "dev-user-billing") is None
    for name in ("dev-user-audit", "dev-kafka-admin-user"):
        certificate = kubesim.get("v1", "Secret", NS, name)
        assert certificate is not None and set(certificate["data"]) >= {"tls.crt", "tls.key", "ca.crt"}, name

    # one Job, with no password anywhere in it: it mounts the password Secrets and writes the files itself
    created = jobs(kubesim)
    assert len(created) == 1, [j["metadata"]["name"] for j in created]
    job = created[0]
    text = json.dumps(job)
    for password in (PASSWORD, OTHER_PASSWORD, BILLING_PASSWORD):
        assert password not in text and base64.b64encode(password.encode()).decode() not in text
    pod = job["spec"]["template"]["spec"]
    script = script_of(job)
    assert "kafka-configs.sh\" --zookeeper" in script and "--add-config-file" in script
    assert "scram 'orders-app' '/opt/streams/users/0/password'" in script
    assert "scram 'billing' '/opt/streams/users/1/password'" in script
    assert ("acls --add '--allow-principal' 'User:orders-app' '--allow-host' '*' '--operation' 'Read' "
            "'--operation' 'Describe' '--topic' 'orders' '--resource-pattern-type' 'literal'") in script
    assert "'User:audit'" in script and "--remove" not in script and "--delete-config" not in script
    mounts = {v["name"]: v["secret"] for v in pod["volumes"] if "secret" in v}
    assert mounts["password-0"]["secretName"] == "dev-user-orders-app"
    assert mounts["password-1"]["secretName"] == "billing-login" and \
        mounts["password-1"]["items"] == [{"key": "pw", "path": "password"}]
    assert pod["automountServiceAccountToken"] is False
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    # the state ConfigMap: what was applied, no password
    state = kubesim.get("v1", "ConfigMap", NS, "dev-kafka-users-state")
    assert state["data"]["fingerprint"] == job["metadata"]["annotations"]["streams.kafka/users-fingerprint"]
    assert PASSWORD not in json.dumps(state)
    # the brokers authenticate and authorize; no password in their configuration
    properties = kubesim.get("v1", "ConfigMap", NS, "dev-kafka-config")["data"]["server.properties"]
    assert "SCRAM:SASL_SSL" in properties and "MTLS:SSL" in properties and "PLAIN:PLAINTEXT" in properties
    assert "listener.name.mtls.ssl.client.auth=required" in properties
    assert "listener.name.scram.sasl.enabled.mechanisms=SCRAM-SHA-512" in properties
    assert "authorizer.class.name=kafka.security.authorizer.AclAuthorizer" in properties
    assert "super.users=User:dev-kafka;User:dev-kafka-admin" in properties
    assert "allow.everyone.if.no.acl.found=false" in properties
    assert "password" not in properties.lower() and PASSWORD not in properties

    # a second run writes nothing and makes no Job
    kubesim.clear_requests()
    second = run_playbook(tmp_path, hosts, timeout=900)
    assert second.rc == 0, (second.failures(), second.stderr[-3000:])
    assert kubesim.writes() == [], kubesim.writes()
    assert second.report["stats"]["dev"]["changed"] == 0, second.report["stats"]

    # a changed ACL and a removed user make one new Job, which revokes the old ACL and the removed
    # user's credentials and ACLs; the old Job and the removed user's Secret are deleted
    hosts = write_inventory(tmp_path / "hosts.yml", {"dev": host_vars(kubeconfig, kafka_users=users(ORDERS_WRITE, legacy=False))})
    kubesim.clear_requests()
    third = run_playbook(tmp_path, hosts, timeout=900)
    assert third.rc == 0, (third.failures(), third.stderr[-3000:])
    assert len(job_writes(kubesim)) == 1, job_writes(kubesim)
    remaining = jobs(kubesim)
    assert len(remaining) == 1 and remaining[0]["metadata"]["name"] != job["metadata"]["name"], remaining
    script = script_of(remaining[0])
    assert ("acls --remove --force '--allow-principal' 'User:orders-app' '--allow-host' '*' '--operation' 'Read' "
            "'--operation' 'Describe' '--topic' 'orders'") in script
    assert "acls --remove --force '--allow-principal' 'User:legacy'" in script
    assert "configs --entity-name 'legacy' --delete-config SCRAM-SHA-512" in script
    assert "'--operation' 'Write' '--topic' 'orders'" in script
    assert kubesim.get("v1", "Secret", NS, "dev-user-legacy") is None
    # the password of orders-app did not change: its Secret was not written again
    assert not [w for w in kubesim.writes() if "dev-user-orders-app" in w["path"] or w["name"] == "dev-user-orders-app"]


@pytest.mark.parametrize("variables, message", [
    ({"kafka_users": [{"name": "orders-app", "authentication": "scram-sha-512", "acls": []}]},
     "kafka_users[0] (orders-app) authentication=scram-sha-512 needs exactly one password source"),
    ({"kafka_users": [{"name": "orders-app", "authentication": "scram-sha-512",
                       "password_secret": {"name": "missing-secret", "key": "password"}}]},
     "Secret missing-secret does not exist"),
    ({"kafka_listeners": [PLAIN, dict(SCRAM, tls=False)]},
     "kafka_listeners[1].authentication='scram-sha-512' (listener scram) is not valid with tls: false"),
])
def test_bad_auth_input_is_refused_before_any_write(kubesim, kubeconfig, tmp_path, variables, message):
    hosts = write_inventory(tmp_path / "hosts.yml", {"dev": host_vars(kubeconfig, **variables)})
    run = run_playbook(tmp_path, hosts, timeout=900)
    assert run.rc != 0, (run.failures(), run.stderr[-3000:])
    assert kubesim.writes() == [], kubesim.writes()
    failures = " | ".join(msg for _task, _host, msg in run.failures("dev"))
    assert message in failures, failures
    assert PASSWORD not in run.stdout and PASSWORD not in run.stderr


def test_directory_mode_puts_the_job_in_the_kafka_manifests(tmp_path):
    hosts = write_inventory(tmp_path / "hosts.yml", {"dev": dict(host_vars("unused"), streams_deploy_to="directory",
                                                                 streams_manifest_dir=str(tmp_path / "out"))})
    run = run_playbook(tmp_path, hosts, timeout=900)
    assert run.rc == 0, (run.failures(), run.stderr[-3000:])
    text = (tmp_path / "out" / "dev" / "20-kafka.yaml").read_text()
    objects = [doc for doc in yaml.safe_load_all(text) if doc]
    kinds = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert [k for k in kinds if k[0] == "Job"] and [k for k in kinds if k[0] == "Job"][0][1].startswith("dev-kafka-users-")
    # without streams_manifest_private_keys no password (and no private key) is written
    assert PASSWORD not in text and base64.b64encode(PASSWORD.encode()).decode() not in text
    assert ("Secret", "dev-user-orders-app") not in kinds
