"""site.yml converges through API faults, to the same objects as a run without them.

Hosts deploy the same ZooKeeper and Kafka cluster, each to its own kubesim, in one site.yml
run (tests/reliability/clusters.py ApiScenario): `clean` sees no fault; `faults` gets a seeded
random 10% of our modules' requests answered 500, 503 or 429 (with Retry-After: 1; through the
pod proxy only 429, since a proxied 5xx would be the pod's own answer); `write-faults` gets 30%
of its writes answered so. kubesim answers a faulted request before doing anything. Each host
must pass every gate and end with exactly the objects of `clean`, none created twice; a second
run without faults writes nothing.

Only our modules' requests (User-Agent streams.kafka) are faulted: the preflight's namespace
lookup and the status report read through kubernetes.core.k8s_info, which does not retry.
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
    assert all(r["user_agent"].startswith("streams.kafka ") for r in faulted)
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
