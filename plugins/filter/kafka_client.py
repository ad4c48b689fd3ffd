# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a Kafka client reaches the Kafka cluster of an inventory host: the one place that knows.

Connect, MirrorMaker 2, the Bridge and the Exporter all ask this filter for the bootstrap
address and client properties of a Kafka host (their own, or another one for MirrorMaker 2's
sources), so TLS and authentication, when they come, change here only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

# The defaults of roles/common/defaults/main.yml and the Kafka role's conventions. Another
# host's role defaults are not in its hostvars, so they are repeated here (a unit test keeps
# them equal).
DEFAULT_NAMESPACE = "kafka"
BOOTSTRAP_SERVICE_SUFFIX = "-kafka-bootstrap"
PLAIN_PORT = 9092
# Two hosts whose connection settings are equal are taken to be on the same Kubernetes cluster.
CONNECTION_KEYS = ("streams_kubeconfig", "streams_context", "streams_api_host")


def _get(host_vars, key):
    try:
        return host_vars.get(key)
    except AttributeError:
        raise AnsibleFilterError("kafka_client needs the variables of an inventory host (hostvars[name]), got %r" % type(host_vars))


def plain_listener_port(host, listeners):
    """(port, problem) of the Kafka host's first internal listener without TLS (kafka_listeners)."""
    if not listeners:
        return PLAIN_PORT, None
    try:
        plain = [listener for listener in listeners
                 if hasattr(listener, "get") and listener.get("type", "internal") == "internal" and not listener.get("tls")]
        if plain:
            return int(plain[0].get("port", PLAIN_PORT)), None
    except (TypeError, ValueError):
        pass
    return PLAIN_PORT, ("kafka_listeners of host %s has no internal listener without TLS (type: internal, tls: false), "
                        "which Connect, MirrorMaker 2, the Bridge and the Exporter connect to; add one such as "
                        "{name: plain, port: 9092, type: internal, tls: false}, or set streams_kafka_bootstrap" % host)


def kafka_client(kafka_host_vars, client_host_vars=None):
    """The bootstrap address and client properties for reaching a host's Kafka cluster.

    `kafka_host_vars` are the variables of the Kafka host (``hostvars[name]``); `client_host_vars`
    those of the host whose components connect, when it is another one. Returns host,
    cluster_name, namespace, same_cluster, bootstrap_servers, properties (Kafka client
    properties: bootstrap.servers, security.protocol and streams_kafka_client_properties) and
    problem (None, or why the address cannot be known).
    """
    host = _get(kafka_host_vars, "inventory_hostname")
    cluster_name = _get(kafka_host_vars, "streams_cluster_name") or host
    namespace = _get(kafka_host_vars, "streams_namespace") or DEFAULT_NAMESPACE
    if not cluster_name:
        raise AnsibleFilterError("kafka_client: the host variables carry neither streams_cluster_name nor inventory_hostname")
    problem = None
    internal = _get(kafka_host_vars, "streams_kafka_bootstrap")
    same_cluster = client_host_vars is None or all(
        _get(kafka_host_vars, key) == _get(client_host_vars, key) for key in CONNECTION_KEYS)
    if not internal:
        port, listener_problem = plain_listener_port(host, _get(kafka_host_vars, "kafka_listeners"))
        internal = "%s%s.%s.svc:%d" % (cluster_name, BOOTSTRAP_SERVICE_SUFFIX, namespace, port)
        if same_cluster:
            problem = listener_problem
    if same_cluster:
        bootstrap = None if problem else internal
    else:
        bootstrap = _get(kafka_host_vars, "streams_kafka_external_bootstrap")
        if not bootstrap:
            client = _get(client_host_vars, "inventory_hostname")
            problem = (
                "host %s runs on another Kubernetes cluster than %s (their streams_kubeconfig, streams_context "
                "or streams_api_host differ), where %s does not resolve. Set streams_kafka_external_bootstrap "
                "in the host_vars of %s to the address its Kafka is reached at from outside its cluster "
                "(host:port of its external listener)." % (host, client, internal, host))
    properties = {"security.protocol": "PLAINTEXT"}
    extra = _get(kafka_host_vars, "streams_kafka_client_properties") or {}
    if not hasattr(extra, "items"):
        raise AnsibleFilterError("streams_kafka_client_properties of host %s must be a dict of Kafka client properties" % host)
    for key, value in extra.items():
        if key == "bootstrap.servers":
            raise AnsibleFilterError("streams_kafka_client_properties of host %s sets bootstrap.servers; "
                                     "use streams_kafka_bootstrap or streams_kafka_external_bootstrap" % host)
        properties[str(key)] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if bootstrap:
        properties["bootstrap.servers"] = bootstrap
    return {"host": host, "cluster_name": cluster_name, "namespace": namespace, "same_cluster": same_cluster,
            "bootstrap_servers": bootstrap, "properties": properties, "problem": problem}


class FilterModule(object):
    def filters(self):
        return {"kafka_client": kafka_client}
