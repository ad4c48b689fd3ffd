"""The ZooKeeper gate's logic: AdminServer answers, the verdict on an ensemble, waiting."""

import json

import pytest

from ansible_collections.streams.kafka.plugins.module_utils import zookeeper
from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.readiness import NotReady

NS = "kafka"
NAMES = ["dev-zookeeper-0", "dev-zookeeper-1", "dev-zookeeper-2"]
NOT_SERVING = "This ZooKeeper instance is not currently serving requests"
# ZooKeeper 3.8.0 answers mntr like this while it has no quorum.
NPE_PAGE = ("<html>\n<head>\n<title>Error 500 java.lang.NullPointerException: Cannot invoke &quot;org.apache.zookeeper."
            "server.ZooKeeperServer.dumpMonitorValues(java.util.function.BiConsumer)&quot; because &quot;zkServer&quot; is null"
            "</title>\n</head>\n<body>" + "x" * 5000 + "</body></html>")


def pod(name, phase="Running", ready=True, waiting=None, deleting=False, unschedulable=False):
    container = {"name": "zookeeper", "ready": ready, "state": {"running": {}}}
    if waiting:
        container["state"] = {"waiting": {"reason": waiting, "message": "back-off 40s restarting failed container"}}
    conditions = [{"type": "Ready", "status": "True" if ready else "False"}]
    if unschedulable:
        conditions.append({"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                           "message": "0/3 nodes are available"})
    meta = {"name": name, "namespace": NS}
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": phase, "conditions": conditions, "containerStatuses": [container]}}


def mntr(state, synced=None):
    data = {"version": "3.8.4", "server_state": state, "peer_state": "leading - broadcast" if state == "leader" else "following - broadcast"}
    if synced is not None:
        data["synced_followers"] = synced
    return json.dumps(data)


def srvr(zxid=0x100000003):
    return json.dumps({"server_stats": {"server_state": "x", "last_processed_zxid": zxid}, "command": "server_stats", "error": None})


def error_json(command):
    return json.dumps({"command": command, "error": NOT_SERVING})


class FakeApi:
    """PodApi's two calls, answered from dicts; `calls` records the proxy paths asked."""

    def __init__(self, pods=None, answers=None, list_error=None):
        self.pods = pods or []
        self.answers = answers or {}
        self.list_error = list_error
        self.calls = []
        self.selectors = []

    def list_pods(self, namespace, selector):
        assert namespace == NS
        self.selectors.append(selector)
        if self.list_error:
            raise self.list_error
        return sorted(self.pods, key=lambda p: p["metadata"]["name"])

    def proxy_get(self, namespace, name, port, path):
        assert namespace == NS
        self.calls.append((name, port, path))
        answer = self.answers.get((name, path), ApiError(
            "%s:%s/%s answered 503: error trying to reach service: dial tcp 10.0.0.1:%s: connect: connection refused"
            % (name, port, path.lstrip("/"), port), 503))
        if isinstance(answer, Exception):
            raise answer
        return answer


def healthy(leader=1, replicas=3, synced=None):
    answers = {}
    for index in range(replicas):
        name = "dev-zookeeper-%d" % index
        if index == leader:
            answers[(name, zookeeper.MNTR_PATH)] = mntr("leader", replicas - 1 if synced is None else synced)
        else:
            answers[(name, zookeeper.MNTR_PATH)] = mntr("follower")
        answers[(name, zookeeper.SRVR_PATH)] = srvr()
    return answers


# --- small pieces ---------------------------------------------------------------------------

def test_names_and_selector_follow_the_role():
    assert zookeeper.selector_for("dev") == "app.kubernetes.io/instance=dev,app.kubernetes.io/name=zookeeper"
    assert zookeeper.expected_pods("dev", 3) == NAMES
    assert zookeeper.member_id("dev-zookeeper-0") == 1
    assert zookeeper.member_id("dev-zookeeper-12") == 13
    assert zookeeper.member_id("zookeeper") is None


def test_short_keeps_one_line_and_reads_html_titles():
    assert zookeeper.short("a\n  b\tc") == "a b c"
    assert zookeeper.short(NPE_PAGE).startswith('Error 500 java.lang.NullPointerException: Cannot invoke "org.apache')
    assert len(zookeeper.short("y" * 1000)) == 200 and zookeeper.short("y" * 1000).endswith("...")


def test_parse_command():
    data, error = zookeeper.parse_command(mntr("leader", 2))
    assert data["synced_followers"] == 2 and error is None
    assert zookeeper.parse_command(error_json("ruok"))[1] == NOT_SERVING
    with pytest.raises(ValueError, match="not JSON: Error 500"):
        zookeeper.parse_command(NPE_PAGE)
    with pytest.raises(ValueError, match="not a JSON object"):
        zookeeper.parse_command("[1, 2]")


def test_format_zxid():
    assert zookeeper.format_zxid(4294967296) == "0x100000000"
    assert zookeeper.format_zxid(None) is None
    assert zookeeper.format_zxid(True) is None


# --- reading one member ---------------------------------------------------------------------

def test_read_leader():
    api = FakeApi(answers=healthy())
    read = zookeeper.read_member(api, NS, "dev-zookeeper-1", 8080)
    assert read == {"answered": True, "server_state": "leader", "synced_followers": 2, "zxid": "0x100000003", "problem": None}
    assert api.calls == [("dev-zookeeper-1", 8080, "/commands/mntr"), ("dev-zookeeper-1", 8080, "/commands/srvr")]


def test_read_follower_has_no_synced_count():
    read = zookeeper.read_member(FakeApi(answers=healthy()), NS, "dev-zookeeper-0")
    assert read["server_state"] == "follower" and read["synced_followers"] is None and read["problem"] is None


def test_read_member_without_quorum_zookeeper_38():
    api = FakeApi(answers={("dev-zookeeper-0", "/commands/mntr"): ApiError("dev-zookeeper-0:8080/commands/mntr answered 500: " + NPE_PAGE, 500),
                           ("dev-zookeeper-0", "/commands/srvr"): error_json("srvr")})
    read = zookeeper.read_member(api, NS, "dev-zookeeper-0")
    assert read["answered"] and read["server_state"] is None
    assert read["problem"] == "not serving requests: " + NOT_SERVING


def test_read_member_without_quorum_error_field():
    api = FakeApi(answers={("dev-zookeeper-0", "/commands/mntr"): error_json("mntr")})
    read = zookeeper.read_member(api, NS, "dev-zookeeper-0")
    assert read["problem"] == "not serving requests: " + NOT_SERVING
    assert api.calls == [("dev-zookeeper-0", 8080, "/commands/mntr")]


def test_read_member_that_does_not_answer():
    read = zookeeper.read_member(FakeApi(), NS, "dev-zookeeper-2", 8080)
    assert not read["answered"]
    assert read["problem"].startswith("AdminServer on port 8080 does not answer: dev-zookeeper-2:8080/commands/mntr answered 503")
    assert "connection refused" in read["problem"]


def test_read_member_whose_mntr_is_garbage():
    api = FakeApi(answers={("dev-zookeeper-0", "/commands/mntr"): "<html>oops</html>", ("dev-zookeeper-0", "/commands/srvr"): srvr()})
    read = zookeeper.read_member(api, NS, "dev-zookeeper-0")
    assert read["answered"] and read["zxid"] == "0x100000003"
    assert read["problem"] == "AdminServer answered port 8080 /commands/mntr without the mntr data: mntr answered not JSON: <html>oops</html>"


def test_read_member_in_an_odd_state():
    api = FakeApi(answers={("dev-zookeeper-0", "/commands/mntr"): mntr("looking"), ("dev-zookeeper-0", "/commands/srvr"): srvr()})
    assert zookeeper.read_member(api, NS, "dev-zookeeper-0")["problem"] == "server_state is looking, not leader or follower"


# --- the verdict ----------------------------------------------------------------------------

def observe(pods, answers, replicas=3, expected="dev"):
    expected = zookeeper.expected_pods(expected, replicas) if expected else None
    gate = zookeeper.EnsembleGate(FakeApi(pods, answers), NS, replicas, zookeeper.selector_for("dev"), expected)
    return gate.observe()


def test_ready_ensemble():
    report = observe([pod(n) for n in NAMES], healthy(leader=2))
    assert report["ready"] and report["reason"] == "ready" and report["problems"] == []
    assert report["leader"] == "dev-zookeeper-2"
    assert report["members"]["dev-zookeeper-2"] == {
        "pod": "dev-zookeeper-2", "myid": 3, "state": "serving", "server_state": "leader",
        "zxid": "0x100000003", "synced_followers": 2, "problem": None}
    assert report["members"]["dev-zookeeper-0"]["server_state"] == "follower"


def test_single_member_ensemble_is_its_own_leader():
    report = observe([pod("dev-zookeeper-0")], healthy(leader=0, replicas=1), replicas=1)
    assert report["ready"] and report["leader"] == "dev-zookeeper-0"


def test_follower_not_in_sync_is_named():
    answers = healthy(leader=0, synced=1)
    answers[("dev-zookeeper-2", zookeeper.MNTR_PATH)] = error_json("mntr")
    report = observe([pod(n) for n in NAMES], answers)
    assert not report["ready"] and report["leader"] == "dev-zookeeper-0"
    assert report["problems"] == [
        "pod dev-zookeeper-2: not serving requests: " + NOT_SERVING,
        "leader pod dev-zookeeper-0 has 1 synced follower(s), expected 2 (not following: dev-zookeeper-2)"]
    assert report["members"]["dev-zookeeper-2"]["state"] == "not_serving"


def test_leader_lost():
    answers = healthy(leader=1, synced=1)
    del answers[("dev-zookeeper-1", zookeeper.MNTR_PATH)], answers[("dev-zookeeper-1", zookeeper.SRVR_PATH)]
    answers[("dev-zookeeper-0", zookeeper.MNTR_PATH)] = error_json("mntr")
    answers[("dev-zookeeper-2", zookeeper.MNTR_PATH)] = error_json("mntr")
    report = observe([pod(n) for n in NAMES], answers)
    assert not report["ready"] and report["leader"] is None
    assert report["members"]["dev-zookeeper-1"]["state"] == "unreachable"
    assert "pod dev-zookeeper-1: AdminServer on port 8080 does not answer" in report["reason"]
    assert report["problems"][-1] == "no member is leader (dev-zookeeper-0 not_serving, dev-zookeeper-1 unreachable, dev-zookeeper-2 not_serving)"


def test_two_leaders_are_refused():
    answers = healthy(leader=0)
    answers[("dev-zookeeper-2", zookeeper.MNTR_PATH)] = mntr("leader", 2)
    report = observe([pod(n) for n in NAMES], answers)
    assert not report["ready"] and report["leader"] is None
    assert report["reason"] == "pods dev-zookeeper-0, dev-zookeeper-2 all report server_state leader; expected exactly one"


def test_missing_pod_is_named():
    report = observe([pod(n) for n in NAMES[:2]], healthy(leader=0, synced=1))
    assert report["members"]["dev-zookeeper-2"]["state"] == "missing"
    assert report["problems"][0] == "pod dev-zookeeper-2: pod does not exist"


def test_crashloop_pod_is_stuck_and_not_probed():
    pods = [pod(n) for n in NAMES[:2]] + [pod(NAMES[2], ready=False, waiting="CrashLoopBackOff")]
    api = FakeApi(pods, healthy(leader=0, synced=1))
    report = zookeeper.EnsembleGate(api, NS, 3, "x", NAMES).observe()
    assert report["stuck"] == ["dev-zookeeper-2"]
    assert report["problems"][0] == ("pod dev-zookeeper-2: container zookeeper is CrashLoopBackOff: "
                                     "back-off 40s restarting failed container")
    assert all(call[0] != "dev-zookeeper-2" for call in api.calls)


def test_pending_and_terminating_pods_are_not_probed():
    pods = [pod(NAMES[0], phase="Pending", ready=False, unschedulable=True), pod(NAMES[1], deleting=True), pod(NAMES[2])]
    api = FakeApi(pods, healthy(leader=2, synced=0))
    report = zookeeper.EnsembleGate(api, NS, 3, "x", NAMES).observe()
    assert {call[0] for call in api.calls} == {"dev-zookeeper-2"}
    assert report["members"]["dev-zookeeper-0"]["problem"] == "Unschedulable: 0/3 nodes are available"
    assert report["members"]["dev-zookeeper-1"]["problem"] == "terminating"
    assert report["stuck"] == ["dev-zookeeper-0"]


def test_serving_member_whose_pod_is_not_ready_yet():
    pods = [pod(NAMES[0], ready=False), pod(NAMES[1]), pod(NAMES[2])]
    report = observe(pods, healthy(leader=1))
    assert not report["ready"] and report["leader"] == "dev-zookeeper-1"
    assert report["members"]["dev-zookeeper-0"]["state"] == "pod_not_ready"
    assert report["members"]["dev-zookeeper-0"]["server_state"] == "follower"
    assert report["reason"] == "pod dev-zookeeper-0: readiness probe failing (containers not ready: zookeeper)"


def test_selector_mode_counts_pods():
    pods = [pod("zk-a-0"), pod("zk-a-1")]
    answers = {("zk-a-0", zookeeper.MNTR_PATH): mntr("leader", 1), ("zk-a-1", zookeeper.MNTR_PATH): mntr("follower")}
    report = observe(pods, answers, replicas=3, expected=None)
    assert report["problems"] == ["found 2 ZooKeeper pod(s) (zk-a-0, zk-a-1), expected 3",
                                  "leader pod zk-a-0 has 1 synced follower(s), expected 2"]
    assert observe(pods, answers, replicas=2, expected=None)["ready"]


def test_evaluate_with_no_pods_at_all():
    report = zookeeper.evaluate([], {}, 3, None)
    assert report["problems"] == ["found 0 ZooKeeper pod(s) (none), expected 3", "no member is leader (no pods)"]


# --- waiting --------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class ScriptedApi(FakeApi):
    """Each list_pods call moves to the next (pods, answers) step; the last one repeats."""

    def __init__(self, steps):
        super(ScriptedApi, self).__init__()
        self.steps = steps
        self.step = -1

    def list_pods(self, namespace, selector):
        self.step = min(self.step + 1, len(self.steps) - 1)
        pods, answers = self.steps[self.step]
        if isinstance(pods, Exception):
            raise pods
        self.answers = answers
        return pods


def gate(api, clock, stuck_grace=60):
    return zookeeper.EnsembleGate(api, NS, 3, zookeeper.selector_for("dev"), NAMES, stuck_grace=stuck_grace, clock=clock)


def test_wait_looks_every_quarter_second_and_passes_at_the_first_look_after_ready():
    electing = {(n, zookeeper.MNTR_PATH): error_json("mntr") for n in NAMES}
    steps = [([pod(n, ready=False) for n in NAMES], electing)] * 6 + [([pod(n) for n in NAMES], healthy(leader=0))]
    clock = Clock()
    report, waited = gate(ScriptedApi(steps), clock).wait(30, sleep=clock.sleep)
    assert report["ready"] and report["leader"] == "dev-zookeeper-0"
    assert clock.sleeps == [0.25] * 6
    assert waited == pytest.approx(1.5)


def test_wait_asks_the_members_again_only_when_the_pods_change_or_with_backoff():
    electing = {(n, zookeeper.MNTR_PATH): error_json("mntr") for n in NAMES}
    unready = [pod(n, ready=False) for n in NAMES]
    # 16 looks at unchanged pods (0 to 3.75 s), then the pods become Ready at 4.0 s.
    api = ScriptedApi([(unready, electing)] * 16 + [([pod(n) for n in NAMES], healthy(leader=0))])
    clock = Clock()
    asked_at = []
    proxy_get = api.proxy_get

    def recording(namespace, name, port, path):
        asked_at.append(clock.now)
        return proxy_get(namespace, name, port, path)

    api.proxy_get = recording
    report, waited = gate(api, clock).wait(30, sleep=clock.sleep)
    assert report["ready"] and waited == pytest.approx(4.0)
    # Unchanged pods: asked at 0, 0.25, 0.75, 1.75 and 3.75 s (0.25 s doubling to 2 s); the
    # look that sees them Ready asks at once.
    assert sorted(set(asked_at)) == pytest.approx([0.0, 0.25, 0.75, 1.75, 3.75, 4.0])
    assert api.step == 16


def test_wait_times_out_with_the_last_reason():
    clock = Clock()
    answers = healthy(leader=0, synced=1)
    answers[("dev-zookeeper-2", zookeeper.MNTR_PATH)] = error_json("mntr")
    with pytest.raises(NotReady) as error:
        gate(ScriptedApi([([pod(n) for n in NAMES], answers)]), clock).wait(10, sleep=clock.sleep)
    assert "pod dev-zookeeper-2: not serving requests" in str(error.value)
    assert 9 <= clock.now <= 10


def test_stuck_pod_ends_the_wait_after_the_grace():
    pods = [pod(n) for n in NAMES[:2]] + [pod(NAMES[2], ready=False, waiting="ImagePullBackOff")]
    clock = Clock()
    with pytest.raises(zookeeper.EnsembleStuck) as error:
        gate(ScriptedApi([(pods, healthy(leader=0, synced=1))]), clock, stuck_grace=5).wait(300, sleep=clock.sleep)
    assert 5 <= clock.now < 7
    assert "pod dev-zookeeper-2: container zookeeper is ImagePullBackOff" in str(error.value)
    assert error.value.report["stuck"] == ["dev-zookeeper-2"]


def test_stuck_grace_zero_fails_at_first_sight():
    pods = [pod(NAMES[0], ready=False, waiting="CrashLoopBackOff")] + [pod(n) for n in NAMES[1:]]
    clock = Clock()
    with pytest.raises(zookeeper.EnsembleStuck, match="dev-zookeeper-0: container zookeeper is CrashLoopBackOff"):
        gate(ScriptedApi([(pods, healthy(leader=1, synced=1))]), clock, stuck_grace=0).wait(300, sleep=clock.sleep)
    assert clock.now == 0


def test_a_pod_that_recovers_restarts_its_grace():
    crashing = [pod(NAMES[0], ready=False, waiting="CrashLoopBackOff")] + [pod(n) for n in NAMES[1:]]
    running = [pod(NAMES[0], ready=False)] + [pod(n) for n in NAMES[1:]]
    answers = healthy(leader=1, synced=1)
    answers[("dev-zookeeper-0", zookeeper.MNTR_PATH)] = error_json("mntr")
    # stuck for 0.5 s (looks at 0, 0.25, 0.5), running for 0.75 s, then stuck again for good
    steps = [(crashing, answers)] * 3 + [(running, answers)] * 3 + [(crashing, answers)]
    clock = Clock()
    with pytest.raises(zookeeper.EnsembleStuck):
        gate(ScriptedApi(steps), clock, stuck_grace=2).wait(300, sleep=clock.sleep)
    # the second stuck spell starts at 1.5 s and must last 2 s on its own
    assert clock.now == pytest.approx(3.5)


def test_transient_api_errors_are_waited_out():
    steps = [(ApiError("cannot reach the Kubernetes API", 0), {}), (ApiError("etcd timeout", 500), {}),
             ([pod(n) for n in NAMES], healthy(leader=0))]
    clock = Clock()
    report, _waited = gate(ScriptedApi(steps), clock).wait(30, sleep=clock.sleep)
    assert report["ready"]


def test_forbidden_is_not_waited_out():
    clock = Clock()
    with pytest.raises(ApiError, match="forbidden"):
        gate(ScriptedApi([(ApiError("pods is forbidden", 403), {})]), clock).wait(30, sleep=clock.sleep)
    assert clock.now == 0


def test_a_namespace_that_does_not_exist_has_no_members():
    api = FakeApi(list_error=ApiError('namespaces "kafka" not found', 404))
    report = zookeeper.EnsembleGate(api, NS, 3, "x", NAMES).observe()
    assert not report["ready"] and report["problems"][0] == "pod dev-zookeeper-0: pod does not exist"
