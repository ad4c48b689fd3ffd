"""playbooks/site.yml on inventories/multi_cluster, both clusters served by one kubesim.

Every component of both hosts is deployed in order; fake applications answer each gate
through the pod proxy. The request log then shows, per host, each component written only after
the gates of what it depends on passed.
"""

import pytest

from tests.fake_connect import FakeConnect
from tests.helpers import REPO, run_playbook
from tests.integration.test_stack_playbooks import exporter_metrics, recorded_bridge
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.kafka_metrics import serve_metrics

NS = "kafka"
INVENTORY = REPO / "inventories" / "multi_cluster"
HOSTS = ("prod-east", "staging-west")
# component -> (what its objects are named after, its gate's proxy port)
COMPONENTS = {"zookeeper": 8080, "kafka": 9404, "mirrormaker": 8083, "bridge": 8080, "exporter": 9404}
DEPENDS = {"kafka": ["zookeeper"], "mirrormaker": ["zookeeper", "kafka"], "bridge": ["zookeeper", "kafka"],
           "exporter": ["zookeeper", "kafka"]}


def serve(kubesim):
    fakes = {}
    for host in HOSTS:
        serve_admin(kubesim, cluster=host)
        serve_metrics(kubesim, NS, cluster=host)
        kubesim.route_proxy_pattern(NS, r"%s-bridge-.*" % host, 8080, recorded_bridge("bridge_ready_1.0.json"))
        kubesim.route_proxy_pattern(NS, r"%s-exporter-.*" % host, 9404, exporter_metrics)
        fakes[host] = FakeConnect()
        kubesim.route_proxy_pattern(NS, r"%s-mirrormaker-.*" % host, 8083, fakes[host])
    return fakes


def extra(kubeconfig):
    timeouts = {"%s_ready_timeout" % c: 60 for c in ("zookeeper", "kafka", "mirrormaker", "bridge", "exporter")}
    return dict(timeouts, streams_kubeconfig=kubeconfig, streams_context="kubesim", mirrormaker_connector_timeout=30)


def component_of(request, host):
    """The component a request concerns, for one host (None when it is not about one)."""
    # a create's path ends at the collection; kubesim logs the created object's name
    path = request["path"] + "/" + (request.get("name") or "")
    for component in COMPONENTS:
        if "/%s-%s" % (host, component) in path:
            return component
    return None


def first_write(requests, host, component):
    times = [r["time"] for r in requests if r["write"] and component_of(r, host) == component and "/proxy/" not in r["path"]]
    return min(times) if times else None


def last_gate_read(requests, host, component):
    times = [r["time"] for r in requests if "/proxy/" in r["path"] and r["status"] == 200
             and "/pods/%s-%s" % (host, component) in r["path"]]
    return max(times) if times else None


@pytest.mark.parametrize("kubesim", [0.3], indirect=True)
def test_multi_cluster_site_deploys_in_order_and_converges(kubesim, kubeconfig, tmp_path):
    fakes = serve(kubesim)
    run = run_playbook(tmp_path, INVENTORY, extra_vars=extra(kubeconfig), args=["--forks", "2"], timeout=900)
    assert run.rc == 0, run.describe()

    requests = kubesim.requests
    for host in HOSTS:
        for component, needs in DEPENDS.items():
            if component == "mirrormaker" and host != "staging-west":
                continue
            written = first_write(requests, host, component)
            assert written is not None, (host, component)
            for dependency in needs:
                passed = last_gate_read(requests, host, dependency)
                assert passed is not None and passed < written, (host, component, dependency)

    # staging-west mirrors prod-east. Here both hosts reach the same API (context kubesim), so
    # MirrorMaker 2 takes prod-east's in-cluster address rather than its external one.
    source = fakes["staging-west"].connectors["prod-east-to-staging-west.MirrorSourceConnector"]["config"]
    assert source["source.cluster.bootstrap.servers"] == "prod-east-kafka-bootstrap.kafka.svc:9093"
    assert source["target.cluster.bootstrap.servers"] == "staging-west-kafka-bootstrap.kafka.svc:9093"
    assert source["topics"] == "orders[.].*"
    assert fakes["prod-east"].connectors == {}
    assert kubesim.get("apps/v1", "Deployment", NS, "prod-east-mirrormaker") is None

    kubesim.clear_requests()
    again = run_playbook(tmp_path, INVENTORY, extra_vars=extra(kubeconfig), args=["--forks", "2"], timeout=900)
    assert again.rc == 0, again.describe()
    assert kubesim.writes() == [], kubesim.writes()[:5]
    assert all(stats["changed"] == 0 for stats in again.report["stats"].values()), again.report["stats"]


def test_mirrormaker_takes_the_external_address_of_another_cluster(tmp_path):
    out = tmp_path / "manifests"
    run = run_playbook(tmp_path, INVENTORY, extra_vars={"streams_deploy_to": "directory", "streams_manifest_dir": str(out)})
    assert run.rc == 0, run.describe()
    text = (out / "staging-west" / "40-mirrormaker.yaml").read_text()
    # prod-east's Route, over TLS, with the certificate prod-east issues staging-west's MirrorMaker 2
    assert "kafka-bootstrap.apps.prod-east.example.com:443" in text
    assert "${directory:/opt/streams/certs-prod-east:tls.key}" in text and "/opt/streams/cluster-ca-prod-east/ca.crt" in text
    assert not (out / "prod-east" / "40-mirrormaker.yaml").exists()
    # prod-east's users Job grants it what reading a source takes
    assert "User:staging-west-mirrormaker" in (out / "prod-east" / "20-kafka.yaml").read_text()
