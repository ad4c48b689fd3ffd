"""The Kubernetes API goes away while site.yml delivers Kafka.

In tests/reliability/clusters.py's ApiScenario, `lost`'s kubesim stops right after answering
its first Kafka write, so the rest of that Kafka apply finds the port refusing connections:
the play must stop there saying the API cannot be reached. kubesim then starts again on the same
port with everything it stored; a re-run must converge to what the uninterrupted `clean` host
has, and a further run must write nothing. (An outage shorter than the retries' budget goes
unnoticed: tests/unit/plugins/module_utils/test_k8s_api_retries.py.)
"""

import re

from tests.reliability.clusters import KAFKA_APPLY, LOST, is_kafka, state_difference


def test_the_play_stops_saying_the_api_cannot_be_reached(api_scenario):
    first = api_scenario.runs[0]
    failures = first.failures(LOST)
    assert [task for task, _host, _msg in failures] == [KAFKA_APPLY], first.describe()
    message = failures[0][2]
    # the next object's read (or, for a kind this process has not looked up yet, its discovery)
    assert re.fullmatch(r"cannot (read kafka/\w+/dev-kafka[-\w]*|discover the Kubernetes API \([\w/.]+ \w+\)): "
                        r"the Kubernetes API at %s cannot be reached after 5 attempts \(\[Errno 111\] Connection refused\)"
                        % re.escape(api_scenario.lost_url), message), message
    assert first.report["stats"][LOST]["failures"] == 1


def test_the_api_went_away_in_the_middle_of_kafka(api_scenario):
    lost = api_scenario.outcome[LOST][0]
    clean = api_scenario.outcome["clean"][0]["state"]
    assert not lost["running"]
    # everything before the outage is as the clean run has it; of Kafka only the first object
    written = [r for r in lost["requests"] if r["write"] and is_kafka(r)]
    assert len(written) == 1 and written[0]["status"] == 201, written
    kafka = [key[2] for key in lost["state"] if key[2].startswith("dev-kafka")]
    assert kafka == [written[0]["name"]], kafka
    assert [key for key in lost["state"] if lost["state"][key] != clean.get(key)] == []


def test_a_rerun_once_the_api_is_back_converges(api_scenario):
    second = api_scenario.runs[1]
    assert second.failures(LOST) == [], second.describe()
    again = api_scenario.outcome[LOST][1]
    assert [r for r in again["writes"] if is_kafka(r)], "the re-run wrote no Kafka object"
    assert state_difference(again["state"], api_scenario.outcome["clean"][0]["state"]) == []
    assert again["created_twice"] == []


def test_a_further_run_writes_nothing(api_scenario):
    third = api_scenario.runs[2]
    assert third.failures(LOST) == [], third.describe()
    assert api_scenario.outcome[LOST][2]["writes"] == []
    assert third.report["stats"][LOST]["changed"] == 0, third.report["stats"][LOST]
