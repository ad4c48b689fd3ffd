# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The subject alternative names of the ZooKeeper and Kafka certificates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.errors import AnsibleFilterError

CLUSTER_DOMAIN = "cluster.local"


def _service_names(service, namespace):
    """A Service's names as a client in the cluster may write them."""
    return [service, "%s.%s" % (service, namespace), "%s.%s.svc" % (service, namespace),
            "%s.%s.svc.%s" % (service, namespace, CLUSTER_DOMAIN)]


def _pod_names(pod, headless, namespace):
    return ["%s.%s.%s.svc" % (pod, headless, namespace), "%s.%s.%s.svc.%s" % (pod, headless, namespace, CLUSTER_DOMAIN)]


def _entry(host):
    try:
        return "IP:%s" % ipaddress.ip_address(host)
    except ValueError:
        return "DNS:%s" % host


def _unique(names):
    seen, out = set(), []
    for name in names:
        if name not in seen:
            seen.add(name)
            out.append(name)
    return out


def zookeeper_sans(cluster_name, namespace, replicas):
    """Every member's pod DNS name, the headless Service's wildcard (members verify each other's
    host name, also while the ensemble changes size) and the client Service."""
    sts = "%s-zookeeper" % cluster_name
    headless = "%s-nodes" % sts
    names = []
    for ordinal in range(int(replicas)):
        names += _pod_names("%s-%d" % (sts, ordinal), headless, namespace)
    names += ["*.%s.%s.svc" % (headless, namespace), "*.%s.%s.svc.%s" % (headless, namespace, CLUSTER_DOMAIN)]
    names += _service_names("%s-client" % sts, namespace) + _service_names(headless, namespace)
    return ["DNS:%s" % name for name in _unique(names)]


def kafka_sans(cluster_name, namespace, listeners, controllers=0):
    """Every broker's pod DNS name, the brokers and bootstrap Services, and the external hosts of
    the TLS listeners that use the brokers' certificate (no cert_secret of their own). KRaft's
    dedicated controllers present the same certificate, so their pods and Service follow."""
    sts = "%s-kafka" % cluster_name
    headless = "%s-brokers" % sts
    if not listeners:
        raise AnsibleFilterError("tls_sans needs the Kafka listeners (the kafka_listeners filter's listeners)")
    names = []
    for broker in listeners[0]["brokers"]:
        names += _pod_names(broker["pod"], headless, namespace)
    names += _service_names(headless, namespace) + _service_names("%s-bootstrap" % sts, namespace)
    # Appended only in KRaft dedicated mode: a ZooKeeper-mode certificate keeps its SANs (no renewal, no roll).
    if controllers:
        for ordinal in range(controllers):
            names += _pod_names("%s-controller-%d" % (sts, ordinal), "%s-controllers" % sts, namespace)
        names += _service_names("%s-controllers" % sts, namespace)
    entries = ["DNS:%s" % name for name in names]
    for listener in listeners:
        if not listener.get("tls") or listener.get("cert_secret") or not listener.get("external"):
            continue
        bootstrap = listener.get("bootstrap") or {}
        if bootstrap.get("host"):
            entries.append(_entry(bootstrap["host"]))
        for broker in listener["brokers"]:
            if broker.get("advertised_host"):
                entries.append(_entry(broker["advertised_host"]))
    return _unique(entries)


def tls_sans(cluster_name, namespace, component, replicas=None, listeners=None, controllers=0):
    """SANs of `component` (zookeeper: `replicas` members; kafka: the normalized `listeners` and
    the number of dedicated KRaft `controllers`)."""
    if not cluster_name or not namespace:
        raise AnsibleFilterError("tls_sans needs the cluster name and namespace, got %r and %r" % (cluster_name, namespace))
    if component == "zookeeper":
        try:
            return zookeeper_sans(cluster_name, namespace, int(replicas))
        except (TypeError, ValueError):
            raise AnsibleFilterError("tls_sans needs the number of ZooKeeper members, got %r" % (replicas,))
    if component == "kafka":
        try:
            controllers = int(controllers or 0)
        except (TypeError, ValueError):
            raise AnsibleFilterError("tls_sans needs the number of KRaft controllers, got %r" % (controllers,))
        return kafka_sans(cluster_name, namespace, listeners, controllers)
    raise AnsibleFilterError("tls_sans knows zookeeper and kafka, not %r" % (component,))


class FilterModule(object):
    def filters(self):
        return {"tls_sans": tls_sans}
