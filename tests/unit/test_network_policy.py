"""The NetworkPolicy evaluator of tests/network_policy.py, on hand-written policies."""

import pytest

from tests.network_policy import Cluster, Host, Pod, selector_matches


def policy(name, namespace, selector, ingress=None, egress=None, types=None):
    spec = {"podSelector": selector}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    if types:
        spec["policyTypes"] = types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


DB = Pod("data", {"app": "db"}, "10.1.0.5", {"pg": 5432})
WEB = Pod("data", {"app": "web"}, "10.1.0.6")
OTHER_WEB = Pod("apps", {"app": "web"}, "10.2.0.7")
MON = Pod("monitoring", {"app": "prometheus"}, "10.3.0.8")
NODE = Host("192.168.1.10")

NAMESPACES = {"data": {"team": "data"}, "apps": {"team": "apps"}, "monitoring": {}}


def test_selector_semantics():
    labels = {"a": "1", "b": "2"}
    assert selector_matches({}, labels)
    assert selector_matches({"matchLabels": {"a": "1"}}, labels)
    assert not selector_matches({"matchLabels": {"a": "2"}}, labels)
    assert selector_matches({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "3"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "c", "operator": "In", "values": ["1"]}]}, labels)
    assert selector_matches({"matchExpressions": [{"key": "c", "operator": "NotIn", "values": ["1"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "b", "operator": "NotIn", "values": ["2"]}]}, labels)
    assert selector_matches({"matchExpressions": [{"key": "b", "operator": "Exists"}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]}, labels)
    # matchLabels and matchExpressions are ANDed
    assert not selector_matches({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]}, labels)


def test_unselected_pod_accepts_everything():
    cluster = Cluster([policy("db", "data", {"matchLabels": {"app": "db"}}, ingress=[])], NAMESPACES)
    assert cluster.why(OTHER_WEB, WEB, 80) == "not isolated"
    assert cluster.allowed(NODE, WEB, 1234)


def test_selected_pod_with_no_rules_denies_everything():
    cluster = Cluster([policy("db", "data", {"matchLabels": {"app": "db"}}, ingress=[])], NAMESPACES)
    assert not cluster.allowed(WEB, DB, 5432)
    assert not cluster.allowed(NODE, DB, 5432)


def test_egress_only_policy_does_not_isolate_ingress():
    cluster = Cluster([policy("db", "data", {}, egress=[{}], types=["Egress"])], NAMESPACES)
    assert cluster.allowed(OTHER_WEB, DB, 5432)


def test_pod_selector_alone_means_the_policys_namespace():
    cluster = Cluster([policy("db", "data", {"matchLabels": {"app": "db"}},
                              ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 5432}]}])],
                      NAMESPACES)
    assert cluster.why(WEB, DB, 5432) == "db"
    assert not cluster.allowed(OTHER_WEB, DB, 5432)  # same labels, other namespace
    assert not cluster.allowed(WEB, DB, 5433)
    assert not cluster.allowed(NODE, DB, 5432)


def test_namespace_and_pod_selector_in_one_peer_are_anded_in_two_peers_ored():
    anded = Cluster([policy("db", "data", {}, ingress=[{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "apps"}}, "podSelector": {"matchLabels": {"app": "web"}}}]}])], NAMESPACES)
    assert anded.allowed(OTHER_WEB, DB, 5432)
    assert not anded.allowed(Pod("apps", {"app": "batch"}), DB, 5432)
    assert not anded.allowed(WEB, DB, 5432)  # right pod labels, wrong namespace
    ored = Cluster([policy("db", "data", {}, ingress=[{"from": [
        {"namespaceSelector": {"matchLabels": {"team": "apps"}}}, {"podSelector": {"matchLabels": {"app": "web"}}}]}])], NAMESPACES)
    assert ored.allowed(Pod("apps", {"app": "batch"}), DB, 5432)
    assert ored.allowed(WEB, DB, 5432)
    assert not ored.allowed(MON, DB, 5432)


def test_namespace_name_label_is_set_automatically():
    cluster = Cluster([policy("db", "data", {}, ingress=[{"from": [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]}])], NAMESPACES)
    assert cluster.allowed(MON, DB, 9404)
    assert not cluster.allowed(OTHER_WEB, DB, 9404)


def test_ip_block_with_except_and_selectors_do_not_match_hosts():
    cluster = Cluster([policy("db", "data", {}, ingress=[
        {"from": [{"ipBlock": {"cidr": "192.168.0.0/16", "except": ["192.168.2.0/24"]}}]},
        {"from": [{"namespaceSelector": {}}], "ports": [{"port": 80}]}])], NAMESPACES)
    assert cluster.allowed(NODE, DB, 5432)
    assert not cluster.allowed(Host("192.168.2.1"), DB, 5432)
    assert not cluster.allowed(Host("10.9.9.9"), DB, 5432)
    assert not cluster.allowed(Host("10.9.9.9"), DB, 80)  # an empty namespaceSelector is every pod, not every address
    assert cluster.allowed(OTHER_WEB, DB, 80)
    # ipBlock matches pod addresses too
    assert cluster.allowed(Pod("apps", {}, "192.168.5.5"), DB, 5432)


def test_rule_without_from_or_ports_matches_everything_it_may():
    cluster = Cluster([policy("db", "data", {}, ingress=[{"ports": [{"port": 5432, "protocol": "TCP"}]}])], NAMESPACES)
    assert cluster.allowed(NODE, DB, 5432) and cluster.allowed(OTHER_WEB, DB, 5432)
    assert not cluster.allowed(OTHER_WEB, DB, 22)
    everything = Cluster([policy("db", "data", {}, ingress=[{}])], NAMESPACES)
    assert everything.allowed(NODE, DB, 22)


def test_named_ports_end_port_and_protocols():
    cluster = Cluster([policy("db", "data", {}, ingress=[
        {"ports": [{"port": "pg"}]}, {"ports": [{"port": 8000, "endPort": 8010}]}, {"ports": [{"port": 53, "protocol": "UDP"}]}])],
        NAMESPACES)
    assert cluster.allowed(WEB, DB, 5432)
    assert not cluster.allowed(WEB, WEB, 5432)  # WEB has no port named pg
    assert cluster.allowed(WEB, DB, 8005) and not cluster.allowed(WEB, DB, 8011)
    assert not cluster.allowed(WEB, DB, 53)  # only TCP connections are modelled


def test_policies_are_additive():
    cluster = Cluster([
        policy("a", "data", {"matchLabels": {"app": "db"}}, ingress=[{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]),
        policy("b", "data", {}, ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "apps"}}}]}])], NAMESPACES)
    assert cluster.why(WEB, DB, 1) == "a"
    assert cluster.why(OTHER_WEB, DB, 1) == "b"
    assert cluster.why(OTHER_WEB, WEB, 1) == "b"
    assert not cluster.allowed(MON, DB, 1)


def test_source_egress_policy_is_applied():
    cluster = Cluster([policy("web-out", "data", {"matchLabels": {"app": "web"}}, egress=[
        {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": 5432}]}], types=["Egress"])], NAMESPACES)
    assert cluster.allowed(WEB, DB, 5432)
    assert not cluster.allowed(WEB, DB, 5433)
    assert not cluster.allowed(WEB, OTHER_WEB, 80)


def test_refuses_other_api_versions():
    bad = policy("x", "data", {})
    bad["apiVersion"] = "extensions/v1beta1"
    with pytest.raises(ValueError):
        Cluster([bad])
