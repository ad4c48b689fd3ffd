"""zookeeper_ready as Ansible runs it: options, check mode, results and failure messages.

The API is replaced by the FakeApi of the module_utils tests; the real API path is covered by
tests/integration (kubesim, and a real ZooKeeper ensemble behind kubesim's pod proxy).
"""

import json
from unittest import mock

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import k8s_api
from ansible_collections.streams.kafka.plugins.modules import zookeeper_ready

from ..module_utils.test_zookeeper import NAMES, NS, FakeApi, healthy, pod
from .module_run import run_main


def run_module(args, api, capsys, check_mode=False):
    with mock.patch.object(k8s_api, "PodApi", return_value=api) as pod_api:
        result = run_main(zookeeper_ready, capsys, args, check_mode)
    result["_pod_api_kwargs"] = pod_api.call_args.kwargs if pod_api.call_args else None
    return result


BASE = {"namespace": NS, "cluster_name": "dev", "replicas": 3, "timeout": 5}


def test_ready_ensemble(capsys):
    api = FakeApi([pod(n) for n in NAMES], healthy(leader=1))
    result = run_module(BASE, api, capsys)
    assert result["_rc"] == 0 and not result.get("failed")
    assert result["ready"] is True and result["changed"] is False
    assert result["leader"] == "dev-zookeeper-1"
    assert sorted(result["members"]) == NAMES
    assert result["members"]["dev-zookeeper-1"]["synced_followers"] == 2
    assert result["waited"] < 1
    assert api.selectors == ["app.kubernetes.io/instance=dev,app.kubernetes.io/name=zookeeper"]
    assert result["_pod_api_kwargs"] == {"request_timeout": 5}


def test_not_ready_fails_naming_the_pod_and_reason(capsys):
    pods = [pod(n) for n in NAMES[:2]] + [pod(NAMES[2], ready=False, waiting="CrashLoopBackOff")]
    api = FakeApi(pods, healthy(leader=0, synced=1))
    result = run_module(dict(BASE, timeout=1, stuck_grace=10), api, capsys)
    assert result["failed"] and result["_rc"] == 1
    assert result["msg"].startswith("ZooKeeper ensemble dev in namespace kafka is not ready after 1s: "
                                    "pod dev-zookeeper-2: container zookeeper is CrashLoopBackOff")
    assert result["ready"] is False
    assert result["members"]["dev-zookeeper-2"]["state"] == "pod_not_ready"
    assert result["leader"] == "dev-zookeeper-0"


def test_stuck_pod_fails_before_the_timeout(capsys):
    pods = [pod(NAMES[0], ready=False, waiting="ImagePullBackOff")] + [pod(n) for n in NAMES[1:]]
    result = run_module(dict(BASE, timeout=300, stuck_grace=0), FakeApi(pods, healthy(leader=1, synced=1)), capsys)
    assert result["failed"]
    assert "cannot become ready without a change (gave up after 0s): pod dev-zookeeper-0: container zookeeper is ImagePullBackOff" in result["msg"]
    assert result["waited"] < 5


def test_check_mode_looks_once_and_does_not_fail(capsys):
    api = FakeApi([pod(n) for n in NAMES[:1]], {})
    result = run_module(dict(BASE, timeout=300), api, capsys, check_mode=True)
    assert result["_rc"] == 0 and not result.get("failed")
    assert result["ready"] is False and result["waited"] == 0
    assert "pod dev-zookeeper-1: pod does not exist" in result["reason"]
    assert len(api.selectors) == 1


def test_selector_mode(capsys):
    pods = [pod("zk-0"), pod("zk-1"), pod("zk-2")]
    answers = {("zk-0", "/commands/mntr"): json.dumps({"server_state": "follower"}),
               ("zk-1", "/commands/mntr"): json.dumps({"server_state": "follower"}),
               ("zk-2", "/commands/mntr"): json.dumps({"server_state": "leader", "synced_followers": 2})}
    api = FakeApi(pods, answers)
    result = run_module({"namespace": NS, "selector": "app=zk", "replicas": 3, "admin_port": 8081}, api, capsys)
    assert result["ready"] and result["leader"] == "zk-2"
    assert api.selectors == ["app=zk"] and {call[1] for call in api.calls} == {8081}


def test_forbidden_fails_at_once(capsys):
    api = FakeApi(list_error=k8s_api.ApiError("cannot list pods in namespace kafka: pods is forbidden", 403))
    result = run_module(BASE, api, capsys)
    assert result["failed"]
    assert result["msg"] == ("ZooKeeper ensemble dev in namespace kafka cannot be checked: "
                             "cannot list pods in namespace kafka: pods is forbidden")


@pytest.mark.parametrize("args, message", [
    (dict(BASE, selector="app=zk"), "parameters are mutually exclusive: cluster_name|selector"),
    ({"namespace": NS, "replicas": 3}, "one of the following is required: cluster_name, selector"),
    (dict(BASE, replicas=0), "replicas must be at least 1, got 0"),
    (dict(BASE, timeout=-1), "timeout and stuck_grace must not be negative"),
])
def test_bad_options(args, message, capsys):
    result = run_module(args, FakeApi(), capsys)
    assert result["failed"] and message in result["msg"]
