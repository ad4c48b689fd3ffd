"""k8s_api retries: 429/5xx and refused connections, a bounded number of times, honouring a
capped Retry-After; a lost create answer becomes an apply; clear messages when it gives up.

Real requests through kubernetes.core's client to kubesim with injected faults; urllib3's
sleeps are recorded instead of slept.
"""

import tempfile
import threading
import time
import types

import pytest
import urllib3.util.retry

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api, manifest_apply
from tests.helpers import object_api, pod_api

NS = "default"


def config_map(name="settings", **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS}, "data": data or {"a": "b"}}


@pytest.fixture(name="sleeps")
def sleeps_fixture(monkeypatch):
    """The seconds urllib3's Retry sleeps between attempts, recorded, not slept."""
    slept = []
    monkeypatch.setattr(urllib3.util.retry, "time", types.SimpleNamespace(sleep=slept.append, time=time.time))
    return slept


@pytest.fixture(name="api")
def api_fixture(kubeconfig):
    # Made before any fault: kubernetes.core's first client of a server fills its discovery cache.
    return object_api(kubeconfig)


def running_pod(kubesim, name):
    kubesim.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS},
                    "spec": {"containers": [{"name": "main", "image": "app:1", "ports": [{"containerPort": 8080}]}]}})
    assert kubesim.wait_for(lambda: (kubesim.get("v1", "Pod", NS, name).get("status") or {}).get("phase") == "Running")


def statuses(kubesim, method=None):
    return [r["status"] for r in kubesim.requests if method is None or r["method"] == method]


def calls(kubesim):
    """(method, status) of the requests for objects (discovery left out)."""
    return [(r["method"], r["status"]) for r in kubesim.requests if "/namespaces/" in r["path"]]


@pytest.mark.parametrize("status", k8s_api.RETRY_STATUSES)
def test_every_verb_is_retried_on_429_and_5xx(kubesim, api, sleeps, status):
    kubesim.clear_requests()
    kubesim.add_fault(path_regex="/configmaps", status=status, times=2)
    assert api.read(config_map()) is None
    kubesim.add_fault(path_regex="/configmaps", status=status, times=2)
    created = api.create(config_map())
    kubesim.add_fault(path_regex="/configmaps", status=status, times=2)
    patched = api.patch(config_map(), {"data": {"a": "c"}})
    assert created["metadata"]["uid"] == patched["metadata"]["uid"] and patched["data"] == {"a": "c"}
    assert [(r["method"], r["status"]) for r in kubesim.requests if "/configmaps" in r["path"]] == [
        ("GET", status), ("GET", status), ("GET", 404),
        ("POST", status), ("POST", status), ("POST", 201),
        ("PATCH", status), ("PATCH", status), ("PATCH", 200)]
    # urllib3 retries at once after the first failure, then backs off
    assert len(sleeps) == 3 and all(0.5 <= s <= 0.5 + k8s_api.BACKOFF_JITTER for s in sleeps), sleeps


def test_every_request_carries_our_user_agent(kubesim, api):
    kubesim.clear_requests()
    api.read(config_map())
    assert {r["user_agent"].split()[0] for r in kubesim.requests} == {"streams.kafka"}


def test_retry_after_is_honoured_and_capped(kubesim, api, sleeps):
    kubesim.add_fault(method="GET", status=429, times=1, retry_after=3)
    api.read(config_map())
    kubesim.add_fault(method="GET", status=503, times=1, retry_after=120)
    api.read(config_map())
    assert sleeps == [3, k8s_api.RETRY_AFTER_CAP]


def test_backoff_grows_then_it_gives_up_with_the_status_and_the_object(kubesim, api, sleeps):
    kubesim.clear_requests()
    kubesim.add_fault(method="POST", status=503)
    with pytest.raises(k8s_api.ApiError) as failed:
        api.create(config_map())
    assert failed.value.status == 503
    assert str(failed.value) == ("cannot create default/ConfigMap/settings: the API server answered 503 after 5 attempts: "
                                 "the server is currently unable to handle the request")
    assert statuses(kubesim, "POST") == [503] * k8s_api.ATTEMPTS
    assert [round(s - s % 0.5, 1) for s in sleeps] == [0.5, 1.0, 2.0], sleeps
    assert kubesim.get("v1", "ConfigMap", NS, "settings") is None


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
def test_client_errors_are_not_retried(kubesim, api, sleeps, status):
    kubesim.clear_requests()
    kubesim.add_fault(method="POST", status=status)
    with pytest.raises(k8s_api.ApiError) as failed:
        api.create(config_map())
    assert failed.value.status == status and "answered %s: " % status in str(failed.value)
    assert "attempts" not in str(failed.value)
    assert statuses(kubesim, "POST") == [status] and sleeps == []


def test_a_lost_create_answer_is_applied_not_duplicated(kubesim, api, sleeps):
    """The server stores the create but its answer is lost (504): the retried POST answers 409,
    and apply_one reads what is there, finds nothing to change and reports it created."""
    kubesim.clear_requests()
    kubesim.add_fault(method="POST", status=504, times=1, after=True)
    action, before, after = manifest_apply.apply_one(api, config_map())
    assert action == "created" and before == {} and after["data"] == {"a": "b"}
    assert calls(kubesim) == [("GET", 404), ("POST", 504), ("POST", 409), ("GET", 200)]
    assert [o["metadata"]["name"] for o in kubesim.objects("v1", "ConfigMap", NS)] == ["settings"]
    assert manifest_apply.apply_one(api, config_map())[0] == "unchanged"


def test_an_object_created_meanwhile_by_someone_else_is_patched(kubesim, api):
    """Our read says absent; before our POST someone creates it differently: 409, re-read, patch."""
    kubesim.clear_requests()
    original_create = api.create

    def create_after_someone_else(obj):
        kubesim.create(config_map(a="theirs", b="extra"))
        return original_create(obj)

    api.create = create_after_someone_else
    action, _before, after = manifest_apply.apply_one(api, config_map())
    assert action == "created" and after["data"] == {"a": "b", "b": "extra"}
    assert calls(kubesim) == [("GET", 404), ("POST", 409), ("GET", 200), ("PATCH", 200)]


def test_a_create_conflict_on_an_unreadable_object_fails_clearly():
    class Api:
        def __init__(self):
            self.reads = 0

        def read(self, _obj):
            self.reads += 1

        def create(self, _obj):
            raise k8s_api.ApiError("already exists", 409)

    with pytest.raises(k8s_api.ApiError) as failed:
        manifest_apply.apply_one(Api(), config_map())
    assert failed.value.status == 409 and "says it exists, but it cannot be read" in str(failed.value)


def test_a_refused_connection_is_retried_then_named(kubesim, api, sleeps):
    api.read(config_map())  # discovery done
    kubesim.stop()
    with pytest.raises(k8s_api.ApiError) as failed:
        api.read(config_map())
    assert failed.value.status == 0
    assert str(failed.value) == ("cannot read default/ConfigMap/settings: the Kubernetes API at %s cannot be reached "
                                 "after 5 attempts ([Errno 111] Connection refused)" % kubesim.url)
    assert len(sleeps) == k8s_api.ATTEMPTS - 2  # none before the first retry
    kubesim.start()
    assert api.read(config_map()) is None


def test_a_short_outage_is_ridden_out(kubesim, api):
    kubesim.stop()
    threading.Timer(0.3, kubesim.start).start()
    assert api.create(config_map())["metadata"]["name"] == "settings"


def test_an_answer_that_never_comes_is_not_retried(kubesim, kubeconfig, sleeps):
    """The request went out: a write may have been applied, so it is not sent again."""
    slow = object_api(kubeconfig, request_timeout=0.5)
    kubesim.clear_requests()
    kubesim.add_fault(method="POST", status=None, delay=1.0, times=1)
    with pytest.raises(k8s_api.ApiError) as failed:
        slow.create(config_map())
    assert str(failed.value).startswith("cannot create default/ConfigMap/settings: the connection to the Kubernetes API at %s "
                                        "failed (" % kubesim.url), str(failed.value)
    assert "Read timed out" in str(failed.value)
    assert kubesim.wait_for(lambda: kubesim.get("v1", "ConfigMap", NS, "settings"), timeout=5)
    assert statuses(kubesim, "POST") == [201] and sleeps == []


def test_pods_and_workloads_are_read_with_retries(kubesim, kubeconfig, sleeps):
    pods = pod_api(kubeconfig)
    kubesim.add_fault(method="GET", path_regex="/pods$", status=500, times=2)
    kubesim.add_fault(method="GET", path_regex="/statefulsets/", status=429, times=1, retry_after=1)
    assert pods.list_pods(NS, "app=x") == []
    assert pods.read_statefulset(NS, "none") is None
    kubesim.add_fault(method="DELETE", status=503, times=1)
    assert pods.delete_pod(NS, "gone", "uid") is False
    assert sleeps[-1] == 1


def test_the_pods_own_5xx_through_the_proxy_comes_back_at_once(kubesim, kubeconfig, sleeps):
    answers = [(500, {}, "no quorum"), (429, {"Retry-After": "2"}, "slow down"), (200, {}, "ok")]
    running_pod(kubesim, "app-0")
    kubesim.route_proxy_handler(NS, "app-0", 8080, lambda *_args: answers.pop(0))
    pods = pod_api(kubeconfig)
    kubesim.clear_requests()
    assert pods.proxy_request(NS, "app-0", 8080, "/state") == (500, "no quorum")
    assert pods.proxy_request(NS, "app-0", 8080, "/state") == (200, "ok")
    assert statuses(kubesim) == [500, 429, 200] and sleeps == [2]
    # the API server's own 503 with Retry-After (it is not the pod's answer) is retried
    answers.append((200, {}, "ok"))
    kubesim.add_fault(path_regex="/proxy/", status=503, times=1, retry_after=1)
    assert pods.proxy_get(NS, "app-0", 8080, "/state") == "ok"
    assert sleeps == [2, 1]


def test_the_proxy_pattern_matches_what_urllib3_sees():
    assert k8s_api.POD_PROXY.match("/api/v1/namespaces/kafka/pods/dev-kafka-0:9404/proxy/metrics")
    assert k8s_api.POD_PROXY.match("https://api.example:6443/k8s/clusters/c-1/api/v1/namespaces/k/pods/p/proxy?x=1")
    assert not k8s_api.POD_PROXY.match("/api/v1/namespaces/kafka/pods?labelSelector=proxy")
    assert not k8s_api.POD_PROXY.match("/api/v1/namespaces/kafka/configmaps/proxy")


def test_discovery_while_the_client_is_made_is_retried(kubesim, kubeconfig, monkeypatch, tmp_path):
    # No discovery cache (kubernetes.core keeps it in the temp dir): it asks /version and /apis
    # while it makes the client.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    slept = []
    monkeypatch.setattr(k8s_api.time, "sleep", slept.append)
    kubesim.add_fault(method="GET", path_regex=r"^/version$", status=503, times=2)
    kubesim.add_fault(method="GET", path_regex=r"^/apis$", status=429, times=1, retry_after=3)
    api = object_api(kubeconfig)
    assert api.read(config_map("absent")) is None
    assert slept == [0.5, 1.0, 3.0]
    assert [r["status"] for r in kubesim.requests if r["path"] in ("/version", "/apis")][:5] == [503, 503, 200, 429, 200]


def test_discovery_refused_for_good_is_not_retried(kubesim, kubeconfig, monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    slept = []
    monkeypatch.setattr(k8s_api.time, "sleep", slept.append)
    kubesim.add_fault(method="GET", path_regex=r"^/version$", status=403)
    with pytest.raises(k8s_api.ApiError) as raised:
        object_api(kubeconfig)
    assert raised.value.status == 403 and "cannot discover the Kubernetes API" in str(raised.value)
    assert slept == []
