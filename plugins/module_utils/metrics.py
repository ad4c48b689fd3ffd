# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Prometheus metrics of a pod, read through the API server's pod proxy.

The gates whose component serves Prometheus text (Kafka's JMX exporter agent, Kafka Exporter)
read it with :func:`read` and look values up in the :class:`Samples` it returns. Parsing is
``prometheus_client``'s, not regular expressions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import traceback

try:
    from prometheus_client.parser import text_string_to_metric_families
    HAS_PROMETHEUS_CLIENT = True
    PROMETHEUS_CLIENT_IMPORT_ERROR = None
except ImportError:
    HAS_PROMETHEUS_CLIENT = False
    PROMETHEUS_CLIENT_IMPORT_ERROR = traceback.format_exc()

DEFAULT_PATH = "/metrics"


class MetricsError(ValueError):
    """The answer is not Prometheus text; `detail` is the parser's complaint."""

    def __init__(self, detail):
        self.detail = detail
        super(MetricsError, self).__init__("not Prometheus text: %s" % detail)


class Samples(object):
    """The samples of one scrape, by sample name (as written in the text: counters keep `_total`)."""

    def __init__(self, samples):
        self._by_name = {}
        for name, labels, value in samples:
            self._by_name.setdefault(name, []).append((dict(labels), value))

    def __contains__(self, name):
        return name in self._by_name

    def names(self):
        return sorted(self._by_name)

    def values(self, name, **labels):
        """The values of `name` whose labels include `labels`, NaN left out."""
        return [value for sample_labels, value in self._by_name.get(name, [])
                if not math.isnan(value) and all(sample_labels.get(k) == v for k, v in labels.items())]

    def series(self, name):
        """Every (labels, value) of `name`, NaN left out."""
        return [(dict(labels), value) for labels, value in self._by_name.get(name, []) if not math.isnan(value)]

    def total(self, name, **labels):
        """The sum of the values of `name`, or None when there is no such sample."""
        values = self.values(name, **labels)
        return sum(values) if values else None


def parse(text):
    """Parse Prometheus text exposition format into Samples; MetricsError when it is not."""
    if not HAS_PROMETHEUS_CLIENT:
        raise RuntimeError("the prometheus_client Python library is required to parse metrics")
    samples = []
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.append((sample.name, sample.labels, float(sample.value)))
    except (ValueError, IndexError, TypeError, KeyError) as error:
        raise MetricsError(str(error))
    return Samples(samples)


def read(api, namespace, pod, port, path=DEFAULT_PATH):
    """GET the pod's metrics through the pod proxy and parse them.

    Raises k8s_api.ApiError when they cannot be read, MetricsError when they cannot be parsed.
    """
    return parse(api.proxy_get(namespace, pod, port, path))
