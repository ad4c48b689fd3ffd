"""How much time the safe roll's gates add on top of the pods' own restart times.

``python -m tests.bench.bench_roll [--ready-delay 2.0]`` (``make bench-roll``): kubesim runs 3
ZooKeeper and 5 Kafka pods, each Ready ``--ready-delay`` seconds after it is created, and answers
their pod proxy as a healthy ensemble (tests/integration/test_zookeeper_playbook.serve_admin)
and healthy brokers with partitions spread over them (tests/kafka_metrics). playbooks/site.yml
deploys both; a config change of both and a second site.yml run then roll all 8 pods, one at a
time. From kubesim's own clock (its request log and the times its pods became Ready):

- a pod's own restart time: its DELETE to its replacement being Ready. With one pod at a time,
  their sum is the floor no orchestrator can beat;
- a component's roll time: its first pod DELETE to its last restarted pod Ready;
- overhead: roll time - the sum of the pods' own restart times, in seconds and in percent of
  that sum. It is exactly the sum of the gaps between a pod being Ready and the next DELETE,
  each split into the wait for the roll's next poll and the requests of that poll and the pick.

It also reports the roll module task as a whole (ansible.posix.json task durations: start-up
before the first DELETE, tail after the last pod is Ready) and the module's own
``restarted[].restart_seconds``.
"""

import argparse
import bisect
import datetime
import os
import pathlib
import re
import sys
import tempfile
import time

from tests.helpers import run_playbook, write_inventory
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.kafka_metrics import serve_metrics, spread_partitions
from tests.kubesim import KubeSim

NS = "kafka"  # the namespace serve_admin routes
CLUSTER = "dev"
ROLL_TASKS = {
    "zookeeper": "streams.kafka.zookeeper : Restart outdated ZooKeeper members safely",
    "kafka": "streams.kafka.kafka : Restart outdated Kafka brokers safely",
}
CHANGE = {"zookeeper_config": {"maxClientCnxns": 100}, "kafka_config": {"log.retention.hours": 72}}


# -- measurement (pure: times in, figures out) ---------------------------------------------------

def pod_deletes(requests, namespace, prefix):
    """(time, pod) of every successful DELETE of a pod ``<prefix>-N`` of ``namespace``, by time."""
    pattern = re.compile(r"^/api/v1/namespaces/%s/pods/(%s-\d+)$" % (re.escape(namespace), re.escape(prefix)))
    out = []
    for request in requests:
        match = pattern.match(request["path"])
        if request["method"] == "DELETE" and match and 200 <= request["status"] < 300:
            out.append((request["time"], match.group(1)))
    return sorted(out)


def _first_at_or_after(times, start, limit):
    """The first of the sorted ``times`` in [start, limit], else ``limit``."""
    index = bisect.bisect_left(times, start)
    return times[index] if index < len(times) and times[index] <= limit else limit


def measure_roll(deletes, ready, request_times=(), task=None):
    """The timing of one component's roll.

    ``deletes``: (time, pod) of its pod DELETEs in order; ``ready``: pod -> the time its
    replacement became Ready; ``request_times``: when the API requests of the roll started (to
    split each gap between a pod Ready and the next DELETE into the wait for the next poll and
    the work of that poll); ``task``: (start, end) of the roll module task. One clock for all.
    Raises ValueError when a pod has no Ready time after its DELETE, or when a pod was deleted
    before the one deleted before it was Ready again (not one at a time: there is no floor).
    """
    if not deletes:
        raise ValueError("no pod was restarted")
    restarts = []
    for deleted, pod in deletes:
        up = ready.get(pod)
        if up is None or up <= deleted:
            raise ValueError("pod %s, deleted at %.3f, did not become Ready after that" % (pod, deleted))
        restarts.append({"pod": pod, "deleted": deleted, "ready": up, "own_s": up - deleted})
    for previous, following in zip(restarts, restarts[1:]):
        if following["deleted"] < previous["ready"]:
            raise ValueError("pod %s was deleted at %.3f, before pod %s was Ready again at %.3f"
                             % (following["pod"], following["deleted"], previous["pod"], previous["ready"]))
    times = sorted(request_times)
    gaps = []
    for previous, following in zip(restarts, restarts[1:]):
        poll = _first_at_or_after(times, previous["ready"], following["deleted"])
        gaps.append({"after": previous["pod"], "gap_s": following["deleted"] - previous["ready"],
                     "poll_wait_s": poll - previous["ready"], "work_s": following["deleted"] - poll})
        previous["next_delete_s"] = following["deleted"] - previous["ready"]
    own = sum(r["own_s"] for r in restarts)
    roll = restarts[-1]["ready"] - restarts[0]["deleted"]
    result = {
        "pods": len(restarts), "roll_s": roll, "own_s": own, "overhead_s": roll - own,
        "overhead_pct": 100.0 * (roll - own) / own,
        "poll_wait_s": sum(g["poll_wait_s"] for g in gaps), "work_s": sum(g["work_s"] for g in gaps),
        "restarts": restarts, "gaps": gaps,
    }
    if task is not None:
        start, end = task
        first, last = restarts[0]["deleted"], restarts[-1]["ready"]
        request = _first_at_or_after(times, start, first)
        poll = _first_at_or_after(times, last, end)
        to_end = end - first
        result.update({
            "task_s": end - start, "startup_s": first - start, "to_task_end_s": to_end,
            "module_load_s": request - start, "plan_s": first - request,
            "requests": sum(1 for t in times if start <= t <= end),
            "tail_s": end - last, "tail_poll_wait_s": poll - last, "tail_work_s": end - poll,
            "task_overhead_s": to_end - own, "task_overhead_pct": 100.0 * (to_end - own) / own,
        })
    return result


def total(results):
    """The components' figures added up (percentages of the summed own restart times)."""
    out = {}
    for key in ("pods", "roll_s", "own_s", "overhead_s", "poll_wait_s", "work_s", "task_s", "startup_s", "module_load_s",
                "plan_s", "to_task_end_s", "tail_s", "tail_poll_wait_s", "tail_work_s", "task_overhead_s", "requests"):
        if all(key in r for r in results):
            out[key] = sum(r[key] for r in results)
    out["overhead_pct"] = 100.0 * out["overhead_s"] / out["own_s"]
    if "task_overhead_s" in out:
        out["task_overhead_pct"] = 100.0 * out["task_overhead_s"] / out["own_s"]
    return out


def table(columns, rows):
    """Left-aligned columns: ``columns`` is [(header, key, format)], ``rows`` dicts."""
    cells = [[header for header, _key, _fmt in columns]]
    cells += [[fmt % row[key] for _header, key, fmt in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells)


# -- the run -----------------------------------------------------------------------------------

def task_window(report, task_name, wall_to_monotonic):
    """(start, end) of the last run of ``task_name`` in an ansible.posix.json report, on the monotonic clock."""
    window = None
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            if task["task"]["name"] == task_name:
                duration = task["task"]["duration"]
                window = tuple(wall_to_monotonic(duration[key]) for key in ("start", "end"))
    if window is None:
        raise RuntimeError("task %r did not run" % task_name)
    return window


def clock_mapping():
    """ISO UTC time (as the json callback writes it) -> this process's time.monotonic()."""
    offset = time.time() - time.monotonic()

    def convert(text):
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() - offset

    return convert


def run_site(workdir, kubeconfig, zookeeper_replicas, kafka_replicas, collections=None, **variables):
    host = {"streams_kubeconfig": kubeconfig, "streams_namespace": NS, "zookeeper_replicas": zookeeper_replicas,
            "kafka_replicas": kafka_replicas, "zookeeper_ready_timeout": 120, "kafka_ready_timeout": 120,
            "zookeeper_roll_timeout": 120, "kafka_roll_timeout": 120}
    host.update(variables)
    hosts = write_inventory(workdir / "hosts.yml", {CLUSTER: host})
    if collections:
        # Another copy of the collection (a candidate change), with its own playbooks.
        site = pathlib.Path(collections) / "ansible_collections" / "streams" / "kafka" / "playbooks" / "site.yml"
        run = run_playbook(workdir, hosts, playbook=site, timeout=900, env={"ANSIBLE_COLLECTIONS_PATH": str(collections)})
    else:
        run = run_playbook(workdir, hosts, timeout=900)
    if run.rc != 0:
        raise RuntimeError("site.yml failed:\n" + run.describe())
    return run


def bench(ready_delay, zookeeper_replicas=3, kafka_replicas=5, partitions=10, leader=2, workdir=None, collections=None):
    """Deploy, change the config of both, roll; returns the figures and the context."""
    with KubeSim(ready_delay=ready_delay).start() as sim, tempfile.TemporaryDirectory(prefix="bench-roll-") as tmp:
        workdir = pathlib.Path(workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        kubeconfig = str(sim.write_kubeconfig(workdir / "kubeconfig"))
        serve_admin(sim, cluster=CLUSTER, replicas=zookeeper_replicas, leader=leader)
        held, leads = spread_partitions("orders", partitions, kafka_replicas)
        serve_metrics(sim, NS, cluster=CLUSTER, replicas=kafka_replicas,
                      brokers=dict((b, {"held": held[b], "leads": leads[b]}) for b in range(kafka_replicas)))

        deploy = run_site(workdir, kubeconfig, zookeeper_replicas, kafka_replicas, collections)
        sim.clear_requests()
        to_monotonic = clock_mapping()
        change = run_site(workdir, kubeconfig, zookeeper_replicas, kafka_replicas, collections, **CHANGE)
        requests = sim.requests
        ready = dict((key.split("/", 1)[1], value) for key, value in sim.pod_ready_times().items() if key.startswith(NS + "/"))

    results = {}
    for component, replicas in (("zookeeper", zookeeper_replicas), ("kafka", kafka_replicas)):
        prefix = "%s-%s" % (CLUSTER, component)
        deletes = pod_deletes(requests, NS, prefix)
        if sorted(pod for _t, pod in deletes) != sorted("%s-%d" % (prefix, n) for n in range(replicas)):
            raise RuntimeError("%s: expected every pod restarted once, got %s" % (component, [pod for _t, pod in deletes]))
        window = task_window(change.report, ROLL_TASKS[component], to_monotonic)
        during = [r["time"] for r in requests if window[0] <= r["time"] <= window[1]]
        result = measure_roll(deletes, ready, during, window)
        module = change.result_of(ROLL_TASKS[component])["restarted"]
        result["module_restart_s"] = sum(r["restart_seconds"] for r in module)
        for restart in result["restarts"]:
            restart["module_restart_s"] = [r["restart_seconds"] for r in module if r["pod"] == restart["pod"]][0]
        results[component] = result
    return {"results": results, "deploy_s": deploy.seconds, "change_s": change.seconds, "requests": requests, "ready": ready,
            "first_delete_to_last_ready_s": results["kafka"]["restarts"][-1]["ready"] - results["zookeeper"]["restarts"][0]["deleted"]}


def report(outcome, ready_delay, goal):
    results = outcome["results"]
    rows = [dict(r, component=name, gaps=r["pods"] - 1) for name, r in results.items()]
    rows.append(dict(total(list(results.values())), component="total", gaps=sum(r["gaps"] for r in rows)))
    pods = []
    for result in results.values():
        start = result["restarts"][0]["deleted"]
        for restart in result["restarts"]:
            pods.append(dict(restart, at=restart["deleted"] - start, next=restart.get("next_delete_s", result["tail_s"])))
    return "\n".join([
        "roll benchmark: %d ZooKeeper + %d Kafka pods, each Ready %.1f s after kubesim creates it; %d cores, load average %.1f"
        % (results["zookeeper"]["pods"], results["kafka"]["pods"], ready_delay, os.cpu_count() or 0, os.getloadavg()[0]),
        "site.yml: deploy %.1f s; config change, which rolls every pod, %.1f s wall; first ZooKeeper DELETE -> last Kafka Ready %.1f s"
        % (outcome["deploy_s"], outcome["change_s"], outcome["first_delete_to_last_ready_s"]),
        "",
        "roll_s: first pod DELETE -> last restarted pod Ready; pods_own_s: sum over the pods of DELETE -> its replacement Ready",
        table([("component", "component", "%s"), ("pods", "pods", "%d"), ("roll_s", "roll_s", "%.2f"), ("pods_own_s", "own_s", "%.2f"),
               ("overhead_s", "overhead_s", "%.2f"), ("overhead_%", "overhead_pct", "%.1f")], rows),
        "",
        "where it goes: every gap pod Ready -> next DELETE = poll_wait (until the roll's next API request) + work (that poll, the pick)",
        table([("component", "component", "%s"), ("gaps", "gaps", "%d"), ("gap_s", "overhead_s", "%.2f"),
               ("poll_wait_s", "poll_wait_s", "%.2f"), ("work_s", "work_s", "%.2f")], rows),
        "",
        "roll module task: start-up = task start -> first DELETE (load = -> first API request, plan = -> first DELETE);",
        "to_end = first DELETE -> task end; tail = last pod Ready -> task end (poll_wait, then the last poll and the module's exit)",
        table([("component", "component", "%s"), ("task_s", "task_s", "%.2f"), ("load_s", "module_load_s", "%.2f"),
               ("plan_s", "plan_s", "%.2f"), ("to_end_s", "to_task_end_s", "%.2f"), ("tail_s", "tail_s", "%.2f"),
               ("tail_wait_s", "tail_poll_wait_s", "%.2f"), ("overhead_s", "task_overhead_s", "%.2f"),
               ("overhead_%", "task_overhead_pct", "%.1f"), ("requests", "requests", "%d")], rows),
        "",
        "per pod: own = DELETE -> Ready; next = Ready -> next DELETE (last pod: -> task end); module = restarted[].restart_seconds",
        table([("pod", "pod", "%s"), ("deleted_at_s", "at", "%.2f"), ("own_s", "own_s", "%.2f"), ("next_s", "next", "%.2f"),
               ("module_s", "module_restart_s", "%.1f")], pods),
        "",
        "goal: overhead under %g%% of the pods' own restart time: %s (zookeeper %.1f%%, kafka %.1f%%, total %.1f%%)"
        % (goal, "met" if all(r["overhead_pct"] < goal for r in rows) else "NOT met",
           results["zookeeper"]["overhead_pct"], results["kafka"]["overhead_pct"], rows[-1]["overhead_pct"]),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_roll", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--ready-delay", type=float, default=2.0, help="seconds from a pod's creation to Ready (default 2.0)")
    parser.add_argument("--zookeeper-replicas", type=int, default=3)
    parser.add_argument("--kafka-replicas", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=10, help="partitions of the topic spread over the brokers (3 replicas)")
    parser.add_argument("--goal", type=float, default=10.0, help="overhead goal, percent of the pods' own restart time")
    parser.add_argument("--workdir", help="keep the inventory and Ansible home here (default: a temporary directory)")
    parser.add_argument("--collections-path", help="benchmark the streams.kafka found under this path (ansible_collections/streams/kafka, "
                        "e.g. a copy with a candidate change) instead of this checkout")
    args = parser.parse_args(argv)
    outcome = bench(args.ready_delay, args.zookeeper_replicas, args.kafka_replicas, args.partitions, workdir=args.workdir,
                    collections=args.collections_path)
    print(report(outcome, args.ready_delay, args.goal), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
