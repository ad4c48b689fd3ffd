"""standard_labels: the labels every object carries."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.streams.kafka.plugins.filter.standard_labels import standard_labels


def test_labels_name_the_cluster_and_component():
    assert standard_labels("prod-east", "kafka", "kafka-broker") == {
        "app.kubernetes.io/name": "kafka-broker",
        "app.kubernetes.io/instance": "prod-east",
        "app.kubernetes.io/component": "kafka",
        "app.kubernetes.io/part-of": "streams",
        "app.kubernetes.io/managed-by": "streams.kafka",
    }


def test_name_defaults_to_component():
    assert standard_labels("dev", "zookeeper")["app.kubernetes.io/name"] == "zookeeper"


@pytest.mark.parametrize("cluster,component", [("", "kafka"), ("dev", None)])
def test_missing_parts_are_refused(cluster, component):
    with pytest.raises(AnsibleFilterError, match="needs a cluster name and a component"):
        standard_labels(cluster, component)
