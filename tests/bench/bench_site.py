"""What a whole ``playbooks/site.yml`` run costs, against a one-process server-side-apply baseline.

``python -m tests.bench.bench_site`` (``make bench``): one in-process kubesim, pods Ready at once
(ready delay 0), healthy applications behind its pod proxy for every component
(tests/healthy_apps.py). Every row is measured in the same run, on that kubesim:

1. site.yml for one cluster with ZooKeeper, Kafka, Connect, MirrorMaker 2 (mirroring a host of
   another inventory group, which site.yml does not deploy), Bridge and Exporter: a cold deploy,
   then a no-op re-run. Wall time, and API requests split into reads and writes (kubesim's log).
2. Baseline: the same manifests, rendered by site.yml in directory mode for a twin cluster in a
   namespace of its own, server-side applied by one Python process with the ``kubernetes``
   client (``DynamicClient.server_side_apply``, a field manager), which then GETs each
   StatefulSet and Deployment once. Wall time (the process's own start-up included, as
   ansible-playbook's is) and requests, cold and no-op.
3. The ratios site/baseline.
4. Scaling: the no-op re-run of inventories of 1, 4 and 8 clusters (``--forks 8``), each cluster
   in its own namespace of the same kubesim; time per cluster.
5. Gate latency: with a ready delay of 8 s (``--gate-ready-delay``; long enough that the gate
   is already waiting when the pods become Ready, which it is not with 3 s on two busy cores,
   where the gate would have nothing to wait for) set on the same kubesim, a
   ZooKeeper-only cluster: from its last pod becoming Ready (kubesim's clock) to the gate's last
   pod proxy request, and to the gate task's end (``ansible.posix.json`` durations).

6. Ansible's own floor: an empty play, and a play of 100 trivial ``assert`` tasks, on the same
   machine. From them, the least time any play with as many tasks as site.yml runs can take, and
   (from site.yml's CPU time) the least time 8 clusters can take on this machine's cores.

Then a profile of the one-cluster no-op run: task executions by action, module start-up (task
start to its first API request), discovery GETs (``/api``, ``/apis``, group versions), idle gaps
between requests inside tasks (sleeps, polls), and the slowest tasks.
"""

import argparse
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

from tests.bench.bench_roll import clock_mapping, table
from tests.healthy_apps import HealthyApps
from tests.helpers import PLAINTEXT_KAFKA, REPO, run_playbook
from tests.kubesim import KubeSim

SOURCE_HOST = "upstream"  # mirrored by every cluster's MirrorMaker 2; in a group site.yml does not run on
GATE_TASK = "streams.kafka.zookeeper : Wait for a leader and every follower in sync"
GOALS = {"noop_writes": 0, "noop_ratio": 3.0, "cold_ratio": 5.0, "scale_8_over_1": 3.0, "gate_latency_s": 1.0}
# Actions that run in the controller (no module shipped to the "remote" Python).
CONTROLLER_ACTIONS = {
    "ansible.builtin.set_fact", "set_fact", "ansible.builtin.assert", "assert", "ansible.builtin.debug", "debug",
    "ansible.builtin.fail", "fail", "ansible.builtin.include_tasks", "include_tasks", "ansible.builtin.include_role",
    "include_role", "ansible.builtin.import_tasks", "ansible.builtin.meta", "meta", "ansible.builtin.include_vars",
    "include_vars", "ansible.builtin.validate_argument_spec", "validate_argument_spec", "ansible.builtin.gather_facts",
}
DISCOVERY = re.compile(r"^/(api|apis)(/[^/]+)?(/v[0-9][a-z0-9]*)?/?$")


# -- measurement (pure: request logs and reports in, figures out) -------------------------------

def is_discovery(path):
    """An API discovery document: /api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION."""
    path = path.split("?", 1)[0]
    if not DISCOVERY.match(path):
        return False
    parts = path.strip("/").split("/")
    # /api/v1 is a version, but /api/<anything else> is not discovery
    return not (parts[0] == "api" and len(parts) > 2)


def count_requests(requests, start=None, end=None):
    """Requests (optionally those with ``start <= time <= end``) split into reads and writes, with
    the discovery GETs and the pod proxy requests among them. A dry-run write is a read."""
    selected = [r for r in requests if (start is None or r["time"] >= start) and (end is None or r["time"] <= end)]
    writes = sum(1 for r in selected if r["write"])
    return {
        "requests": len(selected), "reads": len(selected) - writes, "writes": writes,
        "discovery": sum(1 for r in selected if r["method"] == "GET" and is_discovery(r["path"])),
        "proxy": sum(1 for r in selected if "/proxy" in r["path"]),
    }


def ratio(numerator, denominator):
    """numerator / denominator; infinity when the denominator is 0 and the numerator is not."""
    if denominator == 0:
        return 0.0 if numerator == 0 else float("inf")
    return numerator / denominator


def compare(site, baseline):
    """Ratios site/baseline of wall time and of requests."""
    return {"time_ratio": ratio(site["seconds"], baseline["seconds"]),
            "request_ratio": ratio(site["requests"], baseline["requests"])}


def per_cluster(scaling):
    """``scaling``: {clusters: seconds} -> rows with seconds per cluster and the ratio to the smallest."""
    smallest = min(scaling)
    rows = []
    for clusters in sorted(scaling):
        seconds = scaling[clusters]
        rows.append({"clusters": clusters, "seconds": seconds, "per_cluster_s": seconds / clusters,
                     "over_smallest": ratio(seconds, scaling[smallest])})
    return rows


def gate_latency(ready_times, prefix, gate_window, requests):
    """From the last pod Ready of the pods named ``prefix``-N (``ready_times``: pod -> time) to the
    gate's last pod proxy request and to the gate task's end (``gate_window``: (start, end)).
    Raises ValueError when no pod became Ready inside the gate's window (nothing to wait for)."""
    pattern = re.compile(r"^%s-\d+$" % re.escape(prefix))
    ready = [t for pod, t in ready_times.items() if pattern.match(pod)]
    start, end = gate_window
    if not ready:
        raise ValueError("no pod %s-N became Ready" % prefix)
    last_ready = max(ready)
    if last_ready > end:
        raise ValueError("the last pod was Ready at %.3f, after the gate task (%.3f to %.3f)" % (last_ready, start, end))
    # Pods Ready before the gate started (a slow machine): the gate could have passed at its start.
    since = max(last_ready, start)
    proxy = [r["time"] for r in requests if "/proxy" in r["path"] and start <= r["time"] <= end]
    last_proxy = max(proxy) if proxy else end
    return {"last_ready": last_ready, "to_last_gate_request_s": last_proxy - since, "to_gate_end_s": end - since,
            "gate_s": end - start, "waited_s": since - start, "ready_before_gate": last_ready < start}


def task_floor(empty_s, tasks_s, tasks, site_tasks):
    """The least wall time of a play that runs ``site_tasks`` tasks, if each cost no more than a
    trivial one: an empty play took ``empty_s``, a play of ``tasks`` trivial tasks ``tasks_s``."""
    per_task = max(tasks_s - empty_s, 0.0) / tasks
    return {"empty_s": empty_s, "per_task_s": per_task, "tasks": site_tasks, "floor_s": empty_s + per_task * site_tasks}


def cpu_bound(cpu_s, cores, one_cluster_s):
    """The least wall time of work that needs ``cpu_s`` CPU seconds on ``cores`` cores, and that
    in multiples of one cluster's wall time ``one_cluster_s``."""
    least = cpu_s / cores
    return {"cpu_s": cpu_s, "cores": cores, "least_s": least, "over_one": ratio(least, one_cluster_s)}


def goals(figures):
    """(goal, measured, met) for each goal of issue 10; ``figures`` holds the measured values."""
    return [
        ("no-op writes = %d (site.yml)" % GOALS["noop_writes"], "%d" % figures["noop_writes"],
         figures["noop_writes"] <= GOALS["noop_writes"]),
        ("no-op ratio <= %g" % GOALS["noop_ratio"], "%.2f" % figures["noop_ratio"], figures["noop_ratio"] <= GOALS["noop_ratio"]),
        ("cold ratio <= %g" % GOALS["cold_ratio"], "%.2f" % figures["cold_ratio"], figures["cold_ratio"] <= GOALS["cold_ratio"]),
        ("8 clusters <= %gx one cluster" % GOALS["scale_8_over_1"], "%.2f" % figures["scale_8_over_1"],
         figures["scale_8_over_1"] <= GOALS["scale_8_over_1"]),
        ("gate latency <= %g s" % GOALS["gate_latency_s"], "%.2f" % figures["gate_latency_s"],
         figures["gate_latency_s"] <= GOALS["gate_latency_s"]),
    ]


def task_windows(report, to_monotonic):
    """[(task name, action, start, end, hosts that ran it)] of an ansible.posix.json report; a host
    that skipped the task does not count, a task no host ran is left out."""
    out = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            ran = [r for r in task.get("hosts", {}).values() if not r.get("skipped")]
            if not ran:
                continue
            duration = task["task"]["duration"]
            if "end" not in duration:
                continue
            out.append((task["task"]["name"], ran[0].get("action", "?"), to_monotonic(duration["start"]),
                        to_monotonic(duration["end"]), len(ran)))
    return out


def profile(windows, requests, idle_gap=0.25):
    """Where a run's time goes, from its task windows (see task_windows) and its request log.

    Module tasks (actions not run by the controller alone): their count, summed time, start-up
    (task start to its first API request: AnsiballZ, imports, client set-up) and requests;
    discovery GETs per module task; idle gaps longer than ``idle_gap`` between consecutive API
    requests inside a task (sleeps, polls). Task windows must not overlap (one host)."""
    times = sorted(r["time"] for r in requests)
    module = []
    for name, action, start, end, _hosts in windows:
        inside = [t for t in times if start <= t <= end]
        entry = {"task": name, "action": action, "seconds": end - start, "requests": len(inside),
                 "startup_s": (inside[0] - start) if inside else end - start,
                 "idle_s": sum(b - a for a, b in zip(inside, inside[1:]) if b - a > idle_gap),
                 "module": action not in CONTROLLER_ACTIONS}
        entry["discovery"] = count_requests(requests, start, end)["discovery"]
        module.append(entry)
    mods = [m for m in module if m["module"]]
    with_requests = [m for m in mods if m["requests"]]
    by_action = {}
    for m in module:
        slot = by_action.setdefault(m["action"], {"action": m["action"], "tasks": 0, "seconds": 0.0, "requests": 0})
        slot["tasks"] += 1
        slot["seconds"] += m["seconds"]
        slot["requests"] += m["requests"]
    return {
        "tasks": len(module), "task_s": sum(m["seconds"] for m in module),
        "module_tasks": len(mods), "module_s": sum(m["seconds"] for m in mods),
        "controller_tasks": len(module) - len(mods), "controller_s": sum(m["seconds"] for m in module if not m["module"]),
        "api_tasks": len(with_requests), "startup_s": sum(m["startup_s"] for m in with_requests),
        "startup_median_s": statistics.median([m["startup_s"] for m in with_requests]) if with_requests else 0.0,
        "discovery": sum(m["discovery"] for m in module), "idle_s": sum(m["idle_s"] for m in module),
        "by_action": sorted(by_action.values(), key=lambda a: -a["seconds"]),
        "slowest": sorted(module, key=lambda m: -m["seconds"])[:8],
    }


# -- the runs -------------------------------------------------------------------------------------

def cluster_vars(kubeconfig, name, **extra):
    variables = {
        "streams_kubeconfig": kubeconfig, "streams_namespace": "bench-" + name,
        "connect_enabled": True, "bridge_enabled": True, "exporter_enabled": True,
        "mirrormaker_sources": [SOURCE_HOST],
    }
    for component in ("zookeeper", "kafka", "connect", "mirrormaker", "bridge", "exporter"):
        variables[component + "_ready_timeout"] = 120
    variables.update(extra)
    return variables


def write_inventory(path, kubeconfig, clusters, **extra):
    """``clusters``: names (namespace bench-NAME), each with all six components; MirrorMaker 2
    mirrors ``upstream``, a host of the group ``mirror_sources`` that site.yml does not deploy (a
    plaintext one; the clusters themselves have the secure defaults)."""
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
        "children": {
            "kafka_clusters": {"hosts": {name: cluster_vars(kubeconfig, name, **extra) for name in clusters}},
            # plaintext, without the ACL authorizer: no kafka role issues its certificates here
            "mirror_sources": {"hosts": {SOURCE_HOST: dict(PLAINTEXT_KAFKA, streams_kubeconfig=kubeconfig,
                                                           streams_namespace="bench-" + SOURCE_HOST)}},
        }}}
    path.write_text(yaml.safe_dump(inventory, default_flow_style=False))
    return path


def children_cpu():
    """CPU seconds (user + system) of this process's finished children so far. kubesim runs in
    this process, so a child's figure is Ansible's (or the baseline's) work alone."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def site(sim, workdir, inventory, forks=8):
    """One site.yml run: its wall and CPU time, its requests counted, the run, its requests."""
    sim.clear_requests()
    to_monotonic = clock_mapping()
    cpu = children_cpu()
    run = run_playbook(workdir, inventory, timeout=1800, args=["--forks", str(forks)])
    cpu = children_cpu() - cpu
    if run.rc != 0:
        raise RuntimeError("site.yml failed:\n" + run.describe())
    requests = sim.requests
    return dict(count_requests(requests), seconds=run.seconds, cpu_s=cpu, run=run, log=requests, to_monotonic=to_monotonic)


def ansible_floor(workdir, tasks=100):
    """Wall times of an empty play and of a play of ``tasks`` trivial asserts, on localhost."""
    inventory = workdir / "hosts-floor.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}))
    seconds = []
    for count in (0, tasks):
        playbook = workdir / ("floor-%d.yml" % count)
        playbook.write_text(yaml.safe_dump([{
            "name": "Floor", "hosts": "localhost", "gather_facts": False, "vars": {"x": 1},
            "tasks": [{"name": "Check %d" % n, "ansible.builtin.assert": {"that": ["x | int > 0"], "quiet": True}}
                      for n in range(count)]}]))
        run = run_playbook(workdir, inventory, playbook=playbook, timeout=600)
        if run.rc != 0:
            raise RuntimeError("the floor play failed:\n" + run.describe())
        seconds.append(run.seconds)
    return {"empty_s": seconds[0], "tasks_s": seconds[1], "tasks": tasks}


def baseline_apply(kubeconfig, directory, field_manager="bench-baseline"):
    """Server-side apply every manifest under ``directory`` (files in name order), then GET each
    StatefulSet and Deployment once. Runs in its own process (see main's --baseline-apply)."""
    from kubernetes import config, dynamic  # pylint: disable=import-outside-toplevel

    client = dynamic.DynamicClient(config.new_client_from_config(config_file=kubeconfig))
    workloads = []
    for path in sorted(pathlib.Path(directory).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            resource = client.resources.get(api_version=doc["apiVersion"], kind=doc["kind"])
            client.server_side_apply(resource, body=doc, name=doc["metadata"]["name"],
                                     namespace=doc["metadata"].get("namespace"), field_manager=field_manager,
                                     force_conflicts=True)
            if doc["kind"] in ("StatefulSet", "Deployment"):
                workloads.append((resource, doc["metadata"]["name"], doc["metadata"].get("namespace")))
    for resource, name, namespace in workloads:
        resource.get(name=name, namespace=namespace)
    return len(workloads)


def baseline(sim, kubeconfig, directory):
    sim.clear_requests()
    start, cpu = time.monotonic(), children_cpu()
    proc = subprocess.run([sys.executable, "-m", "tests.bench.bench_site", "--baseline-apply", str(directory),
                           "--kubeconfig", kubeconfig], cwd=REPO, capture_output=True, text=True, check=False, timeout=600)
    seconds, cpu = time.monotonic() - start, children_cpu() - cpu
    if proc.returncode != 0:
        raise RuntimeError("baseline apply failed:\n" + proc.stdout[-3000:] + proc.stderr[-3000:])
    return dict(count_requests(sim.requests), seconds=seconds, cpu_s=cpu)


def bench_gate(gate_ready_delay=8.0, forks=8, workdir=None, log=print):
    """The gate latency row alone (and the profile of that ZooKeeper-only cold run)."""
    with KubeSim(ready_delay=gate_ready_delay).start() as sim, tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        workdir = pathlib.Path(workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        kubeconfig = str(sim.write_kubeconfig(workdir / "kubeconfig"))
        HealthyApps(sim, poll=0.1).start()
        inventory = write_inventory(workdir / "hosts-g1.yml", kubeconfig, ["g1"], kafka_enabled=False, connect_enabled=False,
                                    bridge_enabled=False, exporter_enabled=False, mirrormaker_enabled=False, mirrormaker_sources=[])
        log("gate latency: ZooKeeper only, ready delay %.1f s ..." % gate_ready_delay)
        run = site(sim, workdir, inventory, forks)
        ready = dict((key.split("/", 1)[1], value) for key, value in sim.pod_ready_times().items() if key.startswith("bench-g1/"))
    windows = task_windows(run["run"].report, run["to_monotonic"])
    gate = [w for w in windows if w[0] == GATE_TASK]
    if not gate:
        raise RuntimeError("the gate task %r did not run" % GATE_TASK)
    out = gate_latency(ready, "g1-zookeeper", gate[-1][2:4], run["log"])
    out.update(ready_delay=gate_ready_delay, seconds=run["seconds"], counts=count_requests(run["log"]), profile=profile(windows, run["log"]))
    return out


def bench(scale=(1, 4, 8), gate_ready_delay=8.0, forks=8, workdir=None, log=print):
    figures = {}
    with KubeSim(ready_delay=0.0).start() as sim, tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        workdir = pathlib.Path(workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        kubeconfig = str(sim.write_kubeconfig(workdir / "kubeconfig"))
        HealthyApps(sim, poll=0.1).start()
        clusters = ["c%d" % n for n in range(1, max(scale) + 1)]

        one = write_inventory(workdir / "hosts-1.yml", kubeconfig, clusters[:1])
        log("site.yml, 1 cluster: cold deploy ...")
        figures["site_cold"] = site(sim, workdir, one, forks)
        log("  %.1f s; no-op re-run ..." % figures["site_cold"]["seconds"])
        figures["site_noop"] = site(sim, workdir, one, forks)
        log("  %.1f s" % figures["site_noop"]["seconds"])

        # The baseline's manifests: site.yml in directory mode, for a twin cluster b1.
        manifests = workdir / "manifests"
        twin = write_inventory(workdir / "hosts-b1.yml", kubeconfig, ["b1"], streams_deploy_to="directory",
                               streams_manifest_dir=str(manifests))
        run = run_playbook(workdir, twin, timeout=600)
        if run.rc != 0:
            raise RuntimeError("directory render failed:\n" + run.describe())
        files = sorted(p.name for p in (manifests / "b1").glob("*.yaml"))
        log("baseline: server-side apply of %s ..." % ", ".join(files))
        figures["files"] = files
        figures["base_cold"] = baseline(sim, kubeconfig, manifests / "b1")
        figures["base_noop"] = baseline(sim, kubeconfig, manifests / "b1")
        log("  cold %.2f s, no-op %.2f s" % (figures["base_cold"]["seconds"], figures["base_noop"]["seconds"]))

        scaling = {1: figures["site_noop"]["seconds"]}
        bigger = [n for n in sorted(scale) if n > 1]
        if bigger:
            largest = write_inventory(workdir / ("hosts-%d.yml" % bigger[-1]), kubeconfig, clusters)
            log("site.yml, %d clusters: cold deploy of clusters 2-%d ..." % (len(clusters), len(clusters)))
            figures["scale_cold"] = site(sim, workdir, largest, forks)
            log("  %.1f s" % figures["scale_cold"]["seconds"])
            for n in bigger:
                inventory = write_inventory(workdir / ("hosts-%d.yml" % n), kubeconfig, clusters[:n])
                log("site.yml, %d clusters: no-op re-run ..." % n)
                figures["scale_noop_%d" % n] = site(sim, workdir, inventory, forks)
                scaling[n] = figures["scale_noop_%d" % n]["seconds"]
                log("  %.1f s" % scaling[n])
        figures["scaling"] = scaling

        # Gate latency: a ZooKeeper-only cluster whose pods are Ready gate_ready_delay s after creation.
        sim.set_ready_delay(gate_ready_delay)
        gate_inventory = write_inventory(workdir / "hosts-g1.yml", kubeconfig, ["g1"], kafka_enabled=False, connect_enabled=False,
                                         bridge_enabled=False, exporter_enabled=False, mirrormaker_enabled=False,
                                         mirrormaker_sources=[])
        log("gate latency: ZooKeeper only, ready delay %.1f s ..." % gate_ready_delay)
        gate_run = site(sim, workdir, gate_inventory, forks)
        sim.set_ready_delay(0.0)
        ready = dict((key.split("/", 1)[1], value) for key, value in sim.pod_ready_times().items()
                     if key.startswith("bench-g1/"))
        windows = [w for w in task_windows(gate_run["run"].report, gate_run["to_monotonic"]) if w[0] == GATE_TASK]
        if not windows:
            raise RuntimeError("the gate task %r did not run" % GATE_TASK)
        figures["gate"] = gate_latency(ready, "g1-zookeeper", windows[-1][2:4], gate_run["log"])
        figures["gate"]["ready_delay"] = gate_ready_delay

        log("ansible-playbook alone: an empty play, and 100 trivial tasks ...")
        figures["floor"] = ansible_floor(workdir)

        noop = figures["site_noop"]
        figures["profile"] = profile(task_windows(noop["run"].report, noop["to_monotonic"]), noop["log"])
        cold = figures["site_cold"]
        figures["profile_cold"] = profile(task_windows(cold["run"].report, cold["to_monotonic"]), cold["log"])
    return figures


def floor_lines(figures):
    """What Ansible itself, and the machine's cores, leave for the ratio goals."""
    noop, bnoop, floor = figures["site_noop"], figures["base_noop"], figures["floor"]
    least = task_floor(floor["empty_s"], floor["tasks_s"], floor["tasks"], figures["profile"]["tasks"])
    lines = [
        "ansible-playbook alone: an empty play %.2f s; a trivial task %.1f ms more (%d asserts: %.2f s). A play of site.yml's "
        "%d no-op task executions takes at least %.1f s, %.1fx the baseline no-op"
        % (least["empty_s"], least["per_task_s"] * 1000, floor["tasks"], floor["tasks_s"], least["tasks"], least["floor_s"],
           ratio(least["floor_s"], bnoop["seconds"])),
    ]
    largest = max(figures["scaling"])
    if largest > 1:
        run = figures["scale_noop_%d" % largest]
        bound = cpu_bound(run["cpu_s"], os.cpu_count() or 1, noop["seconds"])
        lines.append("CPU: one cluster's no-op %.1f s in %.1f s wall; %d clusters' no-op %.1f s, which %d cores cannot do in less than "
                     "%.1f s, %.2fx one cluster (measured: %.1f s)"
                     % (noop["cpu_s"], noop["seconds"], largest, bound["cpu_s"], bound["cores"], bound["least_s"], bound["over_one"],
                        run["seconds"]))
    return lines


def report(figures):
    cold, noop, bcold, bnoop = figures["site_cold"], figures["site_noop"], figures["base_cold"], figures["base_noop"]
    rows = [
        dict(cold, what="site.yml, 1 cluster, cold"), dict(noop, what="site.yml, 1 cluster, no-op"),
        dict(bcold, what="baseline SSA, cold"), dict(bnoop, what="baseline SSA, no-op"),
    ]
    for n in sorted(figures["scaling"]):
        key = "scale_noop_%d" % n
        if key in figures:
            rows.append(dict(figures[key], what="site.yml, %d clusters, no-op" % n))
    if "scale_cold" in figures:
        rows.append(dict(figures["scale_cold"], what="site.yml, %d clusters (1 deployed), cold" % max(figures["scaling"])))
    cold_ratio, noop_ratio = compare(cold, bcold), compare(noop, bnoop)
    scale_rows = per_cluster(figures["scaling"])
    gate = figures["gate"]
    measured = {"noop_writes": noop["writes"], "noop_ratio": noop_ratio["time_ratio"], "cold_ratio": cold_ratio["time_ratio"],
                "scale_8_over_1": scale_rows[-1]["over_smallest"], "gate_latency_s": gate["to_gate_end_s"]}
    prof = figures["profile"]
    lines = [
        "site benchmark: one kubesim, pods Ready at once, healthy apps; %d cores, load average %.2f %.2f %.2f"
        % ((os.cpu_count() or 0,) + os.getloadavg()),
        "",
        table([("run", "what", "%s"), ("wall_s", "seconds", "%.2f"), ("cpu_s", "cpu_s", "%.2f"), ("requests", "requests", "%d"), ("reads", "reads", "%d"),
               ("writes", "writes", "%d"), ("discovery", "discovery", "%d"), ("proxy", "proxy", "%d")], rows),
        "",
        "site/baseline: cold %.2fx wall, %.2fx requests; no-op %.2fx wall, %.2fx requests (baseline: %s)"
        % (cold_ratio["time_ratio"], cold_ratio["request_ratio"], noop_ratio["time_ratio"], noop_ratio["request_ratio"],
           ", ".join(figures["files"])),
        "",
        "scaling, no-op re-run, --forks 8, each cluster its own namespace:",
        table([("clusters", "clusters", "%d"), ("wall_s", "seconds", "%.2f"), ("per_cluster_s", "per_cluster_s", "%.2f"),
               ("x_one_cluster", "over_smallest", "%.2f")], scale_rows),
        "",
        "gate latency (ZooKeeper, ready delay %.1f s): last pod Ready -> last gate proxy request %.2f s, -> gate task end %.2f s "
        "(gate task %.2f s, of which %.2f s waiting for the pods)"
        % (gate["ready_delay"], gate["to_last_gate_request_s"], gate["to_gate_end_s"], gate["gate_s"], gate["waited_s"]),
        "",
    ] + floor_lines(figures) + [
        "",
        table([("goal", "goal", "%s"), ("measured", "measured", "%s"), ("", "met", "%s")],
              [{"goal": g, "measured": m, "met": "met" if ok else "MISSED"} for g, m, ok in goals(measured)]),
    ]
    for title, prof in (("no-op", figures["profile"]), ("cold", figures["profile_cold"])):
        lines += [
            "",
            "profile, 1 cluster %s: %d task executions %.1f s (module tasks %d, %.1f s; controller-only %d, %.1f s); "
            "%d tasks made API requests: start-up to first request %.1f s in all (median %.2f s); discovery GETs %d; "
            "idle gaps > 0.25 s between requests inside tasks %.1f s"
            % (title, prof["tasks"], prof["task_s"], prof["module_tasks"], prof["module_s"], prof["controller_tasks"],
               prof["controller_s"], prof["api_tasks"], prof["startup_s"], prof["startup_median_s"], prof["discovery"],
               prof["idle_s"]),
            table([("action", "action", "%s"), ("tasks", "tasks", "%d"), ("seconds", "seconds", "%.1f"),
                   ("requests", "requests", "%d")], prof["by_action"][:10]),
            table([("slowest task", "task", "%s"), ("seconds", "seconds", "%.2f"), ("startup_s", "startup_s", "%.2f"),
                   ("requests", "requests", "%d"), ("discovery", "discovery", "%d"), ("idle_s", "idle_s", "%.2f")],
                  prof["slowest"]),
        ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_site", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--scale", default="1,4,8", help="cluster counts of the scaling rows (default 1,4,8)")
    parser.add_argument("--gate-ready-delay", type=float, default=8.0, help="ready delay of the gate latency run (default 8)")
    parser.add_argument("--forks", type=int, default=8)
    parser.add_argument("--workdir", help="keep inventories, manifests and Ansible home here (default: a temporary directory)")
    parser.add_argument("--gate-only", action="store_true", help="measure the gate latency row alone")
    parser.add_argument("--baseline-apply", metavar="DIR", help=argparse.SUPPRESS)
    parser.add_argument("--kubeconfig", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_apply:
        baseline_apply(args.kubeconfig, args.baseline_apply)
        return 0
    if args.gate_only:
        gate = bench_gate(args.gate_ready_delay, args.forks, args.workdir, log=lambda text: print(text, file=sys.stderr, flush=True))
        prof = gate.pop("profile")
        print("load average %.2f %.2f %.2f" % os.getloadavg())
        print("gate latency (ZooKeeper, ready delay %.1f s): last pod Ready -> last gate proxy request %.2f s, -> gate task end %.2f s "
              "(gate task %.2f s, of which %.2f s waiting for the pods); run %.1f s, %s"
              % (gate["ready_delay"], gate["to_last_gate_request_s"], gate["to_gate_end_s"], gate["gate_s"], gate["waited_s"],
                 gate["seconds"], gate["counts"]))
        print("profile: %s" % dict((k, v) for k, v in prof.items() if k not in ("by_action", "slowest")))
        print(table([("action", "action", "%s"), ("tasks", "tasks", "%d"), ("seconds", "seconds", "%.1f"),
                     ("requests", "requests", "%d")], prof["by_action"][:12]))
        print(table([("slowest task", "task", "%s"), ("seconds", "seconds", "%.2f"), ("startup_s", "startup_s", "%.2f"),
                     ("requests", "requests", "%d"), ("discovery", "discovery", "%d"), ("idle_s", "idle_s", "%.2f")], prof["slowest"]))
        return 0
    scale = tuple(sorted({1} | {int(n) for n in args.scale.split(",") if n.strip()}))
    figures = bench(scale, args.gate_ready_delay, args.forks, args.workdir, log=lambda text: print(text, file=sys.stderr, flush=True))
    print(report(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
