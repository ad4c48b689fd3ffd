"""Pod status as a kubelet would report it, for each simulated behaviour."""
import hashlib
from dataclasses import dataclass

BEHAVIOURS = ("ready", "never_ready", "crashloop", "imagepull", "config_error", "unschedulable")
CRASH_INTERVAL = 0.5
UNSCHEDULABLE_MESSAGE = ("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: "
                         "3 No preemption victims found for incoming pod.")
HOST_IP = "127.0.0.1"


@dataclass
class PodState:
    """What the simulated kubelet remembers about one pod incarnation (keyed by uid)."""

    ip: str
    started: float
    started_at: str
    created_at: str
    behaviour: str = "ready"
    restarts: int = 0
    next_restart: float = 0.0
    warned: bool = False
    finished_at: str = ""

    def restart(self, behaviour, now, wall):
        self.behaviour = behaviour
        self.started, self.started_at = now, wall
        self.warned = False
        self.finished_at = ""
        self.next_restart = now

    def tick(self, now):
        """Advance the crash loop; returns when the next restart is due."""
        if now >= self.next_restart:
            self.restarts += 1
            self.next_restart = now + CRASH_INTERVAL
        return self.next_restart


def condition_true(obj, ctype):
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == ctype and c.get("status") == "True" for c in conditions)


def is_ready(pod):
    return (pod.get("status") or {}).get("phase") == "Running" and condition_true(pod, "Ready")


def _condition(ctype, ok, reason=None, message=None):
    cond = {"type": ctype, "status": "True" if ok else "False", "lastProbeTime": None}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def _stamp(conditions, old_status, wall):
    """Keep lastTransitionTime while a condition's status is unchanged, so statuses are stable."""
    old = {c.get("type"): c for c in old_status.get("conditions") or []}
    for cond in conditions:
        prev = old.get(cond["type"])
        same = prev and prev.get("status") == cond["status"] and prev.get("lastTransitionTime")
        cond["lastTransitionTime"] = prev["lastTransitionTime"] if same else wall
    return conditions


def _pod_conditions(ready, names, reason=None):
    unready = f"containers with unready status: [{' '.join(names)}]"
    if reason == "ContainerCreating":
        return [_condition("PodReadyToStartContainers", False), _condition("Initialized", True),
                _condition("Ready", False, "ContainersNotReady", unready), _condition("ContainersReady", False, "ContainersNotReady", unready),
                _condition("PodScheduled", True)]
    if reason == "PodCompleted":
        return [_condition("PodReadyToStartContainers", False), _condition("Initialized", True, reason),
                _condition("Ready", False, reason), _condition("ContainersReady", False, reason),
                _condition("PodScheduled", True)]
    return [
        _condition("PodReadyToStartContainers", True),
        _condition("Initialized", True),
        _condition("Ready", ready, None if ready else "ContainersNotReady", None if ready else unready),
        _condition("ContainersReady", ready, None if ready else "ContainersNotReady", None if ready else unready),
        _condition("PodScheduled", True),
    ]


def _container_id(pod, name, restarts):
    seed = f"{pod['metadata'].get('uid')}/{name}/{restarts}"
    return "containerd://" + hashlib.sha256(seed.encode()).hexdigest()


def _container_status(pod, container, state, ready, run_state, last_state=None):
    image = container.get("image", "")
    status = {
        "name": container.get("name"),
        "image": image,
        "imageID": f"{image}@sha256:{hashlib.sha256(image.encode()).hexdigest()}",
        "ready": ready,
        "started": "running" in run_state,
        "restartCount": state.restarts,
        "state": run_state,
        "lastState": last_state or {},
    }
    if "waiting" not in run_state or last_state:
        status["containerID"] = _container_id(pod, container.get("name"), state.restarts)
    return status


def _waiting(behaviour, pod, container, state):
    """Container status for the behaviours that keep a container from running."""
    name, image = container.get("name"), container.get("image", "")
    meta = pod["metadata"]
    if behaviour == "crashloop":
        message = f"back-off 10s restarting failed container={name} pod={meta['name']}_{meta.get('namespace')}({meta.get('uid')})"
        last = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": state.started_at, "finishedAt": state.started_at,
                               "containerID": _container_id(pod, name, max(state.restarts - 1, 0))}}
        return _container_status(pod, container, state, False, {"waiting": {"reason": "CrashLoopBackOff", "message": message}}, last)
    if behaviour == "imagepull":
        waiting = {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
    else:
        waiting = {"reason": "CreateContainerConfigError", "message": "couldn't find key or object referenced by the container"}
    return _container_status(pod, container, state, False, {"waiting": waiting})


def _qos(containers):
    limited = any((c.get("resources") or {}).get(k) for c in containers for k in ("requests", "limits"))
    return "Burstable" if limited else "BestEffort"


def _containers(pod, state, now, completes, wall):
    """(phase, pod ready, container statuses, next change) once the containers exist."""
    containers = (pod.get("spec") or {}).get("containers") or []
    running = {"running": {"startedAt": state.started_at}}
    if state.behaviour in ("crashloop", "imagepull", "config_error"):
        deadline = state.tick(now) if state.behaviour == "crashloop" else None
        phase = "Running" if state.behaviour == "crashloop" else "Pending"
        return phase, False, [_waiting(state.behaviour, pod, c, state) for c in containers], deadline
    if state.behaviour == "never_ready":
        return "Running", False, [_container_status(pod, c, state, False, running) for c in containers], None
    if completes:
        state.finished_at = state.finished_at or wall
        done = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": state.started_at, "finishedAt": state.finished_at}}
        return "Succeeded", False, [_container_status(pod, c, state, False, done) for c in containers], None
    return "Running", True, [_container_status(pod, c, state, True, running) for c in containers], None


def render(pod, state, now, ready_delay, completes, wall):
    """The status the pod should have now, and when it next changes by itself (or None)."""
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    containers = spec.get("containers") or []
    names = [c.get("name") for c in containers]
    status = {"phase": "Pending", "qosClass": _qos(containers)}
    if state.behaviour == "unschedulable":
        conditions = [_condition("PodScheduled", False, "Unschedulable", UNSCHEDULABLE_MESSAGE)]
        status["conditions"] = _stamp(conditions, old, wall)
        return status, None
    status.update(hostIP=HOST_IP, hostIPs=[{"ip": HOST_IP}], startTime=state.created_at)
    deadline = state.started + ready_delay
    if state.behaviour == "ready" and now < deadline:
        # Still within ready_delay: the sandbox and containers are being created.
        creating = {"waiting": {"reason": "ContainerCreating"}}
        status["containerStatuses"] = [_container_status(pod, c, state, False, creating) for c in containers]
        status["conditions"] = _stamp(_pod_conditions(False, names, "ContainerCreating"), old, wall)
        return status, deadline
    phase, ready, statuses, deadline = _containers(pod, state, now, completes, wall)
    status.update(phase=phase, podIP=state.ip, podIPs=[{"ip": state.ip}], containerStatuses=statuses)
    status["conditions"] = _stamp(_pod_conditions(ready, names, "PodCompleted" if phase == "Succeeded" else None), old, wall)
    if spec.get("initContainers"):
        done = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": state.created_at, "finishedAt": state.created_at}}
        status["initContainerStatuses"] = [dict(_container_status(pod, c, state, True, done), started=False) for c in spec["initContainers"]]
    return status, deadline
