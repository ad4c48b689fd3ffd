"""The ZooKeeper gate against a REAL ensemble: Debian's ZooKeeper 3.8 run from the zoo.cfg the
role rendered, its pod names mapped to 127.0.0.11-13, read through kubesim's pod proxy.

kubesim holds the role's StatefulSet and its (simulated, Ready) pods; the pod proxy forwards
``pods/dev-zookeeper-N:8080/proxy/...`` to member N+1's real AdminServer. The gate therefore
goes through the same code path as against a cluster: kubernetes client -> API server pod
proxy -> AdminServer JSON. The tests FAIL (not skip) when ZooKeeper is missing: `make test`
installs it.
"""

import socket
import ssl
import subprocess

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import zookeeper
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady
from tests.helpers import by_kind, load_manifests, pod_api, run_playbook, run_tasks, write_inventory
from tests.zookeeper_ensemble import Ensemble, missing_reason, zookeeper_available

NS = "kafka"
PODS = ["dev-zookeeper-0", "dev-zookeeper-1", "dev-zookeeper-2"]


def require_zookeeper():
    if not zookeeper_available():
        pytest.fail("ZooKeeper is required for this test and is not installed: %s" % missing_reason(), pytrace=False)


@pytest.fixture(scope="module", name="rendered")
def rendered_fixture(tmp_path_factory):
    """The objects the role renders for cluster 'dev' (3 members), in directory mode."""
    tmp = tmp_path_factory.mktemp("render")
    inventory = write_inventory(tmp / "hosts.yml", {"dev": {}}, group_vars={
        "streams_deploy_to": "directory", "streams_manifest_dir": "out", "streams_namespace": NS})
    run = run_playbook(tmp, inventory)
    assert run.rc == 0, run.describe()
    return by_kind(load_manifests(tmp / "out" / "dev" / "10-zookeeper.yaml"))


@pytest.fixture(name="ensemble")
def ensemble_fixture(rendered, tmp_path):
    require_zookeeper()
    # tls=True: the members run the rendered quorum and client TLS, with test certificates
    # (pod DNS name and loopback IP) in place of the mounted Secret.
    with Ensemble(rendered["ConfigMap"]["data"]["zoo.cfg"], tmp_path / "zk", tls=True) as ens:
        ens.start(timeout=30)
        yield ens


@pytest.fixture(name="cluster")
def cluster_fixture(kubesim, rendered, ensemble):
    """kubesim running the role's StatefulSet, its pods' port 8080 proxied to the real members."""
    kubesim.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    kubesim.create(rendered["StatefulSet"])
    assert kubesim.wait_for(lambda: len([p for p in kubesim.objects("v1", "Pod", NS)
                                         if p["status"].get("phase") == "Running"]) == 3, timeout=10)
    for member in ensemble.members():
        kubesim.route_proxy(NS, "dev-zookeeper-%d" % (member - 1), 8080, ensemble.admin_url(member))
    return kubesim


def gate(kubeconfig):
    return zookeeper.EnsembleGate(pod_api(kubeconfig), NS, 3, zookeeper.selector_for("dev"),
                                  zookeeper.expected_pods("dev", 3))


def pod_of(member_id):
    return "dev-zookeeper-%d" % (member_id - 1)


def module_task(kubeconfig, **options):
    args = {"kubeconfig": kubeconfig, "namespace": NS, "cluster_name": "dev", "replicas": 3}
    args.update(options)
    return {"name": "Gate", "streams.kafka.zookeeper_ready": args, "register": "gate", "ignore_errors": True}


def test_gate_follows_a_real_ensemble_through_losing_its_leader(cluster, ensemble, kubeconfig, tmp_path):
    # ready: every member answers, one leader, two synced followers
    report, waited = gate(kubeconfig).wait(30)
    assert report["ready"], report["reason"]
    leader = ensemble.leader()
    assert report["leader"] == pod_of(leader)
    assert sorted(m["server_state"] for m in report["members"].values()) == ["follower", "follower", "leader"]
    assert report["members"][pod_of(leader)]["synced_followers"] == 2
    assert all(m["zxid"] and m["zxid"].startswith("0x") for m in report["members"].values())
    assert all(m["myid"] == int(name[-1]) + 1 for name, m in report["members"].items())
    assert waited < 30

    # the module itself, as Ansible runs it, agrees
    run = run_tasks(tmp_path, [module_task(kubeconfig, timeout=30)])
    result = run.result_of("Gate")
    assert result.get("failed") is not True, run.describe()
    assert result["ready"] is True and result["leader"] == pod_of(leader)

    # kill the leader: not ready, and the lost member is named
    ensemble.kill(leader)
    lost = pod_of(leader)
    report = gate(kubeconfig).observe()
    assert not report["ready"]
    assert report["members"][lost]["state"] == "unreachable"
    assert "pod %s: AdminServer on port 8080 does not answer" % lost in report["reason"]

    # the others elect a new leader, which has one follower in sync of the two expected
    new_leader = ensemble.wait_for_leader(timeout=30, synced_followers=1, exclude=(leader,))
    report = gate(kubeconfig).observe()
    assert not report["ready"] and report["leader"] == pod_of(new_leader)
    assert "pod %s: AdminServer on port 8080 does not answer" % lost in report["reason"]
    assert ("leader pod %s has 1 synced follower(s), expected 2 (not following: %s)" % (pod_of(new_leader), lost)
            in report["reason"])
    with pytest.raises(NotReady, match=lost):
        gate(kubeconfig).wait(2)

    run = run_tasks(tmp_path, [module_task(kubeconfig, timeout=2)])
    result = run.result_of("Gate")
    assert result["failed"] is True and result["ready"] is False
    assert result["msg"].startswith("ZooKeeper ensemble dev in namespace kafka is not ready after 2s: ")
    assert "pod %s: AdminServer on port 8080 does not answer" % lost in result["msg"]
    assert result["members"][lost]["state"] == "unreachable"

    # the lost member comes back (as the kubelet would restart it) and rejoins: ready again
    ensemble.restart(leader, timeout=30)
    report, _waited = gate(kubeconfig).wait(30)
    assert report["ready"], report["reason"]
    assert report["leader"] == pod_of(new_leader) != lost
    assert report["members"][lost]["server_state"] == "follower"
    assert report["members"][pod_of(new_leader)]["synced_followers"] == 2


def test_a_member_without_quorum_is_reported_as_not_serving(cluster, ensemble, kubeconfig):
    leader = ensemble.wait_for_leader(timeout=30, synced_followers=2)
    follower, other = [m for m in ensemble.members() if m != leader]
    ensemble.kill(leader)
    ensemble.kill(other)
    # ZooKeeper 3.8 answers mntr with HTTP 500 without a quorum; srvr says why
    report = gate(kubeconfig).observe()
    member = report["members"][pod_of(follower)]
    assert member["state"] == "not_serving", member
    assert member["problem"] == "not serving requests: This ZooKeeper instance is not currently serving requests"
    assert report["problems"][-1].startswith("no member is leader")


def probe(command, ip):
    """Run a rendered probe command against one loopback member instead of the pod's 127.0.0.1."""
    assert command[:2] == ["/bin/bash", "-c"] and "127.0.0.1" in command[2]
    return subprocess.run(["/bin/bash", "-c", command[2].replace("127.0.0.1", ip)],
                          capture_output=True, text=True, timeout=10, check=False).returncode


def test_rendered_probes_against_real_members(rendered, ensemble):
    box = rendered["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]
    liveness, readiness = box["livenessProbe"]["exec"]["command"], box["readinessProbe"]["exec"]["command"]
    leader = ensemble.wait_for_leader(timeout=30, synced_followers=2)
    for member in ensemble.members():
        assert probe(liveness, ensemble.ip(member)) == 0
        assert probe(readiness, ensemble.ip(member)) == 0
    # a member alone is alive (answers imok) but not ready (no quorum, srvr has no Mode)
    alone, other = [m for m in ensemble.members() if m != leader]
    ensemble.kill(leader)
    ensemble.kill(other)
    assert probe(liveness, ensemble.ip(alone)) == 0
    assert probe(readiness, ensemble.ip(alone)) != 0
    # a member that is gone fails both
    assert probe(liveness, ensemble.ip(leader)) != 0
    assert probe(readiness, ensemble.ip(leader)) != 0


def test_rendered_zoo_cfg_is_what_the_members_run(rendered, ensemble):
    """The loopback harness changes only addresses and paths; the rest is the role's zoo.cfg."""
    rendered_cfg = rendered["ConfigMap"]["data"]["zoo.cfg"]
    assert ensemble.dropped == {}
    running = ensemble.render_member_config(1)
    # the keystore and truststore paths point at the test's certificates instead of the pod's Secret
    moved = ("ssl.keyStore.location=", "ssl.trustStore.location=", "ssl.quorum.keyStore.location=", "ssl.quorum.trustStore.location=")
    for line in rendered_cfg.splitlines():
        if line and not line.startswith("#") and not line.startswith(("server.", "dataDir=", "quorumListenOnAllIPs=") + moved):
            assert line in running.splitlines(), line
    assert "sslQuorum=true" in running.splitlines() and "secureClientPort=2181" in running.splitlines()
    # every server.N line made it into the quorum
    assert ensemble.mntr(ensemble.wait_for_leader(timeout=30))["quorum_size"] == 3


def four_letter_word(ip, word, context=None):
    """Send a four-letter word to the client port, over TLS when a context is given; the answer or None."""
    try:
        with socket.create_connection((ip, 2181), timeout=5) as raw:
            conn = context.wrap_socket(raw, server_hostname=ip) if context else raw
            conn.sendall(word.encode())
            answer = b""
            while True:
                chunk = conn.recv(1024)
                if not chunk:
                    break
                answer += chunk
            return answer.decode()
    except (OSError, ssl.SSLError):
        return None


def test_the_client_port_speaks_tls_only_and_wants_a_certificate(rendered, ensemble):
    """The rendered zoo.cfg serves clients on 2181 over TLS only (no plain clientPort), and only
    clients with a certificate of the CA; the quorum formed over TLS (sslQuorum) to get here."""
    assert "clientPort" not in zookeeper_cfg_keys(rendered)
    leader = ensemble.wait_for_leader(timeout=30, synced_followers=2)
    ip = ensemble.ip(leader)
    assert four_letter_word(ip, "ruok", ensemble.client_ssl_context()) == "imok"
    assert four_letter_word(ip, "ruok") in (None, "")
    anonymous = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    anonymous.load_verify_locations(cafile=str(ensemble.ca_path))
    assert four_letter_word(ip, "ruok", anonymous) in (None, "")


def zookeeper_cfg_keys(rendered):
    return [line.split("=", 1)[0] for line in rendered["ConfigMap"]["data"]["zoo.cfg"].splitlines()
            if line and not line.startswith("#")]
