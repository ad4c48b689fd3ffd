"""kafka_listeners: what is refused (and how it is said), and what valid listeners become."""

import pytest

from ansible_collections.streams.kafka.plugins.filter.kafka_listeners import kafka_listeners
from ansible_collections.streams.kafka.plugins.module_utils import kafka_listeners as util

PLAIN = {"name": "plain", "port": 9092, "type": "internal", "tls": False}
ROUTE = {"name": "external", "port": 9094, "type": "route", "tls": True, "cert_secret": "ext-cert",
         "bootstrap_host": "bootstrap.apps.example.com", "host_template": "broker-{id}.apps.example.com"}
INGRESS = dict(ROUTE, type="ingress", ingress_class="nginx")
LB = {"name": "lb", "port": 9095, "type": "loadbalancer", "advertised_host_template": "lb-{id}.example.com"}
NODEPORT = {"name": "np", "port": 9096, "type": "nodeport", "advertised_host_template": "nodes.example.com",
            "node_port_base": 32000}


def problems(listeners, replicas=3, cluster="dev"):
    return util.problems(listeners, cluster, replicas)


@pytest.mark.parametrize("listeners", [[PLAIN], [PLAIN, ROUTE], [PLAIN, INGRESS], [PLAIN, LB], [PLAIN, NODEPORT],
                                       [PLAIN, ROUTE, LB, NODEPORT, dict(INGRESS, name="ing", port=9097,
                                                                         bootstrap_host="b.example.com",
                                                                         host_template="k-{id}.example.com")]])
def test_valid_listeners_have_no_problems(listeners):
    assert problems(listeners) == []


@pytest.mark.parametrize("listeners, fragments", [
    ("plain", ["kafka_listeners must be a list of listeners"]),
    ([], ["kafka_listeners is empty"]),
    (["plain"], ["kafka_listeners[0] must be a dict with name, port and type"]),
    ([PLAIN, dict(PLAIN, port=9093)], ["kafka_listeners has the name plain 2 times (entries 0, 1): listener names must be unique"]),
    ([PLAIN, dict(PLAIN, name="other")], ["kafka_listeners uses port 9092 for plain and other: every listener needs its own port"]),
    ([dict(PLAIN, port=9091)], ["kafka_listeners[0] (plain) port=9091 is not valid: use a port from 9092 to 65535",
                                "9091 is the replication listener's"]),
    ([dict(PLAIN, port=9404)], ["port=9404 is not valid", "9404 (the Prometheus metrics agent), 9999 (JMX)"]),
    ([dict(PLAIN, port=9999)], ["port=9999 is not valid"]),
    ([dict(PLAIN, port=70000)], ["port=70000 is not valid"]),
    ([dict(PLAIN, port="9092")], ["port='9092' is not valid"]),
    ([dict(PLAIN, name="replication")], ["name='replication' is not valid", "the role's own inter-broker listener"]),
    ([dict(PLAIN, name="Plain")], ["name='Plain' is not valid: use 1 to 11 lower-case letters or digits"]),
    ([dict(PLAIN, name="averyverylongname")], ["name='averyverylongname' is not valid"]),
    ([dict(PLAIN, type="cluster")], ["kafka_listeners[0] (plain) type='cluster' is not a listener type: use one of "
                                     "internal, route, loadbalancer, nodeport, ingress"]),
    ([dict(PLAIN, tls="yes")], ["tls='yes' is not valid: use true or false"]),
    # tls: true without cert_secret is the brokers' certificate from the cluster CA; a bad name is refused
    ([dict(PLAIN, tls=True, cert_secret="Not_A_Name")], ["cert_secret='Not_A_Name' is not valid",
                                                         "or leave cert_secret out for the brokers' certificate"]),
    ([dict(PLAIN, cert_secret="x")], ["sets cert_secret but not tls: true"]),
    ([dict(PLAIN, host_template="x-{id}")], ["has host_template, which an internal listener does not use"]),
    ([dict(ROUTE, tls=False, cert_secret=None)], ["kafka_listeners[0] (external) is of type route, which needs tls: true",
                                                  "OpenShift router passes TLS through"]),
    ([dict(INGRESS, tls=False, cert_secret=None)], ["is of type ingress, which needs tls: true", "ingress controller"]),
    ([{k: v for k, v in ROUTE.items() if k != "bootstrap_host"}], ["bootstrap_host=None is not valid"]),
    ([{k: v for k, v in ROUTE.items() if k != "host_template"}],
     ["has no host for broker 0: set host_template", "has no host for broker 2"]),
    ([dict(ROUTE, host_template="broker.apps.example.com")], ["host_template='broker.apps.example.com' is not valid: use a DNS name with {id}"]),
    ([dict(ROUTE, bootstrap_host="broker-1.apps.example.com")], ["uses the host broker-1.apps.example.com more than once"]),
    ([dict(ROUTE, brokers=[{"id": 3, "host": "x.example.com"}])], ["brokers[0] id=3 is not valid: use a broker id from 0 to 2"]),
    ([dict(ROUTE, brokers=[{"id": 0, "advertised_host": "x"}])], ["brokers[0] has advertised_host, which a route listener does not use"]),
    ([dict(INGRESS, ingress_class="Nginx_Class")], ["ingress_class='Nginx_Class' is not valid"]),
    ([{k: v for k, v in LB.items() if k != "advertised_host_template"}],
     ["kafka_listeners[0] (lb) has no advertised address for broker 0: set advertised_host_template"]),
    ([dict(LB, brokers=[{"id": 0, "advertised_port": 0}])], ["broker 0 advertised_port=0 is not valid"]),
    ([{k: v for k, v in NODEPORT.items() if k != "node_port_base"}], ["has no node port for broker 1: set node_port_base"]),
    ([dict(NODEPORT, node_port_base=32767)], ["node_port_base=32767 is not valid: use a port number from 30000 to 32765"]),
    ([dict(NODEPORT, bootstrap_node_port=32001)], ["uses node port 32001 more than once"]),
    ([dict(NODEPORT, brokers=[{"id": 1, "node_port": 80}])], ["broker 1 node_port=80 is not valid"]),
    ([dict(LB, annotations={"a": 1})], ["annotations must be a dict of strings"]),
    ([dict(ROUTE, name="abcdefghijk")], []),
])
def test_refusals_name_the_listener_field_and_what_is_valid(listeners, fragments):
    found = problems(listeners)
    if not fragments:
        assert found == []
        return
    text = "\n".join(found)
    for fragment in fragments:
        assert fragment in text, text


def test_long_cluster_names_are_refused_for_external_listeners():
    cluster = "c" * 40
    found = problems([PLAIN, dict(LB, name="abcdefghijk")], cluster=cluster)
    assert any("would be longer than 63 characters" in p and "%s-kafka-abcdefghijk-bootstrap" % cluster in p for p in found), found
    assert problems([PLAIN], cluster=cluster) == []


def test_normalized_internal_listeners():
    out = util.normalize([PLAIN, dict(PLAIN, name="tls", port=9093, tls=True, cert_secret="c")], "dev", "kafka", 2)
    assert [(l["config_name"], l["port"], l["protocol"], l["port_name"]) for l in out] == [
        ("REPLICATION", 9091, "SSL", "tcp-replication"), ("PLAIN", 9092, "PLAINTEXT", "tcp-plain"),
        ("TLS", 9093, "SSL", "tcp-tls")]
    # the replication listener is always TLS, on the brokers' certificate (no cert_secret)
    assert out[0]["replication"] and out[0]["tls"] and out[0]["cert_secret"] is None
    assert not any(listener["replication"] for listener in out[1:])
    assert util.normalize([dict(PLAIN, tls=True)], "dev", "kafka", 1)[1]["cert_secret"] is None
    assert util.problems([dict(PLAIN, tls=True)], "dev", 1) == []
    assert out[2]["brokers"][1]["advertised_host"] == "dev-kafka-1.dev-kafka-brokers.kafka.svc"
    assert out[2]["brokers"][1]["advertised_port"] == 9093
    assert util.advertised_listeners(out) == [
        "REPLICATION://dev-kafka-%d.dev-kafka-brokers.kafka.svc:9091,PLAIN://dev-kafka-%d.dev-kafka-brokers.kafka.svc:9092,"
        "TLS://dev-kafka-%d.dev-kafka-brokers.kafka.svc:9093" % (i, i, i) for i in range(2)]


def test_normalized_external_listeners():
    lb = dict(LB, brokers=[{"id": 1, "advertised_host": "10.0.0.11", "load_balancer_ip": "10.0.0.11", "advertised_port": 19095}])
    nodeport = dict(NODEPORT, bootstrap_node_port=31999, brokers=[{"id": 2, "node_port": 32100}])
    route = dict(ROUTE, brokers=[{"id": 2, "host": "special.apps.example.com"}])
    out = {l["name"]: l for l in util.normalize([PLAIN, route, lb, nodeport], "dev", "kafka", 3)}
    assert out["external"]["service_type"] == "ClusterIP" and out["lb"]["service_type"] == "LoadBalancer"
    assert out["np"]["service_type"] == "NodePort" and out["plain"]["service_type"] is None
    assert out["external"]["bootstrap"] == {"name": "dev-kafka-external-bootstrap", "host": "bootstrap.apps.example.com",
                                            "node_port": None, "load_balancer_ip": None}
    assert [(b["name"], b["host"], b["advertised_host"], b["advertised_port"]) for b in out["external"]["brokers"]] == [
        ("dev-kafka-external-0", "broker-0.apps.example.com", "broker-0.apps.example.com", 443),
        ("dev-kafka-external-1", "broker-1.apps.example.com", "broker-1.apps.example.com", 443),
        ("dev-kafka-external-2", "special.apps.example.com", "special.apps.example.com", 443)]
    assert [(b["advertised_host"], b["advertised_port"], b["load_balancer_ip"]) for b in out["lb"]["brokers"]] == [
        ("lb-0.example.com", 9095, None), ("10.0.0.11", 19095, "10.0.0.11"), ("lb-2.example.com", 9095, None)]
    assert [(b["advertised_host"], b["advertised_port"], b["node_port"]) for b in out["np"]["brokers"]] == [
        ("nodes.example.com", 32000, 32000), ("nodes.example.com", 32001, 32001), ("nodes.example.com", 32100, 32100)]
    assert out["np"]["bootstrap"]["node_port"] == 31999


def test_filter_returns_problems_or_listeners():
    bad = kafka_listeners([dict(PLAIN, port=9404)], "dev", "kafka", 3)
    assert bad["listeners"] == [] and bad["advertised_listeners"] == [] and len(bad["problems"]) == 1
    good = kafka_listeners([PLAIN], "dev", "kafka", "3")
    assert good["problems"] == [] and len(good["listeners"]) == 2 and len(good["advertised_listeners"]) == 3
    assert kafka_listeners([PLAIN], "dev", "kafka", 0)["listeners"] == []
