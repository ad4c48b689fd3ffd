# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The phases of the ZooKeeper -> KRaft migration: which come in which order, where a run
stands (an annotation on the brokers' StatefulSet), whether it can still go back to ZooKeeper,
and whether the KRaft controllers have copied ZooKeeper's metadata.

The phases follow Kafka's documented procedure (Kafka 3.9, "ZooKeeper to KRaft Migration"):

1. ``controllers``: KRaft controllers deployed with ``zookeeper.metadata.migration.enable=true``
   and their quorum ready (Kafka: "Provisioning the KRaft controller quorum").
2. ``brokers-migrating``: brokers rolled with migration enabled; done when the active
   controller reports ZkMigrationState MIGRATION (Kafka: "Enter Migration Mode on the Brokers").
3. ``brokers-kraft``: brokers rolled into KRaft mode (Kafka: "Migrating brokers to KRaft").
4. ``controllers-kraft``: controllers rolled out of migration mode (Kafka: "Finalizing the
   migration"); the point of no return.
5. ``zookeeper-removed``: ZooKeeper's objects deleted.

The annotation names the last phase that was completed; absent, the migration has not started.
Everything here is pure but :class:`MigrationGate`, which reads the controllers' metrics
through the pod proxy, and :func:`query` / :func:`record`, which read and patch the StatefulSet.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.streams.kafka.plugins.module_utils import metrics
from ansible_collections.streams.kafka.plugins.module_utils.k8s_api import ApiError
from ansible_collections.streams.kafka.plugins.module_utils.kafka import ACTIVE_CONTROLLER, DEFAULT_METRICS_PORT
from ansible_collections.streams.kafka.plugins.module_utils.readiness import (
    GateStuck,
    MembersGate,
    NotReady,
    member_state,
    stuck_pods,
)
from ansible_collections.streams.kafka.plugins.module_utils.zookeeper import short

ANNOTATION = "streams.kafka/kraft-migration"
METADATA_MODE_ANNOTATION = "streams.kafka/metadata-mode"
# The field manager our annotation patches are sent as: the roles' applies (client-side, or
# server-side under their own manager) do not name the annotation, so they leave it alone.
FIELD_MANAGER = "streams.kafka-kraft-migration"

CONTROLLERS = "controllers"
BROKERS_MIGRATING = "brokers-migrating"
BROKERS_KRAFT = "brokers-kraft"
CONTROLLERS_KRAFT = "controllers-kraft"
ZOOKEEPER_REMOVED = "zookeeper-removed"
PHASES = (CONTROLLERS, BROKERS_MIGRATING, BROKERS_KRAFT, CONTROLLERS_KRAFT, ZOOKEEPER_REMOVED)
# From this phase on (and as soon as its controller roll has begun) ZooKeeper is out of reach.
POINT_OF_NO_RETURN = CONTROLLERS_KRAFT

PHASE_STEPS = {
    CONTROLLERS: ("deploy the KRaft controllers with zookeeper.metadata.migration.enable=true and ZooKeeper's "
                  "connection, formatted with the cluster's id", "their quorum has one leader and every voter caught up"),
    BROKERS_MIGRATING: ("roll the brokers, still in ZooKeeper mode, with zookeeper.metadata.migration.enable=true and "
                        "the controller quorum's address", "the active controller reports ZkMigrationState MIGRATION (1): "
                        "ZooKeeper's metadata is copied and the controllers write to both"),
    BROKERS_KRAFT: ("roll the brokers into KRaft mode (process.roles=broker, node.id, no zookeeper.connect)",
                    "every broker RUNNING with no under-replicated partitions"),
    CONTROLLERS_KRAFT: ("roll the controllers without zookeeper.metadata.migration.enable and ZooKeeper's connection; "
                        "the migration is finalized and cannot be reverted", "the quorum ready and the active controller "
                        "reporting ZkMigrationState POST_MIGRATION (3)"),
    ZOOKEEPER_REMOVED: ("delete ZooKeeper's objects (its PVCs only when asked explicitly)", "the objects are gone"),
}

# How to go back to ZooKeeper from each recorded phase (Kafka 3.9, "Reverting to ZooKeeper mode
# During the Migration"): the directions for the last phase completed. A phase begun but not
# completed is backed out first, then these apply.
DELETE_CONTROLLERS = ("delete the KRaft controllers: StatefulSet <cluster>-kafka-controller, Service "
                      "<cluster>-kafka-controllers, their PodDisruptionBudget and PVCs (a later attempt needs empty "
                      "metadata volumes)")
CLEAR_ZNODES = ("in ZooKeeper (bin/zookeeper-shell.sh on a ZooKeeper pod), quickly after that: delete /controller so "
                "that a broker becomes the ZooKeeper-mode controller, then get /migration (keep it for debugging) and "
                "delete /migration so that the migration can be attempted again")
REMOVE_ANNOTATION = "remove the annotation %s from StatefulSet <cluster>-kafka" % ANNOTATION
ROLLBACK_STEPS = {
    None: [],
    CONTROLLERS: [DELETE_CONTROLLERS, REMOVE_ANNOTATION],
    BROKERS_MIGRATING: [
        DELETE_CONTROLLERS,
        CLEAR_ZNODES,
        "roll the brokers without zookeeper.metadata.migration.enable, controller.listener.names and the controller "
        "quorum's address (streams_metadata_mode zookeeper, as before the migration)",
        REMOVE_ANNOTATION],
    BROKERS_KRAFT: [
        "roll the brokers back to ZooKeeper mode with migration still enabled: no process.roles, broker.id again, "
        "zookeeper.connect (and any other ZooKeeper setting) restored, zookeeper.metadata.migration.enable=true kept",
        DELETE_CONTROLLERS,
        CLEAR_ZNODES,
        "roll the brokers a second time, without zookeeper.metadata.migration.enable, controller.listener.names and "
        "the controller quorum's address (not before this second roll)",
        REMOVE_ANNOTATION],
    CONTROLLERS_KRAFT: [],
    ZOOKEEPER_REMOVED: [],
}

# Kafka's org.apache.kafka.metadata.migration.ZkMigrationState (3.5 and later: PRE_MIGRATION and
# MIGRATION swapped their 3.4 values), as kafka.controller:type=KafkaController,name=ZkMigrationState.
ZK_MIGRATION_STATE = "kafka_controller_kafkacontroller_zkmigrationstate"
NONE = 0
MIGRATION = 1
PRE_MIGRATION = 2
POST_MIGRATION = 3
ZK = 4
MIGRATION_STATES = {NONE: "NONE", MIGRATION: "MIGRATION", PRE_MIGRATION: "PRE_MIGRATION",
                    POST_MIGRATION: "POST_MIGRATION", ZK: "ZK"}
MIGRATION_STATE_MEANINGS = {
    NONE: "the controllers' metadata log holds no migration: they run without zookeeper.metadata.migration.enable, "
          "or were formatted as a new KRaft cluster",
    PRE_MIGRATION: "the controllers wait for every broker to register with migration enabled",
    MIGRATION: "ZooKeeper's metadata is copied and the controllers write to both (dual-write)",
    POST_MIGRATION: "the migration is finalized; the controllers no longer write to ZooKeeper",
    ZK: "the active controller is a ZooKeeper-mode controller, not a KRaft one",
}
# What wait_migrated accepts: MIGRATION, and POST_MIGRATION, which Kafka reaches only from
# MIGRATION (a controller without migration enabled finalizes it), so ZooKeeper's data was copied.
MIGRATED = (MIGRATION, POST_MIGRATION)


class PhaseError(ValueError):
    """A phase that does not exist, or that may not be recorded now."""


class MigrationError(Exception):
    """The migration cannot be read, recorded or waited for; `result` is what is known."""

    def __init__(self, message, result=None):
        self.result = result or {}
        super(MigrationError, self).__init__(message)


class ControllersStuck(GateStuck):
    """A controller pod stays in a state that does not clear without a change."""


# -- phases ------------------------------------------------------------------------------------

def check_phase(phase):
    """`phase` when it is one of PHASES or None (not started); PhaseError otherwise."""
    if phase is not None and phase not in PHASES:
        raise PhaseError("unknown migration phase %r; the phases are %s" % (phase, ", ".join(PHASES)))
    return phase


def _index(phase):
    return -1 if check_phase(phase) is None else PHASES.index(phase)


def next_phase(current):
    """The phase after `current` (None: not started), or None when the migration is complete."""
    index = _index(current) + 1
    return PHASES[index] if index < len(PHASES) else None


def remaining(current):
    """The phases still to come after `current`, in order."""
    return list(PHASES[_index(current) + 1:])


def describe_phase(phase):
    return "not started" if phase is None else phase


def check_transition(current, requested):
    """Whether recording `requested` over `current` changes anything: False when it is the
    same phase (idempotent), True when it is the next one. PhaseError for a skip or a step back,
    naming the current phase, the requested one and the one that must come first."""
    check_phase(requested)
    if requested is None:
        raise PhaseError("a phase to record is required")
    if requested == current:
        return False
    wanted = next_phase(current)
    if _index(requested) < _index(current):
        raise PhaseError("cannot record phase %s: the migration is already at phase %s; phases are recorded forward only "
                         "(going back to ZooKeeper is playbooks/rollback_kraft_migration.yml, or state=revert)"
                         % (requested, current))
    if wanted is None:
        raise PhaseError("cannot record phase %s: the migration is complete (%s)" % (requested, current))
    if requested != wanted:
        raise PhaseError("cannot record phase %s: the migration is at %s, and phase %s must come first"
                         % (requested, describe_phase(current), wanted))
    return True


# What undoing a recorded phase records instead (playbooks/rollback_kraft_migration.yml): the
# brokers back in ZooKeeper mode with migration enabled, then nothing at all.
REVERTS_TO = {BROKERS_KRAFT: BROKERS_MIGRATING, BROKERS_MIGRATING: None, CONTROLLERS: None}


def check_revert(current, undone):
    """Whether undoing phase `undone` over the recorded `current` changes anything: True when
    `undone` is the recorded phase, False when it is already undone (current is what it reverts
    to, or earlier). PhaseError for a phase past the point of no return, or one with a later phase
    still recorded, naming the phase to undo first."""
    check_phase(undone)
    if undone not in REVERTS_TO:
        raise PhaseError("cannot undo phase %s: phases are undone only before %s (%s); from %s on the migration is "
                         "finalized and the cluster cannot go back to ZooKeeper"
                         % (describe_phase(undone), POINT_OF_NO_RETURN, ", ".join(PHASES[:PHASES.index(POINT_OF_NO_RETURN)]),
                            POINT_OF_NO_RETURN))
    if current == undone:
        return True
    if _index(current) > _index(undone):
        raise PhaseError("cannot undo phase %s: the migration is at phase %s, which must be undone first"
                         % (undone, current))
    return False


def rollback_possible(current, migration_state=None):
    """Whether the cluster can still go back to ZooKeeper: only before `controllers-kraft`, and
    never once the active controller reports POST_MIGRATION (a controller out of migration mode
    finalized it, even when the annotation does not say so yet)."""
    if migration_state is not None and int(migration_state) == POST_MIGRATION:
        return False
    return _index(current) < PHASES.index(POINT_OF_NO_RETURN)


def rollback_steps(current, cluster_name="<cluster>", migration_state=None):
    """The steps back to ZooKeeper from `current`; [] when there is nothing to undo or no way back."""
    if not rollback_possible(current, migration_state):
        return []
    return [step.replace("<cluster>", cluster_name) for step in ROLLBACK_STEPS[check_phase(current)]]


def plan(current):
    """The remaining phases: each with what it does and what it waits for."""
    return [{"phase": phase, "action": PHASE_STEPS[phase][0], "waits_for": PHASE_STEPS[phase][1],
             "rollback_possible_after": rollback_possible(phase)} for phase in remaining(current)]


def statefulset_name(cluster_name):
    return "%s-kafka" % cluster_name


def read_phase(statefulset):
    """The phase recorded on a StatefulSet (a dict as the API returns it); None when absent."""
    annotations = ((statefulset or {}).get("metadata") or {}).get("annotations") or {}
    value = annotations.get(ANNOTATION)
    if value in (None, ""):
        return None
    if value not in PHASES:
        name = ((statefulset or {}).get("metadata") or {}).get("name")
        raise PhaseError("StatefulSet %s has annotation %s=%r, which is not a migration phase (%s)"
                         % (name, ANNOTATION, value, ", ".join(PHASES)))
    return value


def metadata_mode(statefulset):
    annotations = ((statefulset or {}).get("metadata") or {}).get("annotations") or {}
    return annotations.get(METADATA_MODE_ANNOTATION) or "zookeeper"


def annotation_patch(phase, resource_version=None):
    """The JSON merge patch that records `phase`; with `resource_version`, a precondition the
    server checks, so a concurrent change is refused (409) rather than overwritten."""
    meta = {"annotations": {ANNOTATION: phase}}
    if resource_version:
        meta["resourceVersion"] = resource_version
    return {"metadata": meta}


# -- the annotation through the API ------------------------------------------------------------

def _ref(namespace, cluster_name):
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": statefulset_name(cluster_name), "namespace": namespace}}


def _read(api, namespace, cluster_name):
    statefulset = api.read(_ref(namespace, cluster_name))
    if statefulset is None:
        raise MigrationError("StatefulSet %s/%s does not exist: there is no Kafka cluster %s to migrate"
                             % (namespace, statefulset_name(cluster_name), cluster_name))
    return statefulset


def state_of(statefulset, cluster_name):
    """What query returns for a StatefulSet."""
    phase = read_phase(statefulset)
    return {"statefulset": statefulset["metadata"]["name"], "phase": phase, "next_phase": next_phase(phase),
            "complete": phase == PHASES[-1], "rollback_possible": rollback_possible(phase),
            "rollback": rollback_steps(phase, cluster_name),
            "plan": plan(phase), "metadata_mode": metadata_mode(statefulset)}


def query(api, namespace, cluster_name):
    """The recorded phase of a cluster's migration and what remains. `api`: an ObjectApi."""
    return state_of(_read(api, namespace, cluster_name), cluster_name)


def _write_phase(api, namespace, cluster_name, decide, check_mode, attempts):
    """Read the StatefulSet, ask `decide(statefulset, current)` for (changed, phase to write), and
    write that phase when changed. The patch carries the resourceVersion read, so a concurrent
    change is refused (409); then the StatefulSet is read and `decide` asked again. In check mode
    nothing is written and the result is what would be recorded."""
    for attempt in range(1, attempts + 1):
        statefulset = _read(api, namespace, cluster_name)
        current = read_phase(statefulset)
        changed, wanted = decide(statefulset, current)
        if not changed or check_mode:
            break
        try:
            statefulset = api.merge_patch(statefulset, annotation_patch(wanted, statefulset["metadata"].get("resourceVersion")),
                                          FIELD_MANAGER)
            break
        except ApiError as error:
            if error.status != 409 or attempt == attempts:
                raise
    result = state_of(statefulset, cluster_name)
    if check_mode and changed:
        result.update(state_of(_with_phase(statefulset, wanted), cluster_name))
    result.update(changed=changed, previous_phase=current)
    return result


def record(api, namespace, cluster_name, phase, check_mode=False, attempts=3):
    """Record `phase` as completed, when it is the next one (changed) or the current one (not);
    two runs cannot both advance the same phase (:func:`_write_phase`)."""
    def decide(statefulset, current):
        if current is None and metadata_mode(statefulset) == "kraft":
            raise PhaseError("cannot record phase %s: %s runs in KRaft mode (%s: kraft) and no migration was recorded; "
                             "there is nothing to migrate" % (phase, statefulset["metadata"]["name"], METADATA_MODE_ANNOTATION))
        return check_transition(current, phase), phase
    return _write_phase(api, namespace, cluster_name, decide, check_mode, attempts)


def revert(api, namespace, cluster_name, undone, check_mode=False, attempts=3):
    """Record that phase `undone` was undone: the annotation becomes the phase before it (removed
    when that is none). Changed only when `undone` is the recorded phase; not changed when it is
    undone already. Written, and retried on a conflict, as :func:`record` does."""
    return _write_phase(api, namespace, cluster_name, lambda statefulset, current: (check_revert(current, undone), REVERTS_TO[undone]),
                        check_mode, attempts)


def _with_phase(statefulset, phase):
    meta = dict(statefulset["metadata"])
    meta["annotations"] = dict(meta.get("annotations") or {}, **{ANNOTATION: phase})
    return dict(statefulset, metadata=meta)


# -- the controllers' migration state ---------------------------------------------------------

def controller_pods(cluster_name, replicas):
    return ["%s-kafka-controller-%d" % (cluster_name, ordinal) for ordinal in range(replicas)]


def controller_selector(cluster_name):
    """The dedicated controllers' pods (labels from standard_labels('kafka-controller'))."""
    return "app.kubernetes.io/instance=%s,app.kubernetes.io/name=kafka-controller" % cluster_name


def state_name(value):
    if value is None:
        return None
    return MIGRATION_STATES.get(int(value), "unknown state %d" % int(value))


def describe_state(value):
    """E.g. "PRE_MIGRATION (2): the controllers wait for every broker to register with migration enabled"."""
    value = int(value)
    meaning = MIGRATION_STATE_MEANINGS.get(value, "not a ZkMigrationState Kafka 3.9 knows")
    return "%s (%d): %s" % (state_name(value), value, meaning)


def controller_read(samples, port=DEFAULT_METRICS_PORT):
    """One controller's values from its metrics (metrics.Samples): active, migration_state, problem."""
    active = samples.total(ACTIVE_CONTROLLER)
    state = samples.total(ZK_MIGRATION_STATE)
    read = {"answered": True, "active": None if active is None else active >= 1,
            "migration_state": None if state is None else int(state), "problem": None}
    if active is None:
        read["problem"] = ("metrics on port %s have no %s; the JMX exporter must run with the kafka role's rules"
                           % (port, ACTIVE_CONTROLLER))
    return read


def read_controller(api, namespace, pod, port=DEFAULT_METRICS_PORT, path=metrics.DEFAULT_PATH):
    """Read one controller's metrics through the pod proxy; a problem instead when they do not answer."""
    try:
        samples = metrics.read(api, namespace, pod, port, path)
    except ApiError as error:
        return {"answered": False, "active": None, "migration_state": None,
                "problem": "metrics on port %s do not answer: %s" % (port, short(str(error)))}
    except metrics.MetricsError as error:
        return {"answered": True, "active": None, "migration_state": None,
                "problem": "metrics on port %s%s are not Prometheus text: %s" % (port, path, short(error.detail))}
    return controller_read(samples, port)


def evaluate(pods, reads, expected, finalized=False):
    """Judge the migration from the controllers' pods and metric reads; with `finalized`, only
    POST_MIGRATION passes (the controllers left migration mode, and the new active one wrote it).

    Returns a dict: ready (the wanted state is reached), migrated (the active controller reports MIGRATION or POST_MIGRATION),
    active_controller (pod name, when exactly one controller is active), migration_state and
    its name, finalized (POST_MIGRATION), controllers (pod name -> state), reason and stuck.
    """
    by_name = dict(((pod.get("metadata") or {}).get("name"), pod) for pod in pods)
    controllers = {}
    for name in expected:
        pod, read = by_name.get(name), reads.get(name)
        state, problem = member_state(pod, read)
        controllers[name] = {"pod": name, "state": state, "problem": problem,
                             "active": (read or {}).get("active") if pod is not None else None,
                             "migration_state": (read or {}).get("migration_state") if pod is not None else None}
        controllers[name]["migration_state_name"] = state_name(controllers[name]["migration_state"])
    active = sorted(name for name, controller in controllers.items() if controller["active"])
    report = {"ready": False, "migrated": False, "finalized": False, "active_controller": None, "migration_state": None,
              "migration_state_name": None, "controllers": controllers, "stuck": stuck_pods(controllers)}
    problems = []
    if len(active) == 1:
        name = active[0]
        value = controllers[name]["migration_state"]
        report.update(active_controller=name, migration_state=value, migration_state_name=state_name(value))
        if value is None:
            problems.append("active controller %s: its metrics have no %s; the JMX exporter must run with the kafka "
                            "role's rules" % (name, ZK_MIGRATION_STATE))
        elif value in MIGRATED:
            report.update(migrated=True, finalized=value == POST_MIGRATION,
                          reason="active controller %s reports %s" % (name, describe_state(value)))
            if report["finalized"] or not finalized:
                report["ready"] = True
                return report
            problems.append("active controller %s reports %s, not yet POST_MIGRATION (3)" % (name, describe_state(value)))
        else:
            problems.append("active controller %s reports %s" % (name, describe_state(value)))
    elif active:
        problems.append("pods %s all report being the active controller; expected exactly one" % ", ".join(active))
    else:
        answered = [name for name in expected if controllers[name]["active"] is not None]
        problems.append("no controller is active (%s)" % ("asked %s" % ", ".join(answered) if answered else "no controller answered"))
    problems.extend("pod %s: %s" % (name, controllers[name]["problem"]) for name in expected if controllers[name]["problem"])
    report["reason"] = "; ".join(problems)
    return report


class MigrationGate(MembersGate):
    """Wait until the active dedicated controller reports that ZooKeeper's metadata is copied."""

    stuck_error = ControllersStuck
    subject = "the KRaft controllers"

    def __init__(self, api, namespace, cluster_name, replicas, port=DEFAULT_METRICS_PORT, path=metrics.DEFAULT_PATH,
                 finalized=False, **kwargs):
        super(MigrationGate, self).__init__(api, namespace, replicas, controller_selector(cluster_name),
                                            controller_pods(cluster_name, replicas), **kwargs)
        self.cluster_name = cluster_name
        self.finalized = finalized
        self.port = port
        self.path = path

    def read_member(self, name):
        return read_controller(self.api, self.namespace, name, self.port, self.path)

    def evaluate(self, pods, reads):
        return evaluate(pods, reads, self.expected, self.finalized)


def _migration_result(report, waited):
    report = report or {"migrated": False, "finalized": False, "active_controller": None, "migration_state": None,
                        "migration_state_name": None, "controllers": {}, "reason": "not observed"}
    keys = ("migrated", "finalized", "active_controller", "migration_state", "migration_state_name", "controllers", "reason")
    result = dict((key, report[key]) for key in keys)
    result.update(waited=round(waited, 1), rollback_possible=report["migration_state"] != POST_MIGRATION)
    return result


def wait_migrated(gate, timeout, check_mode=False):
    """Wait (check mode: look once, never fail) until the active controller reports MIGRATION or
    POST_MIGRATION. MigrationError on timeout or stuck pods, naming the pod and the state."""
    if timeout < 0:
        raise ValueError("timeout must not be negative")
    what = "the ZooKeeper migration of Kafka cluster %s in namespace %s" % (gate.cluster_name, gate.namespace)
    if check_mode:
        return _migration_result(gate.observe(), 0.0)
    try:
        report, waited = gate.wait(timeout)
    except ControllersStuck as error:
        raise MigrationError("%s cannot progress without a change: %s" % (what, error), _migration_result(gate.last, timeout))
    except NotReady as error:
        raise MigrationError("%s is not done after %ds: %s" % (what, timeout, error), _migration_result(gate.last, timeout))
    return _migration_result(report, waited)
