"""The KRaft cluster id filter, and the controllers in the brokers' certificate."""

import base64
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.streams.kafka.plugins.filter import kraft_cluster_id as cid
from ansible_collections.streams.kafka.plugins.filter import tls_sans as sans
from ansible_collections.streams.kafka.plugins.module_utils import kafka_listeners


def decoded(value):
    return base64.urlsafe_b64decode(value + "==")


def test_seeded_id_is_stable_and_has_kafkas_form():
    first = cid.kraft_cluster_id("kafka/dev")
    assert first == cid.kraft_cluster_id("kafka/dev")
    assert first != cid.kraft_cluster_id("kafka/prod")
    assert len(first) == 22 and "=" not in first and len(decoded(first)) == 16
    assert re.match(r"^[A-Za-z0-9_-]{22}$", first) and not first.startswith("-")
    assert cid.is_kraft_cluster_id(first)


def test_random_ids_differ_and_are_valid():
    ids = {cid.kraft_cluster_id() for _draw in range(200)} | {cid.kraft_cluster_id("") for _draw in range(50)}
    assert len(ids) == 250
    assert all(cid.is_kraft_cluster_id(value) and not value.startswith("-") for value in ids)


def test_many_seeds_never_start_with_a_dash():
    values = [cid.kraft_cluster_id("ns/cluster-%d" % i) for i in range(2000)]
    assert not [v for v in values if v.startswith("-")] and len(set(values)) == len(values)


@pytest.mark.parametrize("value, valid", [
    ("MkU3OEVBNTcwNTJENDM2Qg", True),
    ("MkU3OEVBNTcwNTJENDM2Qh", False),   # unused trailing bits set: not the encoding of 16 bytes
    ("-kU3OEVBNTcwNTJENDM2Qg", False),   # reads as an option of kafka-storage.sh
    ("MkU3OEVBNTcwNTJENDM2Q", False),
    ("MkU3OEVBNTcwNTJENDM2Qg==", False),
    ("MkU3OEVBNTcwNTJENDM+Qg", False),
    ("AAAAAAAAAAAAAAAAAAAAAA", False),   # Kafka's zero id
    ("AAAAAAAAAAAAAAAAAAAAAQ", False),   # the metadata topic's id
    (None, False),
])
def test_validity(value, valid):
    assert cid.is_kraft_cluster_id(value) is valid


def test_role_pattern_matches_the_filter():
    import pathlib
    import yaml
    role_vars = yaml.safe_load((pathlib.Path(__file__).resolve().parents[4] / "roles/kafka/vars/main.yml").read_text())
    assert role_vars["__kafka_cluster_id_pattern"] == cid.CLUSTER_ID.pattern


def test_a_seed_that_is_not_text_is_refused():
    with pytest.raises(AnsibleFilterError, match="seed string"):
        cid.kraft_cluster_id(42)
    assert cid.FilterModule().filters()["kraft_cluster_id"] is cid.kraft_cluster_id


def test_brokers_certificate_names_the_controllers_only_when_there_are_some():
    listeners = kafka_listeners.normalize([{"name": "plain", "port": 9092, "type": "internal"}], "dev", "kafka", 3)
    plain = sans.tls_sans("dev", "kafka", "kafka", listeners=listeners)
    assert plain == sans.tls_sans("dev", "kafka", "kafka", listeners=listeners, controllers=0)
    assert not [name for name in plain if "controller" in name]
    kraft = sans.tls_sans("dev", "kafka", "kafka", listeners=listeners, controllers="3")
    assert kraft[:len(plain)] == plain
    for ordinal in range(3):
        assert "DNS:dev-kafka-controller-%d.dev-kafka-controllers.kafka.svc" % ordinal in kraft
        assert "DNS:dev-kafka-controller-%d.dev-kafka-controllers.kafka.svc.cluster.local" % ordinal in kraft
    assert "DNS:dev-kafka-controller-3.dev-kafka-controllers.kafka.svc" not in kraft
    assert "DNS:dev-kafka-controllers.kafka.svc" in kraft and len(kraft) == len(set(kraft))
    with pytest.raises(AnsibleFilterError, match="KRaft controllers"):
        sans.tls_sans("dev", "kafka", "kafka", listeners=listeners, controllers="three")
