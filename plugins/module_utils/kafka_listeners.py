# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka listeners: what is wrong with ``kafka_listeners``, and the objects they become.

:func:`problems` checks the variable as the user wrote it and returns one message per problem,
each naming the listener, the field, its value and what would be valid. :func:`normalize`
turns a valid list into what the templates render: the replication listener first, then each
user listener with its Kafka name (upper case), security protocol, Service names, and every
broker's advertised address.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

REPLICATION = "replication"
REPLICATION_PORT = 9091
FIRST_USER_PORT = 9092
RESERVED_PORTS = {9404: "the Prometheus metrics agent", 9999: "JMX"}
TYPES = ("internal", "route", "loadbalancer", "nodeport", "ingress")
EXTERNAL_TYPES = ("route", "loadbalancer", "nodeport", "ingress")
# Routes and Ingresses carry Kafka's binary protocol only as TLS passthrough (SNI picks the broker).
PASSTHROUGH_TYPES = ("route", "ingress")
NODE_PORT_MIN, NODE_PORT_MAX = 30000, 32767
MAX_NAME = 63
ID_PLACEHOLDER = "{id}"

NAME_PATTERN = re.compile(r"^[a-z0-9]{1,11}$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Advertised hosts may also be IPv4 addresses or upper-case names.
HOST = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$")

# Client authentication per listener: none, mutual TLS (certificates from the clients CA), or
# SCRAM-SHA-512 (which the role accepts over TLS only: a password over plaintext is refused).
AUTHENTICATIONS = ("none", "tls", "scram-sha-512")
COMMON_FIELDS = ("name", "port", "type", "tls", "cert_secret", "authentication", "network_policy_peers")
TYPE_FIELDS = {
    "internal": (),
    "route": ("bootstrap_host", "host_template", "annotations", "brokers"),
    "ingress": ("bootstrap_host", "host_template", "ingress_class", "annotations", "brokers"),
    "loadbalancer": ("advertised_host_template", "annotations", "brokers"),
    "nodeport": ("advertised_host_template", "node_port_base", "bootstrap_node_port", "annotations", "brokers"),
}
BROKER_FIELDS = {
    "route": ("id", "host"),
    "ingress": ("id", "host"),
    "loadbalancer": ("id", "advertised_host", "advertised_port", "load_balancer_ip"),
    "nodeport": ("id", "advertised_host", "advertised_port", "node_port"),
}
SERVICE_TYPES = {"route": "ClusterIP", "ingress": "ClusterIP", "loadbalancer": "LoadBalancer", "nodeport": "NodePort"}


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_text(value):
    return isinstance(value, str) and value != ""


def _fmt(value):
    return "'%s'" % value if isinstance(value, str) else "%s" % (value,)


def statefulset_name(cluster_name):
    return "%s-kafka" % cluster_name


def object_name(cluster_name, listener, suffix):
    """Name of an external listener's Service, Route or Ingress: bootstrap or a broker id."""
    return "%s-kafka-%s-%s" % (cluster_name, listener, suffix)


def _listener_label(index, listener):
    name = listener.get("name") if isinstance(listener, dict) else None
    return "kafka_listeners[%d]%s" % (index, " (%s)" % name if isinstance(name, str) and name else "")


def _broker_entries(where, listener, kind, replicas, out):
    """The `brokers` overrides by id; problems go to `out`."""
    entries = listener.get("brokers", [])
    by_id = {}
    if not isinstance(entries, list):
        out.append("%s brokers must be a list of per-broker settings ({id: 0, ...}), got %s" % (where, _fmt(entries)))
        return by_id
    allowed = BROKER_FIELDS[kind]
    for position, entry in enumerate(entries):
        label = "%s brokers[%d]" % (where, position)
        if not isinstance(entry, dict):
            out.append("%s must be a dict such as {id: 0, %s: ...}, got %s" % (label, allowed[1], _fmt(entry)))
            continue
        unknown = sorted(set(entry) - set(allowed))
        if unknown:
            out.append("%s has %s, which a %s listener does not use; its broker fields are %s" % (
                label, ", ".join(unknown), kind, ", ".join(allowed)))
        broker_id = entry.get("id")
        if not _is_int(broker_id) or not 0 <= broker_id < replicas:
            out.append("%s id=%s is not valid: use a broker id from 0 to %d (kafka_replicas - 1)" % (
                label, _fmt(broker_id), replicas - 1))
            continue
        if broker_id in by_id:
            out.append("%s repeats broker id %d" % (label, broker_id))
            continue
        by_id[broker_id] = entry
    return by_id


def _port_problem(label, field, value, low, high):
    if not _is_int(value) or not low <= value <= high:
        return "%s %s=%s is not valid: use a port number from %d to %d" % (label, field, _fmt(value), low, high)
    return None


def _check_external(where, listener, kind, cluster_name, replicas, out):
    """Hosts, addresses and node ports of one external listener; returns the node ports it uses."""
    by_id = _broker_entries(where, listener, kind, replicas, out)
    node_ports = []
    name = listener.get("name") if isinstance(listener.get("name"), str) else ""
    longest = max(object_name(cluster_name, name, "bootstrap"), object_name(cluster_name, name, replicas - 1), key=len)
    if len(longest) > MAX_NAME:
        out.append("%s: the object name %s would be longer than %d characters; use a shorter listener name "
                   "(or cluster name)" % (where, longest, MAX_NAME))
    annotations = listener.get("annotations", {})
    if not isinstance(annotations, dict) or not all(isinstance(v, str) for v in annotations.values()):
        out.append("%s annotations must be a dict of strings (Kubernetes annotations), got %s" % (where, _fmt(annotations)))
    if kind in PASSTHROUGH_TYPES:
        hosts = []
        bootstrap = listener.get("bootstrap_host")
        if not _is_text(bootstrap) or not DNS_SUBDOMAIN.match(bootstrap):
            out.append("%s bootstrap_host=%s is not valid: a %s listener needs the DNS name clients bootstrap "
                       "from, such as kafka-bootstrap.apps.example.com" % (where, _fmt(bootstrap), kind))
        else:
            hosts.append(bootstrap)
        template = listener.get("host_template")
        if template is not None and (not _is_text(template) or ID_PLACEHOLDER not in template):
            out.append("%s host_template=%s is not valid: use a DNS name with {id} in it, such as "
                       "kafka-{id}.apps.example.com, so each broker gets its own host" % (where, _fmt(template)))
            template = None
        for broker_id in range(replicas):
            host = by_id.get(broker_id, {}).get("host")
            if host is None and template is not None:
                host = template.replace(ID_PLACEHOLDER, str(broker_id))
            if host is None:
                out.append("%s has no host for broker %d: set host_template (such as kafka-{id}.apps.example.com) "
                           "or brokers: [{id: %d, host: ...}]" % (where, broker_id, broker_id))
            elif not _is_text(host) or not DNS_SUBDOMAIN.match(host):
                out.append("%s host %s of broker %d is not a valid DNS name (lower-case letters, digits, '-' and '.')"
                           % (where, _fmt(host), broker_id))
            else:
                hosts.append(host)
        repeated = sorted(set(host for host in hosts if hosts.count(host) > 1))
        if repeated:
            out.append("%s uses the host %s more than once; the bootstrap and every broker need their own host, "
                       "because the router picks the broker by the TLS server name" % (where, ", ".join(repeated)))
        ingress_class = listener.get("ingress_class", "nginx")
        if kind == "ingress" and (not _is_text(ingress_class) or not DNS_SUBDOMAIN.match(ingress_class)):
            out.append("%s ingress_class=%s is not valid: use the name of an IngressClass whose controller "
                       "supports TLS passthrough, such as nginx" % (where, _fmt(ingress_class)))
        return node_ports
    template = listener.get("advertised_host_template")
    if template is not None and (not _is_text(template) or not HOST.match(template.replace(ID_PLACEHOLDER, "0"))):
        out.append("%s advertised_host_template=%s is not valid: use a host name or address clients reach the "
                   "brokers at, with {id} where each broker differs, such as kafka-{id}.example.com"
                   % (where, _fmt(template)))
        template = None
    for broker_id in range(replicas):
        entry = by_id.get(broker_id, {})
        host = entry.get("advertised_host")
        if host is None and template is not None:
            host = template.replace(ID_PLACEHOLDER, str(broker_id))
        if host is None:
            out.append("%s has no advertised address for broker %d: set advertised_host_template or "
                       "brokers: [{id: %d, advertised_host: ...}] (the address clients reach broker %d at)"
                       % (where, broker_id, broker_id, broker_id))
        elif not _is_text(host) or not HOST.match(host):
            out.append("%s advertised_host %s of broker %d is not a valid host name or address" % (where, _fmt(host), broker_id))
        if "advertised_port" in entry:
            problem = _port_problem("%s broker %d" % (where, broker_id), "advertised_port", entry["advertised_port"], 1, 65535)
            if problem:
                out.append(problem)
        if kind == "loadbalancer" and "load_balancer_ip" in entry and (
                not _is_text(entry["load_balancer_ip"]) or not HOST.match(entry["load_balancer_ip"])):
            out.append("%s load_balancer_ip %s of broker %d is not an address" % (where, _fmt(entry["load_balancer_ip"]), broker_id))
    if kind == "nodeport":
        base = listener.get("node_port_base")
        problem = _port_problem(where, "node_port_base", base, NODE_PORT_MIN, NODE_PORT_MAX - replicas + 1)
        if base is not None and problem:
            out.append(problem + " (broker N gets node_port_base + N)")
            base = None
        for broker_id in range(replicas):
            port = by_id.get(broker_id, {}).get("node_port")
            if port is None and base is not None:
                port = base + broker_id
            if port is None:
                out.append("%s has no node port for broker %d: set node_port_base (broker N gets node_port_base + N) "
                           "or brokers: [{id: %d, node_port: ...}], because clients are sent to the node port "
                           "a broker advertises" % (where, broker_id, broker_id))
                continue
            problem = _port_problem("%s broker %d" % (where, broker_id), "node_port", port, NODE_PORT_MIN, NODE_PORT_MAX)
            if problem:
                out.append(problem)
            else:
                node_ports.append(port)
        if "bootstrap_node_port" in listener:
            problem = _port_problem(where, "bootstrap_node_port", listener["bootstrap_node_port"], NODE_PORT_MIN, NODE_PORT_MAX)
            if problem:
                out.append(problem)
            else:
                node_ports.append(listener["bootstrap_node_port"])
    return node_ports


def _check_authentication(index, listener, tls, out):
    """The listener's `authentication`: a known method, and one its TLS setting carries."""
    authentication = listener.get("authentication", "none")
    name = listener.get("name")
    where = "kafka_listeners[%d].authentication=%s%s" % (
        index, _fmt(authentication), " (listener %s)" % name if isinstance(name, str) and name else "")
    if authentication not in AUTHENTICATIONS:
        out.append("%s is not valid: use one of %s" % (where, ", ".join(AUTHENTICATIONS)))
    elif authentication == "tls" and not tls:
        out.append("%s is not valid with tls: false: mutual TLS authenticates clients by the certificate they "
                   "present in the TLS handshake; set tls: true on the listener, or authentication: none" % where)
    elif authentication == "scram-sha-512" and not tls:
        out.append("%s is not valid with tls: false: the role refuses SCRAM over a plaintext listener "
                   "(SASL_PLAINTEXT), where the whole session, and what a password unlocks, can be read and "
                   "changed on the network; set tls: true (SASL_SSL)" % where)


PEER_FIELDS = ("podSelector", "namespaceSelector", "ipBlock")
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
PEER_EXAMPLE = "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: apps}}}"


def selector_problems(where, selector):
    """What is wrong with a Kubernetes LabelSelector (matchLabels / matchExpressions)."""
    if not isinstance(selector, dict):
        return ["%s must be a label selector such as {matchLabels: {app: orders}}, got %s" % (where, _fmt(selector))]
    out = []
    unknown = sorted(set(selector) - {"matchLabels", "matchExpressions"})
    if unknown:
        out.append("%s has %s; a label selector has matchLabels and matchExpressions" % (where, ", ".join(unknown)))
    labels = selector.get("matchLabels", {})
    if not isinstance(labels, dict) or not all(_is_text(k) and isinstance(v, str) for k, v in labels.items()):
        out.append("%s matchLabels=%s is not valid: use a dict of label names to string values" % (where, _fmt(labels)))
    expressions = selector.get("matchExpressions", [])
    if not isinstance(expressions, list):
        return out + ["%s matchExpressions must be a list, got %s" % (where, _fmt(expressions))]
    for position, expression in enumerate(expressions):
        label = "%s matchExpressions[%d]" % (where, position)
        if not isinstance(expression, dict) or not _is_text(expression.get("key")):
            out.append("%s=%s is not valid: use {key: ..., operator: In, values: [...]}" % (label, _fmt(expression)))
            continue
        operator, values = expression.get("operator"), expression.get("values")
        if operator not in SELECTOR_OPERATORS:
            out.append("%s operator=%s is not valid: use one of %s" % (label, _fmt(operator), ", ".join(SELECTOR_OPERATORS)))
        elif operator in ("In", "NotIn") and (not isinstance(values, list) or not values
                                              or not all(isinstance(v, str) for v in values)):
            out.append("%s operator %s needs values, a non-empty list of strings, got %s" % (label, operator, _fmt(values)))
        elif operator in ("Exists", "DoesNotExist") and values:
            out.append("%s operator %s takes no values, got %s" % (label, operator, _fmt(values)))
    return out


def _cidr_problem(where, value):
    try:
        ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError):
        return "%s=%s is not a CIDR such as 10.0.0.0/16 or 2001:db8::/64" % (where, _fmt(value))
    if "/" not in value:
        return "%s=%s needs a prefix length, such as %s/32" % (where, _fmt(value), value)
    return None


def peer_problems(where, peers):
    """What is wrong with a list of NetworkPolicyPeers (networking.k8s.io/v1), one message each."""
    if not isinstance(peers, list):
        return ["%s must be a list of NetworkPolicyPeers such as [%s], got %s" % (where, PEER_EXAMPLE, _fmt(peers))]
    out = []
    for position, peer in enumerate(peers):
        label = "%s[%d]" % (where, position)
        if not isinstance(peer, dict) or not peer:
            out.append("%s=%s is not valid: a peer is a dict with podSelector, namespaceSelector (both: pods "
                       "matching both) or ipBlock, such as %s" % (label, _fmt(peer), PEER_EXAMPLE))
            continue
        unknown = sorted(set(peer) - set(PEER_FIELDS))
        if unknown:
            out.append("%s has %s; a peer has %s" % (label, ", ".join(unknown), ", ".join(PEER_FIELDS)))
        if "ipBlock" in peer and ("podSelector" in peer or "namespaceSelector" in peer):
            out.append("%s combines ipBlock with a selector; Kubernetes allows ipBlock alone in a peer: "
                       "use two peers" % label)
        for field in ("podSelector", "namespaceSelector"):
            if field in peer:
                out.extend(selector_problems("%s.%s" % (label, field), peer[field]))
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            if not isinstance(block, dict) or "cidr" not in block or set(block) - {"cidr", "except"}:
                out.append("%s.ipBlock=%s is not valid: use {cidr: 10.0.0.0/16, except: [10.0.1.0/24]}" % (label, _fmt(block)))
                continue
            problem = _cidr_problem("%s.ipBlock.cidr" % label, block["cidr"])
            if problem:
                out.append(problem)
                continue
            network = ipaddress.ip_network(block["cidr"], strict=False)
            excepts = block.get("except", [])
            if not isinstance(excepts, list):
                out.append("%s.ipBlock.except must be a list of CIDRs, got %s" % (label, _fmt(excepts)))
                continue
            for index, value in enumerate(excepts):
                problem = _cidr_problem("%s.ipBlock.except[%d]" % (label, index), value)
                if problem:
                    out.append(problem)
                elif (ipaddress.ip_network(value, strict=False).version != network.version
                      or not ipaddress.ip_network(value, strict=False).subnet_of(network)):
                    out.append("%s.ipBlock.except[%d]=%s is not inside cidr %s" % (label, index, _fmt(value), block["cidr"]))
    return out


def security_protocol(tls, authentication):
    """Kafka's security protocol of a listener (listener.security.protocol.map)."""
    if authentication == "scram-sha-512":
        return "SASL_SSL" if tls else "SASL_PLAINTEXT"
    return "SSL" if tls else "PLAINTEXT"


def problems(listeners, cluster_name, replicas):
    """Everything wrong with `kafka_listeners`, one message per problem; [] when it is valid."""
    if not isinstance(listeners, list):
        return ["kafka_listeners must be a list of listeners such as "
                "[{name: plain, port: 9092, type: internal, tls: false}], got %s" % _fmt(listeners)]
    if not _is_int(replicas) or replicas < 1:
        return []  # kafka_replicas has its own check
    out = []
    if not listeners:
        out.append("kafka_listeners is empty: clients need at least one listener, such as "
                   "{name: plain, port: 9092, type: internal, tls: false}")
    names, ports, node_ports = {}, {}, {}
    for index, listener in enumerate(listeners):
        where = _listener_label(index, listener)
        if not isinstance(listener, dict):
            out.append("%s must be a dict with name, port and type, got %s" % (where, _fmt(listener)))
            continue
        name, port, kind = listener.get("name"), listener.get("port"), listener.get("type")
        if not isinstance(name, str) or not NAME_PATTERN.match(name) or name == REPLICATION:
            out.append("%s name=%s is not valid: use 1 to 11 lower-case letters or digits, such as plain, tls or "
                       "external; '%s' is the role's own inter-broker listener" % (where, _fmt(name), REPLICATION))
        else:
            names.setdefault(name, []).append(index)
        if not _is_int(port) or not FIRST_USER_PORT <= port <= 65535 or port in RESERVED_PORTS:
            reserved = ", ".join("%d (%s)" % item for item in sorted(RESERVED_PORTS.items()))
            out.append("%s port=%s is not valid: use a port from %d to 65535 other than %s; %d is the replication "
                       "listener's" % (where, _fmt(port), FIRST_USER_PORT, reserved, REPLICATION_PORT))
        else:
            ports.setdefault(port, []).append(name if isinstance(name, str) else "#%d" % index)
        if kind not in TYPES:
            out.append("%s type=%s is not a listener type: use one of %s" % (where, _fmt(kind), ", ".join(TYPES)))
            continue
        allowed = COMMON_FIELDS + TYPE_FIELDS[kind]
        unknown = sorted(set(listener) - set(allowed))
        if unknown:
            out.append("%s has %s, which a%s %s listener does not use; its fields are %s" % (
                where, ", ".join(unknown), "n" if kind[0] in "aeiou" else "", kind, ", ".join(allowed)))
        tls = listener.get("tls", False)
        if not isinstance(tls, bool):
            out.append("%s tls=%s is not valid: use true or false" % (where, _fmt(tls)))
            tls = False
        if kind in PASSTHROUGH_TYPES and not tls:
            out.append("%s is of type %s, which needs tls: true: the %s passes TLS through to the broker and "
                       "picks it by the TLS server name (SNI), so plain Kafka connections cannot pass"
                       % (where, kind, "OpenShift router" if kind == "route" else "ingress controller"))
        secret = listener.get("cert_secret")
        if tls and secret is not None and (not _is_text(secret) or not DNS_SUBDOMAIN.match(secret)):
            out.append("%s cert_secret=%s is not valid: name the Secret (type kubernetes.io/tls, an unencrypted "
                       "PKCS#8 key) that holds the listener's certificate and key, or leave cert_secret out for "
                       "the brokers' certificate from the cluster CA" % (where, _fmt(secret)))
        elif not tls and secret is not None:
            out.append("%s sets cert_secret but not tls: true" % where)
        _check_authentication(index, listener, tls, out)
        if "network_policy_peers" in listener:
            out.extend(peer_problems("%s network_policy_peers" % where, listener["network_policy_peers"]))
        if kind in EXTERNAL_TYPES:
            for node_port in _check_external(where, listener, kind, cluster_name, replicas, out):
                node_ports.setdefault(node_port, []).append(name)
    for name, indexes in sorted(names.items()):
        if len(indexes) > 1:
            out.append("kafka_listeners has the name %s %d times (entries %s): listener names must be unique"
                       % (name, len(indexes), ", ".join(str(i) for i in indexes)))
    for port, owners in sorted(ports.items()):
        if len(owners) > 1:
            out.append("kafka_listeners uses port %d for %s: every listener needs its own port"
                       % (port, " and ".join(str(owner) for owner in owners)))
    for port, owners in sorted(node_ports.items()):
        if len(owners) > 1:
            out.append("kafka_listeners uses node port %d more than once (%s): every broker and bootstrap "
                       "Service needs its own node port" % (port, ", ".join(sorted(set(str(o) for o in owners)))))
    return out


def _advertised(listener, broker_id, pod, headless, namespace):
    kind = listener["type"]
    entry = dict((e["id"], e) for e in listener.get("brokers", [])).get(broker_id, {})
    if kind == "internal":
        return "%s.%s.%s.svc" % (pod, headless, namespace), listener["port"], {}
    if kind in PASSTHROUGH_TYPES:
        host = entry.get("host") or listener["host_template"].replace(ID_PLACEHOLDER, str(broker_id))
        return host, 443, {"host": host}
    host = entry.get("advertised_host") or listener["advertised_host_template"].replace(ID_PLACEHOLDER, str(broker_id))
    extra = {}
    if kind == "nodeport":
        node_port = entry.get("node_port")
        extra["node_port"] = node_port if node_port is not None else listener["node_port_base"] + broker_id
        port = entry.get("advertised_port", extra["node_port"])
    else:
        port = entry.get("advertised_port", listener["port"])
        if entry.get("load_balancer_ip"):
            extra["load_balancer_ip"] = entry["load_balancer_ip"]
    return host, port, extra


def normalize(listeners, cluster_name, namespace, replicas):
    """The listeners as the templates render them, replication first; `listeners` must be valid."""
    sts = statefulset_name(cluster_name)
    headless = "%s-brokers" % sts
    out = []
    # The replication listener always uses TLS, with mutual authentication on the cluster CA.
    for listener in [{"name": REPLICATION, "port": REPLICATION_PORT, "type": "internal", "tls": True}] + list(listeners):
        name, kind, tls = listener["name"], listener["type"], bool(listener.get("tls", False))
        authentication = listener.get("authentication", "none")
        entry = {
            "name": name,
            "config_name": name.upper(),
            "port": listener["port"],
            "port_name": "tcp-%s" % name,
            "type": kind,
            "tls": tls,
            "protocol": security_protocol(tls, authentication),
            "authentication": authentication,
            "replication": name == REPLICATION,
            "external": kind in EXTERNAL_TYPES,
            # None with tls: the brokers' certificate <cluster>-kafka-brokers, from the cluster CA.
            "cert_secret": listener.get("cert_secret") or None,
            # None: the NetworkPolicy's default for the listener type (docs/security.md#network-policies).
            "network_policy_peers": listener.get("network_policy_peers"),
            "service_type": SERVICE_TYPES.get(kind),
            "annotations": dict(listener.get("annotations") or {}),
            "ingress_class": listener.get("ingress_class", "nginx"),
            "bootstrap": None,
            "brokers": [],
        }
        if entry["external"]:
            entry["bootstrap"] = {"name": object_name(cluster_name, name, "bootstrap"),
                                  "host": listener.get("bootstrap_host"),
                                  "node_port": listener.get("bootstrap_node_port"), "load_balancer_ip": None}
        for broker_id in range(replicas):
            pod = "%s-%d" % (sts, broker_id)
            host, port, extra = _advertised(listener, broker_id, pod, headless, namespace)
            broker = {"id": broker_id, "pod": pod, "advertised_host": host, "advertised_port": port,
                      "name": object_name(cluster_name, name, broker_id) if entry["external"] else None,
                      "host": None, "node_port": None, "load_balancer_ip": None}
            broker.update(extra)
            entry["brokers"].append(broker)
        out.append(entry)
    return out


def advertised_listeners(normalized):
    """advertised.listeners of each broker, by broker id, from normalize()'s listeners."""
    if not normalized:
        return []
    return [",".join("%s://%s:%s" % (listener["config_name"], listener["brokers"][broker_id]["advertised_host"],
                                     listener["brokers"][broker_id]["advertised_port"]) for listener in normalized)
            for broker_id in range(len(normalized[0]["brokers"]))]
