"""Certificates against kubesim: playbooks/site.yml generates the cluster CA and clients CA,
issues the ZooKeeper and Kafka certificates from the cluster CA, keeps them on re-runs, renews
them inside the renewal window (and rolls the pods through the safe roll), and signs with a CA
the user supplies instead of generating one.

Certificates are checked with `cryptography`: they chain to the CA, their key is theirs, and their
SANs name every pod and Service kubesim holds.
"""

import base64
import hashlib

import pytest

from tests.helpers import load_manifests, run_playbook, write_inventory
from tests.integration.test_kafka_playbook import NS, inventory
from tests.integration.test_kafka_roll import serve
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.integration.test_zookeeper_roll import deletes
from tests.tls_certs import (CertificateAuthority, certificates, chains_to, dns_sans, key_matches,
                             secret_bytes)

CERT_SECRETS = {"zookeeper": "dev-zookeeper-nodes", "kafka": "dev-kafka-brokers"}


def secret(kubesim, name):
    return kubesim.get("v1", "Secret", NS, name)


def pods_of(kubesim, prefix):
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in kubesim.objects("v1", "Pod", NS)
            if p["metadata"]["name"].startswith(prefix)}


def check_certificates(kubesim):
    """Every certificate chains to the cluster CA, holds its key, and names every pod and Service
    of its component; returns {component: certificate PEM}."""
    ca_bundle = certificates(secret_bytes(secret(kubesim, "dev-cluster-ca-cert"), "ca.crt"))
    assert ca_bundle, "dev-cluster-ca-cert holds no certificate"
    ca = ca_bundle[0]
    pems = {}
    for component, name in CERT_SECRETS.items():
        data = secret(kubesim, name)
        assert data is not None, name
        assert data["type"] == "kubernetes.io/tls" and set(data["data"]) == {"tls.crt", "tls.key", "ca.crt"}
        cert = certificates(secret_bytes(data, "tls.crt"))[0]
        assert chains_to(cert, ca), "%s does not chain to the cluster CA" % name
        assert key_matches(secret_bytes(data, "tls.key"), cert), "%s: tls.key is not the key of tls.crt" % name
        assert secret_bytes(data, "ca.crt") == secret_bytes(secret(kubesim, "dev-cluster-ca-cert"), "ca.crt")
        names = set(dns_sans(cert))
        pods = pods_of(kubesim, "dev-%s-" % component)
        assert len(pods) == 3, pods
        for pod in pods:
            headless = "dev-zookeeper-nodes" if component == "zookeeper" else "dev-kafka-brokers"
            assert "%s.%s.%s.svc" % (pod, headless, NS) in names, (name, pod)
            assert "%s.%s.%s.svc.cluster.local" % (pod, headless, NS) in names, (name, pod)
        services = [s["metadata"]["name"] for s in kubesim.objects("v1", "Service", NS)
                    if s["metadata"]["labels"].get("app.kubernetes.io/name") == component]
        assert services, component
        for service in services:
            for form in (service, "%s.%s" % (service, NS), "%s.%s.svc" % (service, NS), "%s.%s.svc.cluster.local" % (service, NS)):
                assert form in names, (name, form)
        pems[component] = secret_bytes(data, "tls.crt")
        # the pod template carries the certificate's hash, so a renewal makes the pods outdated
        sts = kubesim.get("apps/v1", "StatefulSet", NS, "dev-%s" % component)
        assert sts["spec"]["template"]["metadata"]["annotations"]["streams.kafka/secrets-hash"] == \
            hashlib.sha256(pems[component]).hexdigest(), component
    # the CAs: self-signed CA certificates, the keys in Secrets of their own
    for which in ("cluster", "clients"):
        ca_cert = certificates(secret_bytes(secret(kubesim, "dev-%s-ca-cert" % which), "ca.crt"))[0]
        assert chains_to(ca_cert, ca_cert) and key_matches(secret_bytes(secret(kubesim, "dev-%s-ca" % which), "ca.key"), ca_cert)
    return pems


def secrets_data(kubesim):
    return {s["metadata"]["name"]: s["data"] for s in kubesim.objects("v1", "Secret", NS)}


@pytest.mark.parametrize("kubesim", [0.3], indirect=True)
def test_certificates_chain_cover_every_pod_and_service_are_kept_and_renewed_in_the_window(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    serve(kubesim)
    hosts = inventory(tmp_path, kubeconfig, kafka_roll_timeout=60, zookeeper_roll_timeout=60)

    first = run_playbook(tmp_path, hosts, timeout=900)
    assert first.rc == 0, first.describe()
    pems = check_certificates(kubesim)
    before = secrets_data(kubesim)
    assert {"dev-cluster-ca", "dev-cluster-ca-cert", "dev-clients-ca", "dev-clients-ca-cert"} <= set(before)

    # a second run keeps every certificate and writes nothing
    kubesim.clear_requests()
    second = run_playbook(tmp_path, hosts, timeout=900)
    assert second.rc == 0, second.describe()
    assert kubesim.writes() == [], kubesim.writes()
    assert secrets_data(kubesim) == before

    # the clock inside the renewal window: 400 renewal days, more than the 365 the CAs and
    # certificates have left. The CAs are renewed, every certificate is re-issued from the new
    # cluster CA, and the pods, outdated, are rolled one at a time.
    zookeeper_pods, kafka_pods = pods_of(kubesim, "dev-zookeeper-"), pods_of(kubesim, "dev-kafka-")
    old_ca = certificates(secret_bytes(secret(kubesim, "dev-cluster-ca-cert"), "ca.crt"))[0]
    kubesim.clear_requests()
    renewal = inventory(tmp_path, kubeconfig, kafka_roll_timeout=60, zookeeper_roll_timeout=60,
                        streams_tls_validity_days=800, streams_tls_renewal_days=400)
    renewed = run_playbook(tmp_path, renewal, timeout=900)
    assert renewed.rc == 0, renewed.describe()
    new_pems = check_certificates(kubesim)
    for component in CERT_SECRETS:
        assert new_pems[component] != pems[component], component
    bundle = certificates(secret_bytes(secret(kubesim, "dev-cluster-ca-cert"), "ca.crt"))
    assert len(bundle) == 2 and bundle[0] != old_ca and bundle[1] == old_ca, "the old CA stays trusted after the new one"
    assert not chains_to(certificates(new_pems["kafka"])[0], old_ca)
    restarted = [pod for _time, pod in deletes(kubesim)]
    assert sorted(restarted) == sorted(list(zookeeper_pods) + list(kafka_pods)), restarted
    assert max(restarted.index(pod) for pod in zookeeper_pods) < min(restarted.index(pod) for pod in kafka_pods), \
        "ZooKeeper rolls before Kafka"
    assert restarted[2] == "dev-zookeeper-0", "the ZooKeeper leader rolls last"
    assert restarted[-1] == "dev-kafka-0", "the active controller rolls last"
    for pod, uid in dict(zookeeper_pods, **kafka_pods).items():
        assert kubesim.get("v1", "Pod", NS, pod)["metadata"]["uid"] != uid, pod

    # and nothing more after that: the renewed certificates are valid beyond the window
    kubesim.clear_requests()
    settled = run_playbook(tmp_path, renewal, timeout=900)
    assert settled.rc == 0, settled.describe()
    assert kubesim.writes() == [] and deletes(kubesim) == []


def test_a_user_supplied_ca_signs_instead_of_a_generated_one(kubesim, kubeconfig, tmp_path):
    serve_admin(kubesim)
    own = CertificateAuthority("my-company-kafka-ca", days=100)
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    kubesim.create({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                    "metadata": {"name": "my-ca", "namespace": NS},
                    "data": {"tls.crt": base64.b64encode(own.cert_pem).decode(), "tls.key": base64.b64encode(own.key_pem).decode()}})
    kubesim.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "no-key", "namespace": NS},
                    "data": {"tls.crt": base64.b64encode(own.cert_pem).decode()}})

    # a named Secret that is missing, or lacks tls.key, is refused before any write, naming the variable
    for name, reason in (("nope", "does not exist in namespace kafka"), ("no-key", "lacks tls.crt or tls.key")):
        kubesim.clear_requests()
        refused = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, kafka_enabled=False, streams_cluster_ca_secret=name), timeout=900)
        assert refused.rc != 0
        messages = [msg for _task, _host, msg in refused.failures()]
        assert len(messages) == 1 and messages[0].startswith("streams_cluster_ca_secret='%s' %s" % (name, reason)), messages
        assert kubesim.writes() == []

    run = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, kafka_enabled=False, streams_cluster_ca_secret="my-ca"), timeout=900)
    assert run.rc == 0, run.describe()
    # no cluster CA of the collection's: the user's certificate is what the pods trust
    assert secret(kubesim, "dev-cluster-ca") is None
    assert secret_bytes(secret(kubesim, "dev-cluster-ca-cert"), "ca.crt") == own.cert_pem
    zookeeper = secret(kubesim, "dev-zookeeper-nodes")
    cert = certificates(secret_bytes(zookeeper, "tls.crt"))[0]
    assert chains_to(cert, own.cert) and secret_bytes(zookeeper, "ca.crt") == own.cert_pem
    # the clients CA, not supplied, is generated
    assert secret(kubesim, "dev-clients-ca") is not None


def test_directory_mode_writes_private_keys_only_when_asked(tmp_path):
    def written(directory):
        return [obj for path in sorted((tmp_path / directory / "dev").glob("*.yaml")) for obj in load_manifests(path)]

    def keyed(objects):
        return sorted(o["metadata"]["name"] for o in objects
                      if o["kind"] == "Secret" and {"ca.key", "tls.key"} & set(o.get("data") or {}))

    plain = write_inventory(tmp_path / "hosts.yml", {"dev": {}}, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "out", "streams_namespace": NS})
    run = run_playbook(tmp_path, plain, timeout=900)
    assert run.rc == 0, run.describe()
    objects = written("out")
    assert keyed(objects) == [] and not [o for o in objects if o["kind"] == "Secret"]
    # the output names what to create instead
    said = " ".join(str(result.get("msg", "")) for _task, _host, result in run.results("dev"))
    for name in ("dev-cluster-ca-cert", "dev-clients-ca", "dev-zookeeper-nodes", "dev-kafka-brokers"):
        assert name in said, name
    assert "Create Secret dev-kafka-brokers in namespace kafka" in said and "DNS:dev-kafka-0.dev-kafka-brokers.kafka.svc" in said
    # no certificate, so no hash on the pod templates
    for sts in [o for o in objects if o["kind"] == "StatefulSet"]:
        assert "streams.kafka/secrets-hash" not in sts["spec"]["template"]["metadata"]["annotations"]

    asked = write_inventory(tmp_path / "keys.yml", {"dev": {}}, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "keys", "streams_namespace": NS,
        "streams_manifest_private_keys": True})
    run = run_playbook(tmp_path, asked, timeout=900)
    assert run.rc == 0, run.describe()
    # the CAs, the brokers' and ZooKeeper's certificates, and the users Job's (the ACL authorizer is on by default)
    assert keyed(written("keys")) == ["dev-clients-ca", "dev-cluster-ca", "dev-kafka-admin-user", "dev-kafka-brokers",
                                      "dev-zookeeper-nodes"]
    files = {path.name: path.read_text() for path in (tmp_path / "keys" / "dev").glob("*.yaml")}
    # a re-run reuses what it wrote: the same files
    again = run_playbook(tmp_path, asked, timeout=900)
    assert again.rc == 0, again.describe()
    assert {path.name: path.read_text() for path in (tmp_path / "keys" / "dev").glob("*.yaml")} == files
