"""kafka_client and listener authentication: which listener the components pick, and their
mutual-TLS identity as PEM files read through Kafka's DirectoryConfigProvider (no key inline)."""

from ansible_collections.streams.kafka.plugins.filter.kafka_client import kafka_client

PLAIN = {"name": "plain", "port": 9092, "type": "internal", "tls": False}
TLS = {"name": "tls", "port": 9093, "type": "internal", "tls": True}
SCRAM = {"name": "scram", "port": 9094, "type": "internal", "tls": True, "authentication": "scram-sha-512"}
MTLS = {"name": "mtls", "port": 9095, "type": "internal", "tls": True, "authentication": "tls"}


def client(listeners, authorization="none"):
    return kafka_client({"inventory_hostname": "dev", "streams_namespace": "kafka", "kafka_listeners": listeners,
                         "kafka_authorization": authorization})


def test_a_scram_listener_is_not_the_components_and_unauthenticated_tls_comes_first():
    assert client([SCRAM, MTLS, TLS, PLAIN])["listener"]["name"] == "tls"
    assert client([SCRAM, PLAIN])["listener"]["name"] == "plain"
    assert client([SCRAM, MTLS, PLAIN])["listener"]["name"] == "mtls"
    only_scram = client([SCRAM])
    assert only_scram["problem"] and only_scram["bootstrap_servers"] is None


def test_mutual_tls_listener_gives_the_component_identity_from_files():
    out = client([MTLS])
    assert out["problem"] is None and out["bootstrap_servers"] == "dev-kafka-bootstrap.kafka.svc:9095"
    assert out["identity_path"] == "/opt/streams/certs" and client([TLS])["identity_path"] is None
    props = out["properties"]
    assert props["security.protocol"] == "SSL" and props["ssl.keystore.type"] == "PEM"
    assert props["ssl.keystore.certificate.chain"] == "${directory:/opt/streams/certs:tls.crt}"
    assert props["ssl.keystore.key"] == "${directory:/opt/streams/certs:tls.key}"
    assert props["config.providers"] == "directory"
    assert props["config.providers.directory.class"] == "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
    assert not any("BEGIN" in value for value in props.values())


def test_no_keystore_without_client_authentication():
    for listeners in ([TLS], [PLAIN]):
        props = client(listeners)["properties"]
        assert not [key for key in props if key.startswith("ssl.keystore") or key.startswith("config.providers")], props


def test_with_the_acl_authorizer_the_components_take_the_mutual_tls_listener_or_a_problem():
    def simple(listeners):
        return kafka_client({"inventory_hostname": "dev", "kafka_listeners": listeners, "kafka_authorization": "simple"})
    assert simple([PLAIN, TLS, MTLS])["listener"]["name"] == "mtls"
    refused = simple([PLAIN, TLS, SCRAM])
    assert refused["bootstrap_servers"] is None
    assert "kafka_authorization of host dev is simple" in refused["problem"] and "authentication: tls" in refused["problem"]


def test_each_component_gets_its_own_identity_secret_and_principal():
    own = kafka_client({"inventory_hostname": "dev", "streams_cluster_name": "prod", "kafka_listeners": [MTLS]}, None, "bridge")
    assert (own["identity_secret"], own["identity_path"], own["principal"]) == \
        ("prod-bridge-user", "/opt/streams/certs", "User:prod-bridge")
    assert kafka_client({"inventory_hostname": "dev", "kafka_listeners": [MTLS]})["identity_secret"] is None
    assert kafka_client({"inventory_hostname": "dev", "kafka_listeners": [TLS], "kafka_authorization": "none"},
                        None, "bridge")["identity_secret"] is None


def test_a_source_cluster_issues_mirrormaker_an_identity_of_its_own():
    east = {"inventory_hostname": "east", "streams_namespace": "kafka", "kafka_listeners": [MTLS]}
    west = {"inventory_hostname": "west", "streams_cluster_name": "prod-west", "streams_namespace": "kafka"}
    out = kafka_client(east, west, "mirrormaker")
    assert out["identity_secret"] == "east-prod-west-mirrormaker-user"
    assert out["identity_path"] == "/opt/streams/certs-east" and out["principal"] == "User:prod-west-mirrormaker"
    assert out["properties"]["ssl.keystore.key"] == "${directory:/opt/streams/certs-east:tls.key}"
    assert out["ca_path"] == "/opt/streams/cluster-ca-east"


def test_an_unknown_component_is_an_error():
    import pytest  # pylint: disable=import-outside-toplevel
    from ansible.errors import AnsibleFilterError  # pylint: disable=import-outside-toplevel
    with pytest.raises(AnsibleFilterError, match="component must be one of"):
        kafka_client({"inventory_hostname": "dev", "kafka_listeners": [MTLS]}, None, "zookeeper")
