"""site.yml converges through API faults, to the same objects as a run without them.

Hosts deploy the same ZooKeeper and Kafka cluster, each to its own kubesim, in one site.yml
run (tests/reliability/clusters.py ApiScenario): `clean` sees no fault; `faults` gets a seeded
random 10% of its requests answered 500, 503 or 429 (with Retry-After: 1; through the
pod proxy only 429, since a proxied 5xx would be the pod's own answer); `write-faults` gets 30%
of its writes answered so. kubesim answers a faulted request before doing anything. Each host
must pass every gate and end with exactly the objects of `clean`, none created twice; a second
run without faults writes nothing.

Every request site.yml sends must come from our modules (User-Agent streams.kafka), which retry
(plugins/module_utils/k8s_api.py): kubernetes.core's k8s and k8s_info do not, so the roles read
with streams.kafka.object_info. The discovery kubernetes.core makes while it builds a client
(/version, /apis) goes out before our User-Agent is set; k8s_api._client retries it.
"""

import pytest

from tests.reliability.clusters import FAULTS, state_difference

FAULTED = sorted(FAULTS)


@pytest.mark.parametrize("host", ["clean"] + FAULTED)
def test_site_converges(api_scenario, host):
    first = api_scenario.runs[0]
    assert first.failures(host) == [], first.describe()
    stats = first.report["stats"][host]
    assert stats["failures"] == 0 and stats["unreachable"] == 0, stats


@pytest.mark.parametrize("host", FAULTED)
def test_faults_were_injected(api_scenario, host):
    first = api_scenario.outcome[host][0]
    faulted = [r for r in first["requests"] if r["fault"] is not None]
    writes = [r for r in faulted if r["write"]]
    assert len(faulted) >= 3 and writes, [(r["method"], r["path"], r["status"]) for r in faulted]
    # Every request comes from our modules, which retry; the only ones without our User-Agent
    # are the discovery kubernetes.core makes while it builds a client (k8s_api._client retries it).
    others = sorted(set((r["user_agent"], r["method"], r["path"]) for r in first["requests"]
                        if not r["user_agent"].startswith("streams.kafka ")
                        and not (r["method"] == "GET" and r["path"] in ("/version", "/apis", "/api"))))
    assert others == [], "requests that are not retried: %s" % others[:10]
    if FAULTS[host].get("writes_only"):
        assert len(writes) == len(faulted)
    else:
        assert len(writes) < len(faulted)
    assert {r["status"] for r in faulted} <= {500, 503, 429}
    assert first["faults"][0]["failed"] == len(faulted)


@pytest.mark.parametrize("host", FAULTED)
def test_end_state_equals_the_fault_free_run(api_scenario, host):
    clean = api_scenario.outcome["clean"][0]["state"]
    assert clean, "the clean run stored nothing"
    assert state_difference(api_scenario.outcome[host][0]["state"], clean) == []


@pytest.mark.parametrize("host", ["clean"] + FAULTED)
def test_nothing_is_created_twice(api_scenario, host):
    assert api_scenario.outcome[host][0]["created_twice"] == []


@pytest.mark.parametrize("host", FAULTED)
def test_a_run_without_faults_then_writes_nothing(api_scenario, host):
    second = api_scenario.runs[1]
    assert second.failures(host) == [], second.describe()
    assert api_scenario.outcome[host][1]["writes"] == []
    assert second.report["stats"][host]["changed"] == 0, second.report["stats"][host]
