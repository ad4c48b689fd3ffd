"""What the API fault and API loss tests share: one kubesim per inventory host, site.yml with
ZooKeeper and Kafka on all of them in one ansible-playbook run, and the state each is left in.

Every host deploys the same cluster ("dev" in namespace kafka) to its own kubesim, so a host
that ran into faults or lost its API can be compared object by object with one that did not.
"""

from tests.helpers import run_playbook, write_inventory
from tests.integration.test_zookeeper_playbook import serve_admin
from tests.kafka_metrics import serve_metrics
from tests.kubesim import KubeSim

NS = "kafka"
CLUSTER = "dev"
# The requests of our modules (k8s_api sets it); kubernetes.core's own modules (the preflight's
# namespace lookup, the status report's reads) send the kubernetes client's default, and do not retry.
KAFKA_APPLY = "streams.kafka.common : Apply the objects of kafka"
# Fields the server sets, which differ between two clusters given the same objects.
SERVER_META = ("uid", "resourceVersion", "creationTimestamp", "managedFields")


class Target:
    """One inventory host's Kubernetes API: a started kubesim answering ZooKeeper's AdminServer
    and the brokers' metrics through the pod proxy as a healthy cluster does."""

    def __init__(self, name, tmp_path):
        self.name = name
        self.sim = KubeSim().start()
        serve_admin(self.sim, cluster=CLUSTER)
        serve_metrics(self.sim, NS, cluster=CLUSTER)
        self.kubeconfig = self.sim.write_kubeconfig(str(tmp_path / ("%s.kubeconfig" % name)))

    def host_vars(self):
        return {"streams_kubeconfig": self.kubeconfig, "streams_namespace": NS, "streams_cluster_name": CLUSTER,
                "zookeeper_ready_timeout": 60, "kafka_ready_timeout": 60}

    def close(self):
        self.sim.stop()


def run_site(tmp_path, targets, limit=None):
    """site.yml on every target's host (or those named in `limit`), all in one run."""
    inventory = write_inventory(tmp_path / "hosts.yml", {t.name: t.host_vars() for t in targets})
    args = ["--forks", str(len(targets))]
    if limit:
        args += ["--limit", ",".join(limit)]
    return run_playbook(tmp_path, inventory, args=args, timeout=900)


def is_kafka(entry):
    """Whether a request log entry concerns one of the Kafka objects (a create names it in its body)."""
    return "/%s-kafka" % CLUSTER in entry["path"] or (entry["name"] or "").startswith("%s-kafka" % CLUSTER)


# Each host generates its own CAs and certificates: their values, and the hash of them on the
# pod templates (hence the pods' revision), differ from host to host by design.
RANDOM_ANNOTATIONS = ("streams.kafka/secrets-hash", "kubectl.kubernetes.io/last-applied-configuration")


def _without(mapping, keys):
    return dict((k, v) for k, v in (mapping or {}).items() if k not in keys)


def _normalised(obj):
    obj = dict(obj)
    obj.pop("status", None)
    if obj["kind"] == "Secret":
        obj["data"] = dict((key, "<generated>") for key in obj.get("data") or {})
    template = (obj.get("spec") or {}).get("template")
    if template:
        template_meta = dict(template.get("metadata") or {})
        template_meta["annotations"] = _without(template_meta.get("annotations"), RANDOM_ANNOTATIONS)
        obj["spec"] = dict(obj["spec"], template=dict(template, metadata=template_meta))
    if obj["kind"] == "PersistentVolumeClaim":
        # the bound volume's name comes from the claim's uid
        obj["spec"] = dict((k, v) for k, v in obj["spec"].items() if k != "volumeName")
    meta = dict((k, v) for k, v in obj["metadata"].items() if k not in SERVER_META)
    meta["annotations"] = _without(meta.get("annotations"), RANDOM_ANNOTATIONS)
    meta["labels"] = _without(meta.get("labels"), ("controller-revision-hash",))
    if meta.get("ownerReferences"):
        meta["ownerReferences"] = [dict((k, v) for k, v in ref.items() if k != "uid") for ref in meta["ownerReferences"]]
    obj["metadata"] = meta
    return obj


def end_state(sim):
    """{(kind, namespace, name): object} of everything stored, without server bookkeeping and
    status (Events, which say when things happened, left out)."""
    state = {}
    for obj in sim.snapshot():
        if obj["kind"] == "Event":
            continue
        key = (obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        assert key not in state, key
        state[key] = _normalised(obj)
    return state


def state_difference(actual, expected):
    """What differs between two end states, in words (empty when they are equal)."""
    problems = []
    for key in sorted(set(expected) - set(actual)):
        problems.append("missing %s %s/%s" % key)
    for key in sorted(set(actual) - set(expected)):
        problems.append("extra %s %s/%s" % key)
    for key in sorted(set(actual) & set(expected)):
        if actual[key] != expected[key]:
            problems.append("%s %s/%s differs: %r != %r" % (key + (actual[key], expected[key])))
    return problems


def created_twice(sim):
    """Names that more than one POST created (201): a duplicate, or a create after a delete."""
    created = {}
    for entry in sim.requests:
        if entry["method"] == "POST" and entry["status"] == 201 and not entry["dry_run"]:
            key = (entry["path"], entry["name"])
            created[key] = created.get(key, 0) + 1
    return sorted(key for key, count in created.items() if count > 1)


# Seeded random faults per host (see tests/kubesim faults.RandomFaults). Only our modules'
# requests are eligible; the seeds give a handful of faults on reads, writes and discovery.
FAULTS = {
    "faults": {"rate": 0.1, "seed": 7, "statuses": (500, 503, 429)},
    "write-faults": {"rate": 0.3, "seed": 83, "statuses": (500, 503, 429), "writes_only": True},
}
# The host whose API stops right after answering its first Kafka write, and stays down until
# the test starts it again. (An outage shorter than the retries is a unit test of k8s_api.)
LOST = "lost"


class ApiScenario:
    """The API fault and API loss scenarios in three site.yml runs, so the suite stays short:

    1. every host: `clean` (the reference), the FAULTS hosts and `lost`;
    2. without faults, `lost` started again on the same port: every host but `clean` (the
       faulted ones must write nothing, `lost` must converge);
    3. `lost` alone: nothing left to write.

    `outcome[host]` keeps, per run, what each test asserts on: requests, faults, end state.
    """

    def __init__(self, tmp_path):
        self.targets = {name: Target(name, tmp_path) for name in ["clean"] + sorted(FAULTS) + [LOST]}
        self.tmp_path = tmp_path
        self.runs = []
        self.outcome = {name: {} for name in self.targets}
        self.lost_url = self.targets[LOST].sim.url

    def _record(self, run_index, names):
        for name in names:
            sim = self.targets[name].sim
            self.outcome[name][run_index] = {"requests": sim.requests, "writes": sim.writes(), "faults": sim.faults.list(),
                                             "state": end_state(sim), "created_twice": created_twice(sim),
                                             "running": sim.running}
            sim.clear_requests()

    def run(self):
        for name, options in FAULTS.items():
            self.targets[name].sim.add_random_faults(**options)
        self.targets[LOST].sim.stop_after(lambda entry: entry["write"] and is_kafka(entry))
        self.runs.append(run_site(self.tmp_path, self.targets.values()))
        self._record(0, self.targets)

        for target in self.targets.values():
            target.sim.clear_faults()
        self.targets[LOST].sim.start()
        again = [name for name in self.targets if name != "clean"]
        self.runs.append(run_site(self.tmp_path, self.targets.values(), limit=again))
        self._record(1, again)

        self.runs.append(run_site(self.tmp_path, self.targets.values(), limit=[LOST]))
        self._record(2, [LOST])
        return self

    def close(self):
        for target in self.targets.values():
            target.close()
