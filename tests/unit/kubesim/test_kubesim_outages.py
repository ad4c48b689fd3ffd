"""kubesim's seeded random faults, lost answers, and stopping and starting again with its state."""
import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from tests.kubesim import KubeSim

NS = "default"


def http(sim, method, path, body=None, user_agent="test"):
    """(status, headers, parsed JSON) for a raw request to the simulator."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(sim.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", "User-Agent": user_agent})
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, dict(reply.headers), json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def create(sim, name, user_agent="test"):
    return http(sim, "POST", f"/api/v1/namespaces/{NS}/configmaps", {"metadata": {"name": name}, "data": {"n": name}}, user_agent)[0]


def outcome(seed, rate=0.3, requests=60, **options):
    """The statuses of `requests` creates and reads against a fresh simulator with random faults."""
    with KubeSim() as sim:
        sim.add_random_faults(rate=rate, seed=seed, **options)
        for i in range(requests // 2):
            create(sim, f"cm-{i}")
            http(sim, "GET", f"/api/v1/namespaces/{NS}/configmaps/cm-{i}")
        return [(r["method"], r["status"], r["fault"]) for r in sim.requests], sim.faults.list()[0], sim.objects("v1", "ConfigMap", NS)


def test_random_faults_are_seeded_and_change_nothing():
    first, faults, stored = outcome(seed=7)
    again, _faults, _stored = outcome(seed=7)
    other, _faults, _stored = outcome(seed=8)
    assert first == again and first != other
    failed = [entry for entry in first if entry[2] is not None]
    assert 8 <= len(failed) <= 28, failed  # about 30% of 60
    assert faults["tried"] == 60 and faults["failed"] == len(failed)
    assert {status for _method, status, _fault in failed} == {500, 503, 429}
    # a create that failed stored nothing: exactly the creates answered 201 exist
    created = [i for i, (method, status, _fault) in enumerate(first) if method == "POST" and status == 201]
    assert sorted(o["metadata"]["name"] for o in stored) == sorted(f"cm-{i // 2}" for i in created)


def test_random_faults_on_writes_only_and_for_one_user_agent(kubesim):
    kubesim.add_random_faults(rate=1.0, seed=1, statuses=(503,), writes_only=True, user_agent="^streams\\.kafka ")
    assert create(kubesim, "theirs") == 201
    assert create(kubesim, "ours", user_agent="streams.kafka OpenAPI-Generator/37.0.2/python") == 503
    assert http(kubesim, "GET", f"/api/v1/namespaces/{NS}/configmaps", user_agent="streams.kafka x")[0] == 200
    assert [o["metadata"]["name"] for o in kubesim.objects("v1", "ConfigMap", NS)] == ["theirs"]


def test_a_429_says_when_to_come_back_and_the_proxy_gets_only_429s(kubesim):
    kubesim.add_random_faults(rate=1.0, seed=3, statuses=(429,), retry_after=2)
    status, headers, body = http(kubesim, "GET", "/api/v1/namespaces")
    assert status == 429 and headers["Retry-After"] == "2" and body["reason"] == "TooManyRequests"
    kubesim.clear_faults()
    kubesim.add_random_faults(rate=1.0, seed=3, statuses=(500,))
    assert http(kubesim, "GET", f"/api/v1/namespaces/{NS}/pods/p-0:80/proxy/x")[0] == 429
    assert http(kubesim, "GET", "/api/v1/namespaces")[0] == 500


def test_random_faults_through_the_control_api(kubesim):
    status, _headers, reply = http(kubesim, "POST", "/_sim/faults/random", {"rate": 1.0, "seed": 2, "statuses": [502]})
    assert status == 200 and reply["id"] >= 1
    assert http(kubesim, "GET", "/api/v1/namespaces")[0] == 502
    listed = http(kubesim, "GET", "/_sim/faults")[2]
    assert listed == [{"id": reply["id"], "rate": 1.0, "seed": 2, "statuses": [502], "writes_only": False, "retry_after": 1,
                       "user_agent": None, "proxy_statuses": [429], "tried": 1, "failed": 1}]
    assert http(kubesim, "POST", "/_sim/faults/random", {"rate": 2})[0] == 400
    http(kubesim, "DELETE", "/_sim/faults")
    assert http(kubesim, "GET", "/api/v1/namespaces")[0] == 200


def test_a_lost_answer_comes_after_the_write(kubesim):
    kubesim.add_fault(method="POST", status=504, times=1, after=True)
    assert create(kubesim, "stored") == 504
    assert kubesim.get("v1", "ConfigMap", NS, "stored") is not None
    assert create(kubesim, "stored") == 409
    assert [r["fault"] is not None for r in kubesim.requests] == [True, False]
    with pytest.raises(ValueError):
        kubesim.add_fault(status=None, after=True)


def refused(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_stop_and_start_again_on_the_same_port_with_the_same_state(kubesim):
    kubesim.set_ready_delay(0.2)
    kubesim.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": NS},
                    "spec": {"containers": [{"name": "main", "image": "app:1"}]}})
    create(kubesim, "kept")
    port, url = kubesim.port, kubesim.url
    kubesim.stop()
    assert refused(port) and not kubesim.running and kubesim.url == url
    kubesim.start()
    assert kubesim.port == port and kubesim.running
    assert http(kubesim, "GET", f"/api/v1/namespaces/{NS}/configmaps/kept")[0] == 200
    # the controller runs again: the pod becomes Ready
    assert kubesim.wait_for(lambda: f"{NS}/p" in kubesim.pod_ready_times(), timeout=5)
    assert [r["path"].rsplit("/", 1)[-1] for r in kubesim.requests] == ["configmaps", "kept"]
    assert kubesim.restart() is kubesim and kubesim.port == port
    names = [o["metadata"]["name"] for o in kubesim.snapshot(NS)]
    assert names == ["kept", "p"], names


def test_stop_after_a_matching_request_answers_it_then_refuses(kubesim):
    port = kubesim.port
    kubesim.stop_after(method="POST", name_regex="^second$")
    assert create(kubesim, "first") == 201 and kubesim.running
    assert create(kubesim, "second") == 201
    assert not kubesim.running and refused(port)
    kubesim.start()
    assert create(kubesim, "third") == 201 and kubesim.running  # one-shot
    assert [o["metadata"]["name"] for o in kubesim.objects("v1", "ConfigMap", NS)] == ["first", "second", "third"]


def test_stop_after_with_a_restart_through_the_control_api(kubesim):
    port = kubesim.port
    status, _headers, _reply = http(kubesim, "POST", "/_sim/stop_after", {"path_regex": "/configmaps$", "restart_after": 0.5})
    assert status == 200
    assert create(kubesim, "down") == 201 and refused(port)
    deadline = time.monotonic() + 5
    while refused(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kubesim.running and http(kubesim, "GET", f"/api/v1/namespaces/{NS}/configmaps/down")[0] == 200
