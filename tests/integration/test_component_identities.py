"""The components' own client certificates with the ACL authorizer, with playbooks/site.yml on kubesim.

Two clusters in one namespace, both with `kafka_authorization: simple` and a mutual-TLS listener:
east runs ZooKeeper and Kafka only; west runs Kafka, Connect, MirrorMaker 2 (mirroring east), the
Bridge and the Exporter. Each component must mount a certificate from its cluster's clients CA, with
the CN its ACLs name; east issues west's MirrorMaker 2 one of its own, with the ACLs a source grants.
A second run writes nothing; a certificate that no longer fits is re-issued and rolls its component.
"""

import base64

from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.healthy_apps import HealthyApps
from tests.helpers import run_playbook, write_inventory
from tests.tls_certs import certificates, chains_to, key_matches, secret_bytes

NS = "kafka"
MTLS = {"name": "mtls", "port": 9094, "type": "internal", "tls": True, "authentication": "tls"}
COMPONENTS = ("connect", "mirrormaker", "bridge", "exporter")


def host_vars(kubeconfig, **extra):
    variables = {"streams_kubeconfig": kubeconfig, "streams_namespace": NS, "kafka_listeners": [MTLS],
                 "kafka_authorization": "simple", "kafka_users_timeout": 60}
    variables.update({"%s_ready_timeout" % c: 60 for c in ("zookeeper", "kafka") + COMPONENTS})
    variables.update(extra)
    return variables


def common_name(cert):
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def users_script(kubesim, cluster):
    jobs = [job for job in kubesim.objects("batch/v1", "Job", NS)
            if job["metadata"]["name"].startswith("%s-kafka-users-" % cluster)]
    assert len(jobs) == 1, [job["metadata"]["name"] for job in jobs]
    return jobs[0]["spec"]["template"]["spec"]["containers"][0]["command"][2]


def pod_template(kubesim, name):
    return kubesim.get("apps/v1", "Deployment", NS, name)["spec"]["template"]


def mounted_secrets(template):
    pod = template["spec"]
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    return {m["mountPath"]: secrets[m["name"]] for m in pod["containers"][0]["volumeMounts"] if m["name"] in secrets}


def test_components_authenticate_with_their_own_certificates_and_roll_on_renewal(kubesim, kubeconfig, tmp_path):
    HealthyApps(kubesim, poll=0.2).start()
    hosts = write_inventory(tmp_path / "hosts.yml", {
        "east": host_vars(kubeconfig),
        "west": host_vars(kubeconfig, connect_enabled=True, mirrormaker_sources=["east"], bridge_enabled=True,
                          exporter_enabled=True),
    })
    first = run_playbook(tmp_path, hosts, args=["--forks", "2"], timeout=1200)
    assert first.rc == 0, (first.failures(), first.stderr[-3000:])

    # every identity: a certificate from its cluster's clients CA, with the CN its ACLs name
    clients_ca = {cluster: certificates(secret_bytes(kubesim.get("v1", "Secret", NS, "%s-clients-ca-cert" % cluster), "ca.crt"))[0]
                  for cluster in ("east", "west")}
    expected = {"west-%s-user" % c: ("west", "west-%s" % c) for c in COMPONENTS}
    expected["east-west-mirrormaker-user"] = ("east", "west-mirrormaker")
    for name, (cluster, cn) in expected.items():
        secret = kubesim.get("v1", "Secret", NS, name)
        assert secret is not None, name
        cert = x509.load_pem_x509_certificate(secret_bytes(secret, "tls.crt"))
        assert common_name(cert) == cn, name
        assert chains_to(cert, clients_ca[cluster]), name
        assert key_matches(secret_bytes(secret, "tls.key"), cert), name
    # east deploys no component, so it issues none of its own
    assert kubesim.get("v1", "Secret", NS, "east-connect-user") is None

    # each component mounts its certificate and its cluster's CA, and carries their hash
    for component in ("connect", "bridge", "exporter"):
        template = pod_template(kubesim, "west-%s" % component)
        assert mounted_secrets(template) == {"/opt/streams/cluster-ca": "west-cluster-ca-cert",
                                             "/opt/streams/certs": "west-%s-user" % component}, component
        assert len(template["metadata"]["annotations"]["streams.kafka/secrets-hash"]) == 64, component
    assert mounted_secrets(pod_template(kubesim, "west-mirrormaker")) == {
        "/opt/streams/cluster-ca": "west-cluster-ca-cert", "/opt/streams/certs": "west-mirrormaker-user",
        "/opt/streams/cluster-ca-east": "east-cluster-ca-cert", "/opt/streams/certs-east": "east-west-mirrormaker-user"}

    # the ACLs: west's components on west, west's MirrorMaker 2 on east as a source
    west = users_script(kubesim, "west")
    for component in ("connect", "mirrormaker", "exporter"):
        assert "'User:west-%s'" % component in west, component
    # the Bridge's topics and groups depend on its HTTP clients: kafka_component_acls.bridge
    assert "'User:west-bridge'" not in west
    east = users_script(kubesim, "east")
    assert ("'--allow-principal' 'User:west-mirrormaker' '--allow-host' '*' '--operation' 'Read' '--operation' 'Describe' "
            "'--operation' 'DescribeConfigs' '--topic' '*'") in east
    assert "'--topic' 'mm2-offset-syncs.' '--resource-pattern-type' 'prefixed'" in east
    assert "'User:west-connect'" not in east

    # a second run writes nothing
    kubesim.clear_requests()
    second = run_playbook(tmp_path, hosts, args=["--forks", "2"], timeout=1200)
    assert second.rc == 0, (second.failures(), second.stderr[-3000:])
    assert kubesim.writes() == [], kubesim.writes()

    # a Bridge certificate that no longer fits (another CN) is re-issued, and rolls the Bridge only
    before = {c: pod_template(kubesim, "west-%s" % c)["metadata"]["annotations"]["streams.kafka/secrets-hash"]
              for c in ("connect", "bridge", "exporter")}
    wrong = kubesim.get("v1", "Secret", NS, "west-connect-user")
    bridge = kubesim.get("v1", "Secret", NS, "west-bridge-user")
    bridge["data"] = dict(wrong["data"])
    kubesim.store.update(kubesim.catalog.by_kind("v1", "Secret"), NS, "west-bridge-user", bridge)
    third = run_playbook(tmp_path, hosts, args=["--forks", "2"], timeout=1200)
    assert third.rc == 0, (third.failures(), third.stderr[-3000:])
    reissued = x509.load_pem_x509_certificate(base64.b64decode(kubesim.get("v1", "Secret", NS, "west-bridge-user")["data"]["tls.crt"]))
    assert common_name(reissued) == "west-bridge"
    after = {c: pod_template(kubesim, "west-%s" % c)["metadata"]["annotations"]["streams.kafka/secrets-hash"]
             for c in ("connect", "bridge", "exporter")}
    assert after["bridge"] != before["bridge"]
    assert after["connect"] == before["connect"] and after["exporter"] == before["exporter"]
