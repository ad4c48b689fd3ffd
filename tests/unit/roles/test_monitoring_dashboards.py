"""The Grafana dashboards of the monitoring role (roles/monitoring/files/dashboards/*.json): every
PromQL expression parses (promtool) and uses only metrics that the dashboard's components emit,
as tests/monitoring_metrics.py derives them from the roles' exporter rules; and the pieces of that
derivation work as the JMX exporter does.
"""

import copy
import json
import re
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import REPO
from tests.monitoring_metrics import (PROMETHEUS_METRICS, component_metrics, jmx_series, promql_metric_names,
                                      read_jmx_dump, role_metrics_config, safe_name, stable_names)

DASHBOARDS = REPO / "roles" / "monitoring" / "files" / "dashboards"
COMPONENTS = yaml.safe_load((REPO / "roles/monitoring/vars/main.yml").read_text())["__monitoring_dashboard_components"]


def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is required and not installed: it comes with Debian's prometheus package "
                    "(make prometheus-package, or apt-get install prometheus)", pytrace=False)
    return path


def load(name):
    return json.loads((DASHBOARDS / ("%s.json" % name)).read_text())


def panels(board):
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def expressions(board):
    """(where, PromQL) of every panel target and every query variable."""
    for panel in panels(board):
        for target in panel.get("targets", []):
            yield "panel %r" % panel["title"], target["expr"]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            yield "variable %r" % variable["name"], variable["query"]["query"]


def unknown_metrics(board, allowed):
    """{where: metric names the expression uses that are not in ``allowed``}."""
    out = {}
    for where, expr in expressions(board):
        unknown = promql_metric_names(expr) - allowed
        if unknown:
            out[where] = sorted(unknown)
    return out


def allowed_for(name, emitted=None):
    emitted = emitted or component_metrics()
    return frozenset().union(PROMETHEUS_METRICS, *(emitted[component] for component in COMPONENTS[name]))


def test_there_is_one_dashboard_per_entry_of_the_role():
    assert sorted(p.stem for p in DASHBOARDS.glob("*.json")) == sorted(COMPONENTS) == ["connect", "exporter", "kafka", "zookeeper"]


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_dashboard_uses_only_metrics_its_components_emit(name):
    board = load(name)
    assert len(list(expressions(board))) >= 8
    assert unknown_metrics(board, allowed_for(name)) == {}


def test_a_dashboard_with_a_metric_nobody_emits_is_caught():
    board = copy.deepcopy(load("kafka"))
    board["panels"][0]["targets"][0]["expr"] = 'sum(kafka_server_replicamanager_bogus_total{namespace="$namespace"})'
    board["templating"]["list"][1]["query"]["query"] = "label_values(zookeeper_quorumsize, namespace)"
    assert unknown_metrics(board, allowed_for("kafka")) == {
        "panel 'Brokers up'": ["kafka_server_replicamanager_bogus_total"],
        "variable 'namespace'": ["zookeeper_quorumsize"]}


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_dashboard_shape(name):
    board = load(name)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert {"datasource", "namespace", "cluster"} <= set(variables)
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["cluster"]["regex"].startswith("/^(.+)-") and variables["cluster"]["regex"].endswith("$/")
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids))
    for panel in panels(board):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            # every query is about the chosen cluster of the chosen namespace
            assert 'namespace="$namespace"' in target["expr"] and 'pod=~"$cluster-' in target["expr"], target["expr"]


def test_dashboard_queries_are_valid_promql(tmp_path):
    """promtool checks every query, as a recording rule, with Grafana's variables filled in."""
    rules = []
    for name in sorted(COMPONENTS):
        for index, (_where, expr) in enumerate(expressions(load(name))):
            if expr.startswith("label_values("):
                expr = re.match(r"label_values\((.*),\s*\w+\)$", expr).group(1)
            rules.append({"record": "dashboard:%s:%d" % (name, index), "expr": expr.replace("$__rate_interval", "5m")})
    path = tmp_path / "dashboards.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    check = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


# --- the derivation -------------------------------------------------------------------------------------

def test_metric_names_of_promql():
    assert promql_metric_names('sum by (pod) (rate(kafka_x_total{a="b",c=~"$cluster-[0-9]+"}[$__rate_interval]))'
                               ' / on (pod) group_left up offset 5m > bool 1e3') == {"kafka_x_total", "up"}
    assert promql_metric_names('(count(up{pod=~"a"} == 1) or vector(0)) < 3') == {"up"}
    assert promql_metric_names('topk(20, max by (topic, partition) (lag{x="sum(y)"})) unless z') == {"lag", "z"}
    assert promql_metric_names("label_values(kafka_brokers{namespace=\"$namespace\"}, pod)") == {"kafka_brokers"}
    with pytest.raises(ValueError):
        promql_metric_names('{__name__="kafka_brokers"}')


def test_safe_name_is_the_exporters():
    assert safe_name("kafka_connect_worker_<>connector-count") == "kafka_connect_worker_connector_count"
    assert safe_name("1st") == "_1st"
    assert safe_name("a:b") == "a:b"


def test_rules_apply_as_the_jmx_exporter_applies_them():
    config = {"lowercaseOutputName": True, "rules": [
        {"pattern": "d<type=S><>status: ([a-z]+)", "name": "d_status", "value": 1, "labels": {"status": "$1"}},
        {"pattern": "d<type=(\\w+)><>Value", "name": "d_$1_first", "type": "GAUGE"},
        {"pattern": "d<type=(\\w+)><>(\\w+)", "name": "d_$1_$2", "type": "COUNTER"},
    ]}
    beans = [("d<type=A><>Value", "1", "number"), ("d<type=A><>Count", "1", "number"), ("d<type=A><>Name", "x", "string"),
             ("d<type=S><>status", "running", "string"), ("d<type=T><>status", "running", "string"),
             ("d<type=B><>Flag", "true", "boolean"), ("e<type=A><>Value", "1", "number"), ("d<type=A><>Unit", "SECONDS", "other")]
    series = jmx_series(config, beans)
    # first match wins; a string only with a rule value (T's status matches a rule without one:
    # dropped); other types and unmatched beans never
    assert series == {"d_a_first": {"GAUGE"}, "d_a_count": {"COUNTER"}, "d_status": {"UNTYPED"}, "d_b_flag": {"COUNTER"}}
    # counters without _total are named differently by JMX exporter 0.x and 1.x: left out
    assert stable_names(series) == {"d_a_first", "d_status"}


def test_zookeeper_metrics_come_from_a_real_ensemble():
    names = stable_names(jmx_series(role_metrics_config("zookeeper"), read_jmx_dump()))
    assert {"zookeeper_quorumsize", "zookeeper_numaliveconnections", "zookeeper_outstandingrequests",
            "zookeeper_inmemorydatatree_nodecount", "zookeeper_avgrequestlatency"} <= names
    # the quorum alert counts members that have a Leader or Follower bean: the capture has both,
    # and a member without quorum has neither
    dump = [name for name, _value, _kind in read_jmx_dump()]
    assert any("name2=Leader><>NumAliveConnections" in n for n in dump)
    assert any("name2=Follower><>NumAliveConnections" in n for n in dump)
    assert any("name2=LeaderElection" in n for n in dump)


def test_the_gate_metrics_are_among_kafkas():
    assert {"kafka_server_kafkaserver_brokerstate", "kafka_controller_kafkacontroller_activecontrollercount",
            "kafka_controller_kafkacontroller_offlinepartitionscount", "kafka_server_replicamanager_underreplicatedpartitions",
            "kafka_server_replicamanager_underminisrpartitioncount"} <= component_metrics()["kafka"]
