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
DEFAULT_AUTHORIZATION = "simple"
DEFAULT_LISTENERS = ({"name": "tls", "port": 9093, "type": "internal", "tls": True, "authentication": "tls"},)
BOOTSTRAP_SERVICE_SUFFIX = "-kafka-bootstrap"
PLAIN_PORT = 9092
# Two hosts whose connection settings are equal are taken to be on the same Kubernetes cluster.
CONNECTION_KEYS = ("streams_kubeconfig", "streams_context", "streams_api_host")


def _get(host_vars, key):
    try:
        return host_vars.get(key)
    except AttributeError:
        raise AnsibleFilterError("kafka_client needs the variables of an inventory host (hostvars[name]), got %r" % type(host_vars))


# TLS: the cluster CA's certificate Secret (roles/common/tasks/tls.yml), which the components mount
# here (their own cluster's) or at CA_MOUNT-<cluster> (another host's, MirrorMaker 2's sources).
CA_SECRET_SUFFIX = "-cluster-ca-cert"
CA_MOUNT = "/opt/streams/cluster-ca"
# Mutual TLS (authentication: tls on the listener): the component's own identity, from the Secret
# <cluster>-<component>-user, mounted here; no key is ever in a ConfigMap.
IDENTITY_MOUNT = "/opt/streams/certs"
IDENTITY_SECRET_SUFFIX = "-user"
COMPONENTS = ("connect", "mirrormaker", "bridge", "exporter")
DIRECTORY_PROVIDER = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"


def _pick(listeners, external, simple):
    """The listener the components use among the internal (or external) ones, as a dict with
    name, port, tls and authentication, or None: TLS with the brokers' certificate from the cluster
    CA (no cert_secret) first, unauthenticated before mutual TLS; with the ACL authorizer
    (simple) only mutual TLS. Internal listeners without TLS come last, unless simple."""
    try:
        mine = [listener for listener in listeners or DEFAULT_LISTENERS if hasattr(listener, "get")
                and (listener.get("type", "internal") != "internal") == external]
        tls = sorted([listener for listener in mine if listener.get("tls") and not listener.get("cert_secret")
                      and listener.get("authentication", "none") in (("tls",) if simple else ("none", "tls"))],
                     key=lambda listener: listener.get("authentication", "none") != "none")
        plain = [] if simple or external else [listener for listener in mine if not listener.get("tls")]
        chosen = (tls + plain)[:1]
        if chosen:
            return {"name": chosen[0].get("name"), "port": int(chosen[0].get("port", PLAIN_PORT)), "tls": bool(chosen[0].get("tls")),
                    "authentication": chosen[0].get("authentication", "none")}
    except (TypeError, ValueError):
        pass
    return None


def client_listener(host, listeners, authorization=DEFAULT_AUTHORIZATION):
    """(listener, problem): the Kafka host's listener the components use (kafka_listeners).

    Internal TLS listeners with the brokers' certificate from the cluster CA (no cert_secret, so
    the cluster CA is all a client needs to trust) come first, then internal listeners without
    TLS. The components authenticate with a certificate (authentication: tls) or not at all: a
    SCRAM listener is never theirs. With the ACL authorizer (authorization simple) they must
    authenticate, so only a TLS listener with authentication: tls will do; otherwise one without
    authentication comes first. The listener is a dict with name, port, tls and authentication."""
    simple = authorization == "simple"
    chosen = _pick(listeners, external=False, simple=simple)
    if chosen:
        return chosen, None
    if simple:
        return None, ("kafka_authorization of host %s is simple, so Connect, MirrorMaker 2, the Bridge and the Exporter "
                      "must authenticate with their client certificates, and kafka_listeners has no internal listener "
                      "with tls: true, authentication: tls and no cert_secret for them. Add one such as {name: tls, "
                      "port: 9093, type: internal, tls: true, authentication: tls}, or set streams_kafka_bootstrap" % host)
    return None, ("kafka_listeners of host %s has no internal listener Connect, MirrorMaker 2, the Bridge and the Exporter "
                  "can connect to: one with tls: true and no cert_secret (the brokers' certificate from the cluster CA), "
                  "or one without TLS. Add one such as {name: tls, port: 9093, type: internal, tls: true}, or set "
                  "streams_kafka_bootstrap" % host)


def external_listener(host, client, listeners, authorization=DEFAULT_AUTHORIZATION):
    """(listener, problem): the external listener of a Kafka host that MirrorMaker 2 on another
    Kubernetes cluster uses, with TLS from the cluster CA (no cert_secret), or None (the host's
    streams_kafka_client_properties then say how to connect). With the ACL authorizer only one with
    authentication: tls will do, and its absence is a problem; without, one without authentication
    comes first."""
    simple = authorization == "simple"
    chosen = _pick(listeners, external=True, simple=simple)
    if chosen:
        return chosen, None
    if simple:
        return None, ("kafka_authorization of host %s is simple, so the MirrorMaker 2 of host %s, on another Kubernetes "
                      "cluster, must authenticate with the client certificate %s issues it, on an external listener: "
                      "kafka_listeners of host %s has none with tls: true, authentication: tls and no cert_secret. Add one, "
                      "such as {name: external, port: 9094, type: route, tls: true, authentication: tls, bootstrap_host: ..., "
                      "host_template: ...}, and set streams_kafka_external_bootstrap of %s to its bootstrap address; or set "
                      "streams_kafka_client_properties of %s to the security.protocol and credentials of a listener it can use"
                      % (host, client, host, host, host, host))
    return None, None


def identity(kafka_cluster, client_cluster, component, own):
    """(secret, path, principal) of a component's client certificate for a Kafka cluster.

    Its own cluster's: Secret <cluster>-<component>-user at IDENTITY_MOUNT. Another cluster's
    (MirrorMaker 2's sources): Secret <kafka-cluster>-<client-cluster>-<component>-user, issued by
    that cluster's Kafka role from its clients CA, at IDENTITY_MOUNT-<kafka-cluster>. The
    principal is User:<client-cluster>-<component> (the certificate's CN) in both."""
    if own:
        return ("%s-%s%s" % (kafka_cluster, component, IDENTITY_SECRET_SUFFIX), IDENTITY_MOUNT,
                "User:%s-%s" % (kafka_cluster, component))
    return ("%s-%s-%s%s" % (kafka_cluster, client_cluster, component, IDENTITY_SECRET_SUFFIX),
            "%s-%s" % (IDENTITY_MOUNT, kafka_cluster), "User:%s-%s" % (client_cluster, component))


def plain_listener_port(host, listeners):
    """(port, problem) of the listener client_listener() picks (kept for callers of the old name)."""
    listener, problem = client_listener(host, listeners)
    return (listener["port"] if listener else PLAIN_PORT), problem


def kafka_client(kafka_host_vars, client_host_vars=None, component=None):
    """The bootstrap address and client properties for reaching a host's Kafka cluster.

    `kafka_host_vars` are the variables of the Kafka host (``hostvars[name]``); `client_host_vars`
    those of the host whose components connect, when it is another one; `component` (connect,
    mirrormaker, bridge or exporter) names the client, for its identity. Returns host,
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
    listener = None
    internal = _get(kafka_host_vars, "streams_kafka_bootstrap")
    same_cluster = client_host_vars is None or all(
        _get(kafka_host_vars, key) == _get(client_host_vars, key) for key in CONNECTION_KEYS)
    if not internal:
        listener, listener_problem = client_listener(host, _get(kafka_host_vars, "kafka_listeners"),
                                                     _get(kafka_host_vars, "kafka_authorization") or DEFAULT_AUTHORIZATION)
        port = listener["port"] if listener else PLAIN_PORT
        internal = "%s%s.%s.svc:%d" % (cluster_name, BOOTSTRAP_SERVICE_SUFFIX, namespace, port)
        if same_cluster:
            problem = listener_problem
    if same_cluster:
        bootstrap = None if problem else internal
    else:
        bootstrap = _get(kafka_host_vars, "streams_kafka_external_bootstrap")
        client = _get(client_host_vars, "inventory_hostname")
        listener = None
        if not bootstrap:
            problem = (
                "host %s runs on another Kubernetes cluster than %s (their streams_kubeconfig, streams_context "
                "or streams_api_host differ), where %s does not resolve. Set streams_kafka_external_bootstrap "
                "in the host_vars of %s to the address its Kafka is reached at from outside its cluster "
                "(host:port of its external listener)." % (host, client, internal, host))
        elif not _get(kafka_host_vars, "streams_kafka_bootstrap"):
            listener, problem = external_listener(host, client, _get(kafka_host_vars, "kafka_listeners"),
                                                  _get(kafka_host_vars, "kafka_authorization") or DEFAULT_AUTHORIZATION)
            # The host's own client settings (SCRAM on its external listener, say) stand instead.
            if problem and "security.protocol" in (_get(kafka_host_vars, "streams_kafka_client_properties") or {}):
                problem = None
    properties = {"security.protocol": "PLAINTEXT"}
    # TLS on the internal listener: trust the cluster CA, mounted from <cluster>-cluster-ca-cert.
    tls = bool(listener and listener["tls"])
    ca_secret = ca_path = identity_secret = identity_path = principal = None
    own = client_host_vars is None or _get(client_host_vars, "inventory_hostname") == host
    if component is not None and component not in COMPONENTS:
        raise AnsibleFilterError("kafka_client: component must be one of %s, got %r" % (", ".join(COMPONENTS), component))
    if tls:
        ca_secret = cluster_name + CA_SECRET_SUFFIX
        ca_path = CA_MOUNT if own else "%s-%s" % (CA_MOUNT, cluster_name)
        properties.update({"security.protocol": "SSL", "ssl.truststore.type": "PEM",
                           "ssl.truststore.location": ca_path + "/ca.crt"})
        if listener.get("authentication") == "tls":
            # Mutual TLS: the component's own certificate from the clients CA, mounted at
            # identity_path and read from the files by Kafka's DirectoryConfigProvider.
            client_cluster = cluster_name if own else (_get(client_host_vars, "streams_cluster_name")
                                                       or _get(client_host_vars, "inventory_hostname"))
            identity_secret, identity_path, principal = identity(cluster_name, client_cluster, component or "<component>", own)
            if component is None:
                identity_secret = principal = None
            properties.update({"config.providers": "directory", "config.providers.directory.class": DIRECTORY_PROVIDER,
                               "ssl.keystore.type": "PEM",
                               "ssl.keystore.certificate.chain": "${directory:%s:tls.crt}" % identity_path,
                               "ssl.keystore.key": "${directory:%s:tls.key}" % identity_path})
    # Another namespace (MirrorMaker 2's sources): the Secrets live in the Kafka host's namespace,
    # and the client's role copies them into its own before it mounts them.
    client_namespace = namespace if own else (_get(client_host_vars, "streams_namespace") or DEFAULT_NAMESPACE)
    copy_secrets = tls and (client_namespace != namespace or not same_cluster)
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
            "bootstrap_servers": bootstrap, "properties": properties, "problem": problem,
            "listener": listener, "tls": tls, "ca_secret": ca_secret, "ca_path": ca_path,
            # mutual TLS: mount identity_secret at identity_path; principal is its certificate's CN
            "identity_secret": identity_secret, "identity_path": identity_path, "principal": principal,
            # where ca_secret and identity_secret are issued; copy_secrets: the client runs in another
            # namespace, so they are copied from there into its own
            "secrets_namespace": namespace, "copy_secrets": copy_secrets,
            # and the inventory host whose connection settings reach them (another Kubernetes cluster's)
            "secrets_host": host}


class FilterModule(object):
    def filters(self):
        return {"kafka_client": kafka_client}
