"""The kafka_client filter: the one place that knows how a client reaches a host's Kafka."""

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.streams.kafka.plugins.filter import kafka_client as kc

ROOT = pathlib.Path(__file__).resolve().parents[4]


def test_defaults_match_the_common_role():
    defaults = yaml.safe_load((ROOT / "roles/common/defaults/main.yml").read_text())
    assert kc.DEFAULT_NAMESPACE == defaults["streams_namespace"]
    kafka_defaults = yaml.safe_load((ROOT / "roles/kafka/defaults/main.yml").read_text())
    assert kc.DEFAULT_AUTHORIZATION == kafka_defaults["kafka_authorization"]
    assert list(kc.DEFAULT_LISTENERS) == kafka_defaults["kafka_listeners"]


def test_own_cluster_internal_address_is_secure_by_default():
    # the kafka role's defaults: the tls listener on 9093, client certificates, the ACL authorizer
    out = kc.kafka_client({"inventory_hostname": "dev"}, None, "connect")
    assert out["bootstrap_servers"] == "dev-kafka-bootstrap.kafka.svc:9093"
    assert out["properties"]["security.protocol"] == "SSL" and out["identity_secret"] == "dev-connect-user"
    assert out["problem"] is None and out["same_cluster"] is True and out["copy_secrets"] is False
    out = kc.kafka_client({"inventory_hostname": "h", "streams_cluster_name": "prod", "streams_namespace": "streams"})
    assert out["bootstrap_servers"] == "prod-kafka-bootstrap.streams.svc:9093"
    plain = kc.kafka_client({"inventory_hostname": "dev", "kafka_authorization": "none",
                             "kafka_listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}]})
    assert plain["properties"] == {"bootstrap.servers": "dev-kafka-bootstrap.kafka.svc:9092", "security.protocol": "PLAINTEXT"}


def test_listener_port_and_override():
    listeners = [{"name": "tls", "port": 9093, "type": "internal", "tls": True},
                 {"name": "plain", "port": 9095, "type": "internal", "tls": False}]

    def bootstrap(listeners):
        return kc.kafka_client({"inventory_hostname": "dev", "kafka_listeners": listeners, "kafka_authorization": "none"})

    # a TLS listener with the brokers' certificate wins over a plain one, wherever it is in the list
    assert bootstrap(listeners)["bootstrap_servers"] == "dev-kafka-bootstrap.kafka.svc:9093"
    assert bootstrap(listeners[::-1])["bootstrap_servers"] == "dev-kafka-bootstrap.kafka.svc:9093"
    assert bootstrap(listeners[1:])["bootstrap_servers"] == "dev-kafka-bootstrap.kafka.svc:9095"
    # a TLS listener with the user's own certificate is not one the cluster CA lets clients trust
    own_cert = [dict(listeners[0], cert_secret="my-cert")]
    only = bootstrap(own_cert)
    assert only["bootstrap_servers"] is None and "no internal listener" in only["problem"] and "no cert_secret" in only["problem"]
    assert bootstrap(own_cert + listeners[1:])["bootstrap_servers"] == "dev-kafka-bootstrap.kafka.svc:9095"
    assert kc.kafka_client({"inventory_hostname": "dev", "streams_kafka_bootstrap": "kafka.example.com:9092"})["bootstrap_servers"] == \
        "kafka.example.com:9092"


def test_a_tls_listener_makes_the_clients_trust_the_cluster_ca():
    listeners = [{"name": "tls", "port": 9093, "type": "internal", "tls": True}]
    out = kc.kafka_client({"inventory_hostname": "dev", "kafka_listeners": listeners, "kafka_authorization": "none"})
    assert out["tls"] is True and out["problem"] is None and out["listener"]["name"] == "tls"
    assert out["properties"] == {"bootstrap.servers": "dev-kafka-bootstrap.kafka.svc:9093", "security.protocol": "SSL",
                                 "ssl.truststore.type": "PEM", "ssl.truststore.location": "/opt/streams/cluster-ca/ca.crt"}
    assert out["ca_secret"] == "dev-cluster-ca-cert" and out["ca_path"] == "/opt/streams/cluster-ca"
    # another host's cluster (MirrorMaker 2's source) in the same namespace: its CA at a path of its own
    source = {"inventory_hostname": "east"}
    out = kc.kafka_client(source, {"inventory_hostname": "west"}, "mirrormaker")
    assert out["ca_secret"] == "east-cluster-ca-cert" and out["ca_path"] == "/opt/streams/cluster-ca-east"
    assert out["properties"]["ssl.truststore.location"] == "/opt/streams/cluster-ca-east/ca.crt" and out["problem"] is None
    assert out["copy_secrets"] is False
    # ... in another namespace: the client copies the CA and its certificate from there
    out = kc.kafka_client(dict(source, streams_namespace="east"), {"inventory_hostname": "west"}, "mirrormaker")
    assert out["problem"] is None and out["copy_secrets"] is True and out["secrets_namespace"] == "east"
    assert (out["ca_secret"], out["identity_secret"]) == ("east-cluster-ca-cert", "east-west-mirrormaker-user")
    # a plain listener: no TLS settings at all
    plain = kc.kafka_client({"inventory_hostname": "dev", "kafka_authorization": "none",
                             "kafka_listeners": [{"name": "plain", "port": 9092, "type": "internal", "tls": False}]})
    assert plain["tls"] is False and plain["ca_secret"] is None and "ssl.truststore.location" not in plain["properties"]
    assert plain["copy_secrets"] is False


EXTERNAL_MTLS = {"name": "external", "port": 9094, "type": "route", "tls": True, "authentication": "tls",
                 "bootstrap_host": "kafka-bootstrap.apps.east.example.com", "host_template": "kafka-{id}.apps.east.example.com"}


def test_another_cluster_needs_its_external_address():
    east = {"inventory_hostname": "prod-east", "streams_context": "east", "kafka_authorization": "none"}
    west = {"inventory_hostname": "prod-west", "streams_context": "west"}
    out = kc.kafka_client(east, west)
    assert out["same_cluster"] is False and out["bootstrap_servers"] is None
    assert out["problem"].startswith("host prod-east runs on another Kubernetes cluster than prod-west")
    assert "streams_kafka_external_bootstrap" in out["problem"]
    east["streams_kafka_external_bootstrap"] = "kafka-bootstrap.apps.east.example.com:443"
    out = kc.kafka_client(east, west)
    assert out["bootstrap_servers"] == "kafka-bootstrap.apps.east.example.com:443" and out["problem"] is None
    assert out["tls"] is False and out["copy_secrets"] is False
    # same connection settings: the same cluster, the internal address
    assert kc.kafka_client(dict(east, streams_context="west"), west)["bootstrap_servers"] == \
        "prod-east-kafka-bootstrap.kafka.svc:9093"


def test_another_cluster_with_the_acl_authorizer_needs_a_mutual_tls_external_listener():
    east = {"inventory_hostname": "prod-east", "streams_context": "east", "streams_namespace": "streams",
            "streams_kafka_external_bootstrap": "kafka-bootstrap.apps.east.example.com:443"}
    west = {"inventory_hostname": "prod-west", "streams_context": "west"}
    refused = kc.kafka_client(east, west, "mirrormaker")
    assert "kafka_authorization of host prod-east is simple" in refused["problem"]
    assert "external listener" in refused["problem"] and "streams_kafka_external_bootstrap" in refused["problem"]
    # the host's own client settings stand instead (SCRAM on its external listener, say)
    assert kc.kafka_client(dict(east, streams_kafka_client_properties={"security.protocol": "SASL_SSL"}),
                           west, "mirrormaker")["problem"] is None
    out = kc.kafka_client(dict(east, kafka_listeners=[{"name": "tls", "port": 9093, "tls": True, "authentication": "tls"},
                                                      EXTERNAL_MTLS]), west, "mirrormaker")
    assert out["problem"] is None and out["listener"]["name"] == "external"
    assert out["bootstrap_servers"] == "kafka-bootstrap.apps.east.example.com:443"
    assert out["properties"]["ssl.keystore.key"] == "${directory:/opt/streams/certs-prod-east:tls.key}"
    # read on east's Kubernetes cluster, in its namespace, and copied into west's
    assert (out["copy_secrets"], out["secrets_namespace"], out["secrets_host"]) == (True, "streams", "prod-east")
    assert out["identity_secret"] == "prod-east-prod-west-mirrormaker-user"
    # an external listener with the user's own certificate is not one the cluster CA lets clients trust
    own = dict(EXTERNAL_MTLS, cert_secret="east-route")
    assert "external listener" in kc.kafka_client(dict(east, kafka_listeners=[own]), west, "mirrormaker")["problem"]


def test_client_properties_travel_with_the_address():
    out = kc.kafka_client({"inventory_hostname": "dev", "streams_kafka_client_properties": {
        "security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "", "client.dns.lookup": "use_all_dns_ips",
        "enable.metrics.push": False}})
    assert out["properties"]["security.protocol"] == "SSL" and out["properties"]["enable.metrics.push"] == "false"
    with pytest.raises(AnsibleFilterError, match="sets bootstrap.servers"):
        kc.kafka_client({"inventory_hostname": "dev", "streams_kafka_client_properties": {"bootstrap.servers": "x:1"}})
    with pytest.raises(AnsibleFilterError, match="needs the variables of an inventory host"):
        kc.kafka_client("dev")
