"""network_policy_peers of kafka_listeners: checked like the rest, carried to the templates."""

import pytest

from ansible_collections.streams.kafka.plugins.filter.network_policy_problems import network_policy_problems
from ansible_collections.streams.kafka.plugins.module_utils import kafka_listeners as kl

PLAIN = {"name": "plain", "port": 9092, "type": "internal", "tls": False}


def with_peers(peers, **extra):
    return [dict(PLAIN, network_policy_peers=peers, **extra)]


@pytest.mark.parametrize("peers", [
    [],
    [{"podSelector": {}}],
    [{"namespaceSelector": {"matchLabels": {"team": "apps"}}, "podSelector": {"matchLabels": {"role": "client"}}}],
    [{"namespaceSelector": {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "stage"]},
                                                 {"key": "legacy", "operator": "DoesNotExist"}]}}],
    [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}, {"ipBlock": {"cidr": "2001:db8::/64"}}],
])
def test_valid_peers_pass_and_reach_the_templates(peers):
    assert kl.problems(with_peers(peers), "dev", 3) == []
    normalized = kl.normalize(with_peers(peers), "dev", "kafka", 3)
    assert normalized[0]["name"] == "replication" and normalized[0]["network_policy_peers"] is None
    assert normalized[1]["network_policy_peers"] == peers


def test_unset_peers_stay_none_for_the_default():
    assert kl.normalize([PLAIN], "dev", "kafka", 3)[1]["network_policy_peers"] is None


@pytest.mark.parametrize("peers, fragment", [
    ({"podSelector": {}}, "network_policy_peers must be a list of NetworkPolicyPeers such as [{namespaceSelector:"),
    (["apps"], "network_policy_peers[0]='apps' is not valid: a peer is a dict with podSelector, namespaceSelector"),
    ([{}], "network_policy_peers[0]={} is not valid"),
    ([{"podselector": {}}], "network_policy_peers[0] has podselector; a peer has podSelector, namespaceSelector, ipBlock"),
    ([{"ipBlock": {"cidr": "10.0.0.0/8"}, "namespaceSelector": {}}], "network_policy_peers[0] combines ipBlock with a selector"),
    ([{"podSelector": {"matchLabels": {"app": 1}}}], "network_policy_peers[0].podSelector matchLabels={'app': 1} is not valid"),
    ([{"podSelector": {"matchLabel": {}}}], "network_policy_peers[0].podSelector has matchLabel; a label selector has"),
    ([{"podSelector": {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}}],
     "matchExpressions[0] operator='Equals' is not valid: use one of In, NotIn, Exists, DoesNotExist"),
    ([{"podSelector": {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}}],
     "matchExpressions[0] operator In needs values, a non-empty list of strings, got []"),
    ([{"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]}}],
     "matchExpressions[0] operator Exists takes no values"),
    ([{"ipBlock": {"cidr": "10.0.0.300/8"}}], "network_policy_peers[0].ipBlock.cidr='10.0.0.300/8' is not a CIDR"),
    ([{"ipBlock": {"cidr": "10.0.0.1"}}], "ipBlock.cidr='10.0.0.1' needs a prefix length, such as 10.0.0.1/32"),
    ([{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}], "ipBlock.except[0]='192.168.0.0/16' is not inside cidr 10.0.0.0/8"),
    ([{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["2001:db8::/64"]}}], "ipBlock.except[0]='2001:db8::/64' is not inside cidr"),
    ([{"ipBlock": {"cidr": "10.0.0.0/8", "excepts": []}}], "ipBlock={'cidr': '10.0.0.0/8', 'excepts': []} is not valid"),
])
def test_bad_peers_are_named_with_the_listener(peers, fragment):
    problems = kl.problems(with_peers(peers), "dev", 3)
    assert len(problems) == 1, problems
    assert problems[0].startswith("kafka_listeners[0] (plain) network_policy_peers"), problems[0]
    assert fragment in problems[0], problems[0]


def test_external_listeners_take_peers_too():
    listener = {"name": "ext", "port": 9094, "type": "loadbalancer", "advertised_host_template": "k-{id}.example.com",
                "network_policy_peers": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}
    assert kl.problems([PLAIN, listener], "dev", 3) == []
    assert kl.normalize([PLAIN, listener], "dev", "kafka", 3)[2]["network_policy_peers"] == listener["network_policy_peers"]


def test_filter_checks_shared_peers_and_selectors():
    assert network_policy_problems([], "streams_network_policy_api_server_peers") == []
    assert network_policy_problems([{"ipBlock": {"cidr": "x"}}], "streams_network_policy_api_server_peers") == [
        "streams_network_policy_api_server_peers[0].ipBlock.cidr='x' is not a CIDR such as 10.0.0.0/16 or 2001:db8::/64"]
    assert network_policy_problems({"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}, "sel", "selector") == []
    assert network_policy_problems(["monitoring"], "sel", "selector") == [
        "sel must be a label selector such as {matchLabels: {app: orders}}, got ['monitoring']"]
