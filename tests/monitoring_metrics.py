"""The metric names the collection's components emit, and the metric names PromQL uses.

The alerts and dashboards of the monitoring role may only use series that exist. This module
derives them from the same sources Prometheus gets them from:

* JMX exporter agents (ZooKeeper, Kafka, Connect, MirrorMaker 2): the roles' own exporter rules
  (``*_metrics_config`` in roles/<role>/defaults/main.yml, and the kafka role's gate rules in
  roles/kafka/vars/main.yml) applied, the way the JMX exporter applies them, to the MBeans each
  server registers. ZooKeeper's MBeans were captured from a real Debian ZooKeeper 3.8 ensemble
  (``python -m tests.monitoring_metrics zookeeper-dump`` captures them again); Kafka's and
  Connect's are the ones the Kafka 3.9 documentation lists. Fixtures in
  tests/unit/fixtures/monitoring/ say where each comes from.
* kafka_exporter: the series its README documents.
* Prometheus: ``up``, which it writes for every target.

The JMX exporter (Strimzi 0.45's images carry 1.0.x; earlier ones 0.20) changed how some names
are exposed between 0.x and 1.x: a COUNTER rule's name gets ``_total`` appended in 1.x, and a
gauge named ``*_total``, ``*_created``, ``*_bucket`` or ``*_info`` loses that suffix. Names that
differ between the two are *unstable* and left out, so that alerts cannot depend on them.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import tempfile
import time

import yaml

REPO = pathlib.Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "unit" / "fixtures" / "monitoring"
ZOOKEEPER_DUMP = FIXTURES / "zookeeper-3.8-jmx.txt"
KAFKA_MBEANS = FIXTURES / "kafka-3.9-mbeans.txt"
CONNECT_MBEANS = FIXTURES / "connect-3.9-mbeans.txt"
EXPORTER_METRICS = FIXTURES / "kafka_exporter-1.8-metrics.txt"

# Written by Prometheus itself for every scrape target.
PROMETHEUS_METRICS = frozenset({"up"})
# Emitted by no component of the collection: blackbox_exporter's TLS probe
# (https://github.com/prometheus/blackbox_exporter, prober/tls.go). Only the certificate alert
# may use it, and docs/monitoring.md says it needs that exporter.
BLACKBOX_METRICS = frozenset({"probe_ssl_earliest_cert_expiry"})

# --- the JMX exporter -------------------------------------------------------------------------------

_YAMMER_RATES = ["MeanRate", "OneMinuteRate", "FiveMinuteRate", "FifteenMinuteRate"]
_YAMMER_HISTOGRAM = ["Min", "Max", "Mean", "StdDev", "50thPercentile", "75thPercentile", "95thPercentile",
                     "98thPercentile", "99thPercentile", "999thPercentile"]
# attribute -> kind of value, per Yammer metric type (com.yammer.metrics.reporting.JmxReporter)
_YAMMER = {
    "gauge": {"Value": "number"},
    "meter": dict({"Count": "number", "EventType": "string", "RateUnit": "other"}, **{a: "number" for a in _YAMMER_RATES}),
    "histogram": dict({"Count": "number"}, **{a: "number" for a in _YAMMER_HISTOGRAM}),
    "timer": dict({"Count": "number", "EventType": "string", "RateUnit": "other", "LatencyUnit": "other"},
                  **{a: "number" for a in _YAMMER_RATES + _YAMMER_HISTOGRAM}),
}
_JAVA_KINDS = {"Integer": "number", "Long": "number", "Double": "number", "Float": "number", "Short": "number",
               "Byte": "number", "Boolean": "boolean", "String": "string"}
_RESERVED_SUFFIXES = ("_total", "_created", "_bucket", "_info")


def _bean_prefix(object_name):
    """'kafka.server:type=A,name=B' -> 'kafka.server<type=A, name=B><>' (the exporter's form)."""
    domain, _colon, properties = object_name.partition(":")
    return "%s<%s><>" % (domain, ", ".join(properties.split(",")))


def read_jmx_dump(path=ZOOKEEPER_DUMP):
    """(match name, value, kind) of every line of a JmxDump capture."""
    out = []
    for line in pathlib.Path(path).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        text, _tab, java_type = line.rpartition("\t")
        name, _sep, value = text.partition(": ")
        out.append((name, value, _JAVA_KINDS.get(java_type, "other")))
    return out


def read_mbean_list(path):
    """(match name, value, kind) of every attribute of an MBean list (kafka-3.9-mbeans.txt format)."""
    out = []
    for line in pathlib.Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        kind, object_name = fields[0], fields[1]
        prefix = _bean_prefix(object_name)
        if kind in _YAMMER:
            out += [(prefix + attribute, "0", value_kind) for attribute, value_kind in _YAMMER[kind].items()]
        elif kind == "metrics":
            out += [(prefix + attribute, "0.0", "number") for attribute in fields[2].split(",")]
        elif kind == "strings":
            for pair in fields[2].split(","):
                attribute, _eq, value = pair.partition("=")
                out.append((prefix + attribute, value, "string"))
        else:
            raise ValueError("%s: unknown kind %r" % (path, kind))
    return out


def safe_name(name):
    """The JMX exporter's safeName: characters outside [a-zA-Z0-9:_] become '_', runs of '_' one."""
    out = "_" if name[:1].isdigit() else ""
    for char in name:
        char = char if (char.isascii() and (char.isalnum() or char == ":")) else "_"
        if char == "_" and out.endswith("_"):
            continue
        out += char
    return out


def jmx_series(config, attributes):
    """{metric name: set of rule types} the JMX exporter makes of ``attributes`` with ``config``.

    As the exporter does: each rule's pattern is matched as ``^.*(?:pattern).*$`` against
    "<match name>: <value>"; the first matching rule wins; its name has $N replaced by the
    groups, then safeName and, with lowercaseOutputName, lower case. A string value becomes a
    sample only when the rule sets `value`; other types are never scraped. No rule, no sample.
    """
    rules = [(re.compile(r"^.*(?:%s).*$" % rule["pattern"]), rule) for rule in config.get("rules", [])]
    series = {}
    for match_name, value, kind in attributes:
        if kind == "other":
            continue
        text = "%s: %s" % (match_name, value)
        for compiled, rule in rules:
            found = compiled.match(text)
            if not found:
                continue
            if kind == "string" and "value" not in rule:
                break
            name = safe_name(re.sub(r"\$(\d+)", lambda g, found=found: found.group(int(g.group(1))) or "", rule["name"]))
            if config.get("lowercaseOutputName"):
                name = name.lower()
            series.setdefault(name, set()).add(str(rule.get("type", "UNTYPED")).upper())
            break
    return series


def stable_names(series):
    """The names of ``series`` that JMX exporter 0.20 and 1.x expose alike."""
    out = set()
    for name, types in series.items():
        if "COUNTER" in types:
            if name.endswith("_total"):
                out.add(name)
        elif not name.endswith(_RESERVED_SUFFIXES):
            out.add(name)
    return out


def _yaml(relative):
    return yaml.safe_load((REPO / relative).read_text())


def role_metrics_config(component, kraft=False):
    """The exporter configuration the role of ``component`` gives its agent (metrics enabled;
    for kafka with ``kraft``, as in KRaft mode)."""
    if component == "kafka":
        defaults = _yaml("roles/kafka/defaults/main.yml")["kafka_metrics_config"]
        variables = _yaml("roles/kafka/vars/main.yml")
        gate = variables["__kafka_gate_metrics_rules"] + (variables["__kafka_kraft_metrics_rules"] if kraft else [])
        # as __kafka_metrics_data combines them: the gate's rules first
        return dict(defaults, lowercaseOutputName=True, rules=gate + defaults.get("rules", []))
    return _yaml("roles/%s/defaults/main.yml" % component)["%s_metrics_config" % component]


def component_metrics():
    """{component: frozenset of metric names it emits, stable across JMX exporter versions}."""
    connect_beans = read_mbean_list(CONNECT_MBEANS)
    exporter = [line.strip() for line in EXPORTER_METRICS.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {
        "zookeeper": frozenset(stable_names(jmx_series(role_metrics_config("zookeeper"), read_jmx_dump(ZOOKEEPER_DUMP)))),
        "kafka": frozenset(stable_names(jmx_series(role_metrics_config("kafka"), read_mbean_list(KAFKA_MBEANS)))),
        "connect": frozenset(stable_names(jmx_series(role_metrics_config("connect"), connect_beans))),
        "mirrormaker": frozenset(stable_names(jmx_series(role_metrics_config("mirrormaker"), connect_beans))),
        "exporter": frozenset(exporter),
    }


# --- PromQL -----------------------------------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_RANGE = re.compile(r"\[[^\]]*\]")
_MATCHERS = re.compile(r"\{[^}]*\}")
_CLAUSE = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_OFFSET = re.compile(r"\boffset\s+-?[0-9a-zA-Z_$]+|@\s*(?:start\(\)|end\(\)|[0-9.]+)")
_TOKEN = re.compile(r"(?P<number>0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)|(?P<variable>\$\w+)|(?P<name>[A-Za-z_:][A-Za-z0-9_:]*)")
_KEYWORDS = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring", "group_left", "group_right",
             "offset", "inf", "nan", "Inf", "NaN"}
_LABEL_VALUES = re.compile(r"^\s*label_values\((?P<expr>.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$")


def promql_metric_names(expr):
    """The metric names a PromQL expression (or a Grafana label_values() query) selects.

    A name is an identifier outside strings, label matchers, ranges and grouping clauses that is
    not a keyword and not followed by '(' (a function or aggregation). Selecting a metric by
    `{__name__=...}` is refused: it would hide the name from this check.
    """
    if "__name__" in expr:
        raise ValueError("select metrics by name, not with __name__: %s" % expr)
    found = _LABEL_VALUES.match(expr)
    if found:
        expr = found.group("expr")
    text = _STRING.sub('""', expr)
    text = _RANGE.sub("", text)
    text = _MATCHERS.sub("", text)
    text = _CLAUSE.sub("", text)
    text = _OFFSET.sub("", text)
    names = set()
    for token in _TOKEN.finditer(text):
        name = token.group("name")
        if not name or name in _KEYWORDS or text[token.end():].lstrip().startswith("("):
            continue
        names.add(name)
    return names


# --- capturing ZooKeeper's MBeans ------------------------------------------------------------------

# zoo.cfg as the zookeeper role renders it for three members of cluster dev in namespace kafka.
_ZOO_CFG = """\
autopurge.purgeInterval=1
autopurge.snapRetainCount=3
initLimit=5
syncLimit=2
tickTime=2000
dataDir=/var/lib/zookeeper/data
clientPort=2181
standaloneEnabled=false
reconfigEnabled=false
quorumListenOnAllIPs=true
admin.enableServer=true
admin.serverPort=8080
4lw.commands.whitelist=ruok,srvr,mntr
""" + "".join("server.%d=dev-zookeeper-%d.dev-zookeeper-nodes.kafka.svc:2888:3888\n" % (i + 1, i) for i in range(3))


def dump_zookeeper_mbeans(out=ZOOKEEPER_DUMP):
    """Start a real ensemble, capture its MBeans healthy and after losing its quorum; write ``out``."""
    from tests.zookeeper_ensemble import Ensemble  # pylint: disable=import-outside-toplevel

    def dump(pid):
        run = subprocess.run(["java", str(FIXTURES / "JmxDump.java"), str(pid), "org.apache.ZooKeeperService"],
                             capture_output=True, text=True, timeout=120, check=True)
        return run.stdout.splitlines()

    hosts = {"dev-zookeeper-%d.dev-zookeeper-nodes.kafka.svc" % i: "127.0.0.%d" % (201 + i) for i in range(3)}
    lines = set()
    with tempfile.TemporaryDirectory() as work, Ensemble(_ZOO_CFG, pathlib.Path(work), hosts=hosts) as ensemble:
        ensemble.start(timeout=90)
        leader = ensemble.wait_for_leader(timeout=60, synced_followers=2)
        for member in ensemble.members():
            lines.update(dump(ensemble.pid(member)))
        for member in [m for m in ensemble.members() if m != leader]:
            ensemble.kill(member)
        time.sleep(6)
        lines.update(dump(ensemble.pid(leader)))
    header = [line for line in pathlib.Path(out).read_text().splitlines() if line.startswith("#")] if pathlib.Path(out).exists() else []
    pathlib.Path(out).write_text("\n".join(header + sorted(lines)) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] != ["zookeeper-dump"]:
        sys.exit("usage: python -m tests.monitoring_metrics zookeeper-dump")
    dump_zookeeper_mbeans()
