"""No task prints a key or a password: a `-vvv` run of playbooks/site.yml against kubesim, with
the default (human) output, contains none of the secrets the run generated or read.

Each secret is looked for in every form a leak could take: its base64 value as the Secret holds
it, the PEM body lines of a key (64 base64 characters each, as a log would wrap them), and the
raw value itself.
"""

import base64

import pytest

from tests.fake_connect import FakeConnect
from tests.helpers import PLAINTEXT_KAFKA, run_playbook, write_inventory
from tests.integration.test_kafka_playbook import NS
from tests.integration.test_kafka_roll import serve
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.tls_certs import pem_body_lines

WEST = "west"

# Secret data keys whose values must never appear in the output, by the Secret they live in.
# PRIVATE KEYS (TLS helper): every Secret the run holds with one of these keys is checked.
SECRET_KEYS = ["ca.key", "tls.key"]

# ----------------------------------------------------------------------------------------
# EXTEND HERE (AUTH helper): other secret values to look for, as (Secret name, data key), for
# example SCRAM passwords: ("dev-user-orders-app", "password"). Add the inventory variables the
# run needs to EXTRA_VARIABLES (users, listeners with authentication), and the vault or plain
# passwords given in the inventory to EXTRA_VALUES.
SCRAM_PASSWORD = "vault-Pa55word-of-orders-app"
EXTRA_SECRETS = [("dev-user-orders-app", "password")]
EXTRA_VARIABLES = {
    "kafka_listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False},
                        {"name": "scram", "port": 9093, "type": "internal", "tls": True, "authentication": "scram-sha-512"},
                        {"name": "mtls", "port": 9094, "type": "internal", "tls": True, "authentication": "tls"}],
    "kafka_authorization": "simple",
    "kafka_users_timeout": 60,
    "kafka_users": [{"name": "orders-app", "authentication": "scram-sha-512", "password": SCRAM_PASSWORD,
                     "acls": [{"resource": {"type": "topic", "name": "orders"}, "operations": ["Read"]}]},
                    {"name": "audit", "authentication": "tls"}],
}
EXTRA_VALUES = [SCRAM_PASSWORD]
# ----------------------------------------------------------------------------------------


def forms(value):
    """The forms a secret value could leak in: raw, base64, and (for PEM) each body line."""
    raw = value if isinstance(value, str) else value.decode("utf-8", "replace")
    out = {raw.strip(), base64.b64encode(raw.encode()).decode()}
    if "-----BEGIN" in raw:
        out.update(line for line in pem_body_lines(raw) if len(line) >= 16)
    return {form for form in out if len(form) >= 8}


def collected_secrets(kubesim):
    """(label, value) of every secret value the run left in the namespace."""
    found = []
    for obj in kubesim.objects("v1", "Secret", NS):
        name, data = obj["metadata"]["name"], obj.get("data") or {}
        for key, encoded in data.items():
            if key in SECRET_KEYS or (name, key) in EXTRA_SECRETS:
                found.append(("%s/%s" % (name, key), base64.b64decode(encoded).decode("utf-8", "replace")))
    return found + [("inventory value %d" % index, value) for index, value in enumerate(EXTRA_VALUES)]


def test_a_verbose_site_run_prints_no_key(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve(kubesim)
    # and MirrorMaker 2 of host west, in another namespace, which reads the certificate dev issues
    # it and copies it into its own namespace
    kubesim.route_proxy_pattern(WEST, r"west-mirrormaker-.*", 8083, FakeConnect())
    hosts = write_inventory(tmp_path / "hosts.yml", {
        "dev": dict(EXTRA_VARIABLES, streams_kubeconfig=kubeconfig, streams_namespace=NS, zookeeper_ready_timeout=30,
                    kafka_ready_timeout=30),
        "west": dict(PLAINTEXT_KAFKA, streams_kubeconfig=kubeconfig, streams_namespace=WEST, zookeeper_enabled=False,
                     kafka_enabled=False, mirrormaker_sources=["dev"], mirrormaker_ready_timeout=60,
                     mirrormaker_connector_timeout=30)})
    env = {"ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default", "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "1"}
    run = run_playbook(tmp_path, hosts, env=env, args=["-vvv"], timeout=900)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    output = run.stdout + run.stderr
    assert "censored" in output, "no task hid its result: the run did not go through the secret-carrying tasks"

    secrets = collected_secrets(kubesim)
    names = {label.split("/")[0] for label, _value in secrets}
    # the run made both CAs and the ZooKeeper and Kafka certificates, so their keys are checked
    assert {"dev-cluster-ca", "dev-clients-ca", "dev-zookeeper-nodes", "dev-kafka-brokers"} <= names, names
    # and the users' Secrets: the SCRAM password (from the inventory) and the mutual-TLS user's key
    assert {name for name, _key in EXTRA_SECRETS} | {"dev-user-audit", "dev-kafka-admin-user"} <= names, names
    # west's copy of its certificate holds the same key as dev's, which is checked
    assert "dev-west-mirrormaker-user" in names, names
    copy = kubesim.get("v1", "Secret", WEST, "dev-west-mirrormaker-user")
    assert copy is not None and copy["data"] == kubesim.get("v1", "Secret", NS, "dev-west-mirrormaker-user")["data"]
    leaks = sorted({label for label, value in secrets for form in forms(value) if form in output})
    assert leaks == [], "secrets in the -vvv output: %s" % ", ".join(leaks)


@pytest.mark.parametrize("value,expected", [
    ("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n",
     "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"),
    ("s3cret-passw0rd", "czNjcmV0LXBhc3N3MHJk"),
])
def test_the_forms_looked_for_would_catch_a_leak(value, expected):
    assert expected in forms(value)
