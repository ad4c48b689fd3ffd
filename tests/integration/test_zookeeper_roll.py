"""Rolling restarts of ZooKeeper against kubesim: order, one at a time, resume, stuck first."""

import threading

import pytest

from tests.helpers import run_playbook
from tests.integration.test_zookeeper_playbook import NS, fake_admin_server, inventory, serve_admin

ROLL = "streams.kafka.zookeeper : Restart outdated ZooKeeper members safely"
LEADER = 1


def deletes(kubesim):
    """(time, pod) of every pod delete, in order."""
    return [(r["time"], r["path"].rsplit("/", 1)[1]) for r in kubesim.requests
            if r["method"] == "DELETE" and "/pods/" in r["path"]]


def lost_after_restart(kubesim, pod):
    """From its next restart on, `pod`'s AdminServer answers like a member outside the quorum."""
    first_uid = kubesim.get("v1", "Pod", NS, pod)["metadata"]["uid"]
    healthy = fake_admin_server(pod, 3, LEADER)

    def handler(method, path, query, body):
        if kubesim.get("v1", "Pod", NS, pod)["metadata"]["uid"] != first_uid and path == "/commands/mntr":
            return 500, {"Content-Type": "application/json"}, b'{"error": "This ZooKeeper instance is not currently serving requests"}'
        return healthy(method, path, query, body)

    kubesim.route_proxy_handler(NS, pod, 8080, handler)


def deploy(kubesim, kubeconfig, tmp_path, **variables):
    serve_admin(kubesim, leader=LEADER)
    hosts = inventory(tmp_path, kubeconfig, **dict({"zookeeper_roll_timeout": 20}, **variables))
    first = run_playbook(tmp_path, hosts)
    assert first.rc == 0, first.describe()
    assert first.result_of(ROLL)["restarted"] == []
    return hosts


def change_config(tmp_path, kubeconfig, **variables):
    variables = dict({"zookeeper_roll_timeout": 20, "zookeeper_config": {"maxClientCnxns": 100}}, **variables)
    return inventory(tmp_path, kubeconfig, **variables)


@pytest.mark.parametrize("kubesim", [0.5], indirect=True)
def test_config_change_rolls_followers_first_one_at_a_time(kubesim, kubeconfig, tmp_path):
    deploy(kubesim, kubeconfig, tmp_path)
    kubesim.clear_requests()

    run = run_playbook(tmp_path, change_config(tmp_path, kubeconfig))
    assert run.rc == 0, run.describe()
    order = [pod for _t, pod in deletes(kubesim)]
    assert order == ["dev-zookeeper-0", "dev-zookeeper-2", "dev-zookeeper-1"]
    assert [r["pod"] for r in run.result_of(ROLL)["restarted"]] == order

    # each delete comes only after the pod deleted before it was Ready again
    ready = kubesim.pod_ready_times()
    times = deletes(kubesim)
    for (_t, previous), (later, _pod) in zip(times, times[1:]):
        assert ready[NS + "/" + previous] < later, (previous, ready[NS + "/" + previous], later)

    kubesim.clear_requests()
    again = run_playbook(tmp_path, change_config(tmp_path, kubeconfig))
    assert again.rc == 0, again.describe()
    assert deletes(kubesim) == [] and kubesim.writes() == []


def test_check_mode_plans_the_rest_of_an_interrupted_roll(kubesim, kubeconfig, tmp_path):
    deploy(kubesim, kubeconfig, tmp_path)
    lost_after_restart(kubesim, "dev-zookeeper-0")
    hosts = change_config(tmp_path, kubeconfig, zookeeper_roll_timeout=3)
    assert run_playbook(tmp_path, hosts).rc != 0
    assert [pod for _t, pod in deletes(kubesim)] == ["dev-zookeeper-0"]

    kubesim.clear_requests()
    run = run_playbook(tmp_path, hosts, check=True)
    assert run.rc == 0, run.describe()
    plan = run.result_of(ROLL)
    assert plan["planned"] == ["dev-zookeeper-2", "dev-zookeeper-1"] and plan["restarted"] == []
    assert plan["changed"] is True
    assert deletes(kubesim) == [] and kubesim.writes() == []


def test_interrupted_roll_resumes_without_restarting_a_pod_twice(kubesim, kubeconfig, tmp_path):
    deploy(kubesim, kubeconfig, tmp_path)
    # the second member restarted will not rejoin the quorum: the roll stops there
    lost_after_restart(kubesim, "dev-zookeeper-2")
    kubesim.clear_requests()
    run = run_playbook(tmp_path, change_config(tmp_path, kubeconfig, zookeeper_roll_timeout=4))
    assert run.rc != 0
    msg = [m for task, _h, m in run.failures() if task == ROLL][0]
    assert "dev-zookeeper-2 did not come back ready" in msg and "mntr answered 500" in msg, msg
    assert [pod for _t, pod in deletes(kubesim)] == ["dev-zookeeper-0", "dev-zookeeper-2"]

    serve_admin(kubesim, leader=LEADER)
    kubesim.clear_requests()
    resumed = run_playbook(tmp_path, change_config(tmp_path, kubeconfig))
    assert resumed.rc == 0, resumed.describe()
    assert [pod for _t, pod in deletes(kubesim)] == ["dev-zookeeper-1"]


def test_stuck_outdated_pod_is_rolled_first(kubesim, kubeconfig, tmp_path):
    deploy(kubesim, kubeconfig, tmp_path)
    kubesim.set_pod_behaviour(NS, r"^dev-zookeeper-2$", "crashloop")
    kubesim.clear_requests()
    run = run_playbook(tmp_path, change_config(tmp_path, kubeconfig, zookeeper_roll_timeout=3, zookeeper_ready_stuck_grace=600))
    assert run.rc != 0
    # the crash-looping member went first, although the ensemble was not healthy
    assert [pod for _t, pod in deletes(kubesim)][0] == "dev-zookeeper-2"

    kubesim.clear_pod_behaviours()
    fixed = run_playbook(tmp_path, change_config(tmp_path, kubeconfig))
    assert fixed.rc == 0, fixed.describe()


@pytest.mark.parametrize("kubesim", [0.3], indirect=True)
def test_ensemble_grows_and_shrinks_one_member_at_a_time(kubesim, kubeconfig, tmp_path):
    deploy(kubesim, kubeconfig, tmp_path)
    serve_admin(kubesim, replicas=5, leader=LEADER)
    sizes = []

    def watch():
        sts = kubesim.get("apps/v1", "StatefulSet", NS, "dev-zookeeper")
        if sts and (not sizes or sizes[-1] != sts["spec"]["replicas"]):
            sizes.append(sts["spec"]["replicas"])
        if not stop:
            timer = threading.Timer(0.05, watch)
            timer.daemon = True
            timer.start()

    stop = []
    watch()
    kubesim.clear_requests()
    grown = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, zookeeper_replicas=5, zookeeper_roll_timeout=30))
    assert grown.rc == 0, grown.describe()
    assert sizes == [3, 4, 5], sizes
    steps = [[r["pod"] for r in result["restarted"]] for task, _h, result in grown.results() if task == ROLL]
    # step 4: the three old members, leader last; step 5: the four members of step 4, leader last
    assert steps == [["dev-zookeeper-0", "dev-zookeeper-2", "dev-zookeeper-1"],
                     ["dev-zookeeper-0", "dev-zookeeper-2", "dev-zookeeper-3", "dev-zookeeper-1"]], steps
    assert "server.5=" in kubesim.get("v1", "ConfigMap", NS, "dev-zookeeper-config")["data"]["zoo.cfg"]

    shrunk = run_playbook(tmp_path, inventory(tmp_path, kubeconfig, zookeeper_replicas=3, zookeeper_roll_timeout=30))
    stop.append(True)
    assert shrunk.rc == 0, shrunk.describe()
    assert sizes == [3, 4, 5, 4, 3], sizes
    assert "server.4=" not in kubesim.get("v1", "ConfigMap", NS, "dev-zookeeper-config")["data"]["zoo.cfg"]
    # the claims of the members that went stay
    claims = {c["metadata"]["name"] for c in kubesim.objects("v1", "PersistentVolumeClaim", NS)}
    assert {"data-dev-zookeeper-3", "data-dev-zookeeper-4"} <= claims, claims
