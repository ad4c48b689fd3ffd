"""The SANs of the ZooKeeper and Kafka certificates, and when a certificate is renewed."""

import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.community.crypto.plugins.filter.x509_certificate_info import x509_certificate_info_filter

from ansible_collections.streams.kafka.plugins.filter import cert_renewal as renewal
from ansible_collections.streams.kafka.plugins.filter import cert_valid_at as valid_at
from ansible_collections.streams.kafka.plugins.filter import tls_sans as sans
from ansible_collections.streams.kafka.plugins.module_utils import kafka_listeners
from tests.tls_certs import CertificateAuthority


def test_zookeeper_sans_name_every_member_and_service():
    out = sans.tls_sans("dev", "kafka", "zookeeper", replicas=3)
    for ordinal in range(3):
        assert "DNS:dev-zookeeper-%d.dev-zookeeper-nodes.kafka.svc" % ordinal in out
        assert "DNS:dev-zookeeper-%d.dev-zookeeper-nodes.kafka.svc.cluster.local" % ordinal in out
    assert "DNS:dev-zookeeper-3.dev-zookeeper-nodes.kafka.svc" not in out
    for service in ("dev-zookeeper-client", "dev-zookeeper-nodes"):
        for name in (service, service + ".kafka", service + ".kafka.svc", service + ".kafka.svc.cluster.local"):
            assert "DNS:" + name in out
    assert "DNS:*.dev-zookeeper-nodes.kafka.svc" in out and "DNS:*.dev-zookeeper-nodes.kafka.svc.cluster.local" in out
    assert len(out) == len(set(out))
    five = sans.tls_sans("prod", "streams", "zookeeper", replicas="5")
    assert "DNS:prod-zookeeper-4.prod-zookeeper-nodes.streams.svc" in five and not [n for n in five if "dev" in n]


def normalized(listeners, replicas=3):
    assert kafka_listeners.problems(listeners, "dev", replicas) == []
    return kafka_listeners.normalize(listeners, "dev", "kafka", replicas)


def test_kafka_sans_name_every_broker_and_service():
    out = sans.tls_sans("dev", "kafka", "kafka", listeners=normalized([{"name": "plain", "port": 9092, "type": "internal"}], 4))
    for broker in range(4):
        assert "DNS:dev-kafka-%d.dev-kafka-brokers.kafka.svc" % broker in out
        assert "DNS:dev-kafka-%d.dev-kafka-brokers.kafka.svc.cluster.local" % broker in out
    for service in ("dev-kafka-brokers", "dev-kafka-bootstrap"):
        for name in (service, service + ".kafka", service + ".kafka.svc", service + ".kafka.svc.cluster.local"):
            assert "DNS:" + name in out
    assert not [name for name in out if "*" in name] and len(out) == len(set(out))


def test_kafka_sans_carry_the_external_hosts_of_listeners_with_the_brokers_certificate():
    route = {"name": "external", "port": 9094, "type": "route", "tls": True,
             "bootstrap_host": "kafka.apps.example.com", "host_template": "kafka-{id}.apps.example.com"}
    balancer = {"name": "lb", "port": 9095, "type": "loadbalancer", "tls": True,
                "advertised_host_template": "lb-{id}.example.com", "brokers": [{"id": 1, "advertised_host": "192.0.2.7"}]}
    own_cert = {"name": "own", "port": 9096, "type": "nodeport", "tls": True, "cert_secret": "mine",
                "advertised_host_template": "node-{id}.example.com", "node_port_base": 31000}
    plain_ports = {"name": "np", "port": 9097, "type": "nodeport", "tls": False,
                   "advertised_host_template": "np-{id}.example.com", "node_port_base": 32000}
    out = sans.tls_sans("dev", "kafka", "kafka", listeners=normalized([route, balancer, own_cert, plain_ports], 2))
    assert {"DNS:kafka.apps.example.com", "DNS:kafka-0.apps.example.com", "DNS:kafka-1.apps.example.com"} <= set(out)
    assert "DNS:lb-0.example.com" in out and "IP:192.0.2.7" in out and "DNS:lb-1.example.com" not in out
    # a listener with its own certificate, and one without TLS, add nothing
    assert not [name for name in out if "node-" in name or "np-" in name]


def test_sans_refuse_what_they_cannot_compute():
    with pytest.raises(AnsibleFilterError, match="zookeeper and kafka"):
        sans.tls_sans("dev", "kafka", "connect")
    with pytest.raises(AnsibleFilterError, match="number of ZooKeeper members"):
        sans.tls_sans("dev", "kafka", "zookeeper", replicas="three")
    with pytest.raises(AnsibleFilterError, match="Kafka listeners"):
        sans.tls_sans("dev", "kafka", "kafka", listeners=[])


WANTED = ["DNS:a.example.com", "DNS:b.example.com"]


def info(renew=True, cn="dev-kafka", names=("DNS:b.example.com", "DNS:a.example.com")):
    return {"valid_at": {"renew": renew}, "not_after": "20270101000000Z", "subject": {"commonName": cn},
            "subject_alt_name": list(names)}


def test_a_valid_certificate_with_the_same_names_and_ca_is_kept():
    assert renewal.cert_renewal(info(), "dev-kafka", WANTED, "CA\n", "CA") == []


@pytest.mark.parametrize("current,bundle,expected", [
    (None, "CA", "there is no certificate yet"),
    ({"skipped": True, "changed": False}, "CA", "there is no certificate yet"),
    (info(renew=False), "CA", "it expires 20270101000000Z, within 30 days"),
    (info(cn="other"), "CA", "its common name is other, not dev-kafka"),
    (info(names=["DNS:a.example.com"]), "CA", "its SANs differ (missing: DNS:b.example.com; no longer wanted: none)"),
    (info(names=WANTED + ["DNS:c.example.com"]), "CA", "its SANs differ (missing: none; no longer wanted: DNS:c.example.com)"),
    (info(), "OLD CA", "the CA changed"),
])
def test_renewal_reasons(current, bundle, expected):
    assert renewal.cert_renewal(current, "dev-kafka", WANTED, bundle, "CA", renewal_days=30) == [expected]


def test_several_reasons_at_once_and_a_broken_input():
    assert len(renewal.cert_renewal(info(renew=False, cn="x"), "dev-kafka", [], "A", "B")) == 4
    with pytest.raises(AnsibleFilterError, match="valid_at.renew"):
        renewal.cert_renewal({"valid_at": {}}, "dev-kafka", WANTED, "CA", "CA")


@pytest.mark.parametrize("days_left, renewal_days, now, renew", [
    (90, 30, True, True),     # well inside its life
    (20, 30, True, False),    # inside the renewal window: renew
    (31, 30, True, True),
    (29, 30, True, False),
])
def test_a_real_certificate_is_valid_now_and_renewed_inside_the_window(days_left, renewal_days, now, renew):
    _key, pem = CertificateAuthority("dev-cluster-ca").issue("dev-kafka", dns=["a.example.com"], days=days_left)
    info = valid_at.cert_valid_at(x509_certificate_info_filter(pem.decode()), renewal_days)
    assert info["valid_at"] == {"now": now, "renew": renew}
    # what cert_renewal reads keeps coming through
    assert info["subject"]["commonName"] == "dev-kafka" and info["subject_alt_name"] == ["DNS:a.example.com"]
    assert renewal.cert_renewal(info, "dev-kafka", ["DNS:a.example.com"], "CA", "CA", renewal_days) == \
        ([] if renew else ["it expires %s, within %d days" % (info["not_after"], renewal_days)])


def test_an_expired_or_not_yet_valid_certificate_is_not_valid_now():
    dates = {"not_before": "20260101000000Z", "not_after": "20260601000000Z"}
    before, during, after = (datetime.datetime(2025, 12, 31), datetime.datetime(2026, 3, 1), datetime.datetime(2026, 6, 2))
    assert valid_at.cert_valid_at(dates, 0, now=before)["valid_at"] == {"now": False, "renew": False}
    assert valid_at.cert_valid_at(dates, 30, now=during)["valid_at"] == {"now": True, "renew": True}
    assert valid_at.cert_valid_at(dates, 100, now=during)["valid_at"] == {"now": True, "renew": False}
    assert valid_at.cert_valid_at(dates, 0, now=after)["valid_at"] == {"now": False, "renew": False}


@pytest.mark.parametrize("info, days, message", [
    ({"not_before": "20260101000000Z"}, 30, "not_after"),
    ({"not_before": "2026-01-01", "not_after": "20260601000000Z"}, 30, "not_before"),
    ("-----BEGIN CERTIFICATE-----", 30, "needs a dictionary"),
    ({"not_before": "20260101000000Z", "not_after": "20260601000000Z"}, "thirty", "renewal_days"),
])
def test_valid_at_refuses_what_it_cannot_read(info, days, message):
    with pytest.raises(AnsibleFilterError, match=message):
        valid_at.cert_valid_at(info, days)
