"""Injected faults: matching API requests fail with a status, are delayed, or both.

Two kinds: a ``Fault`` matches requests by method and path (``add``); ``RandomFaults`` fails a
seeded random fraction of requests (``add_random``), the API errors a busy or flaky server
gives. Either is answered before the request does anything (no state changes), except a Fault
with ``after=True``: the request takes effect, and then its answer is replaced by the error,
as when a server stores a write but the answer is lost (a timeout, a dropped connection).
"""
import random
import re
import threading
from dataclasses import dataclass, field

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
POD_PROXY = re.compile(r"^/api/v1/namespaces/[^/]+/pods/[^/]+/proxy(/|$)")


@dataclass
class Fault:
    id: int
    method: object
    path_regex: str
    status: object
    times: object
    delay: float
    retry_after: object = None
    after: bool = False

    def to_dict(self):
        return dict(self.__dict__)


@dataclass
class RandomFaults:
    """A ``rate`` of eligible requests, drawn from ``random.Random(seed)`` in arrival order, fail
    with a status drawn from ``statuses`` (429 carries ``Retry-After: retry_after``).

    Eligible: every request, or only writes (``writes_only``), and only those whose User-Agent
    matches ``user_agent`` (a regex; None: any). Through the pod proxy the API server touches no
    storage, so its own faults there are throttling: ``proxy_statuses`` (default 429 only; a
    proxied 5xx is the pod's answer, which the readiness gates' tests script themselves).
    """

    id: int
    rate: float
    seed: int
    statuses: tuple
    writes_only: bool
    retry_after: int
    user_agent: object
    proxy_statuses: tuple
    tried: int = 0
    failed: int = 0
    rng: random.Random = field(default=None, repr=False)

    def to_dict(self):
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items() if k != "rng"}

    def draw(self, method, path, user_agent):
        """A one-off Fault for this request, or None."""
        if self.writes_only and method not in WRITE_METHODS:
            return None
        if self.user_agent is not None and not re.search(self.user_agent, user_agent or ""):
            return None
        statuses = self.proxy_statuses if POD_PROXY.match(path) else self.statuses
        if not statuses:
            return None
        self.tried += 1
        # Two draws per eligible request, so which requests fail does not depend on the statuses.
        hit, pick = self.rng.random(), self.rng.random()
        if hit >= self.rate:
            return None
        self.failed += 1
        status = statuses[int(pick * len(statuses))]
        return Fault(self.id, method, path, status, 1, 0.0, self.retry_after if status == 429 else None)


class Faults:
    def __init__(self):
        self._faults = []
        self._random = []
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, method=None, path_regex=".*", status=500, times=None, delay=0.0, retry_after=None, after=False):
        """Add a fault and return its id; ``status=None`` only delays, ``times=None`` never runs out.

        ``retry_after``: seconds sent as a Retry-After header; ``after``: the request takes
        effect first, then its answer is replaced by ``status``.
        """
        re.compile(path_regex)
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        if after and not status:
            raise ValueError("after needs a status")
        with self._lock:
            fault = Fault(self._next_id, method.upper() if method else None, path_regex, status, times, float(delay or 0),
                          retry_after, bool(after))
            self._next_id += 1
            self._faults.append(fault)
            return fault.id

    def add_random(self, rate=0.1, seed=0, statuses=(500, 503, 429), writes_only=False, retry_after=1, user_agent=None,
                   proxy_statuses=(429,)):
        """Fail a seeded random ``rate`` of requests (see RandomFaults); returns its id."""
        if not 0 <= rate <= 1:
            raise ValueError("rate must be between 0 and 1")
        if user_agent is not None:
            re.compile(user_agent)
        with self._lock:
            faults = RandomFaults(self._next_id, float(rate), seed, tuple(statuses), bool(writes_only), retry_after,
                                  user_agent, tuple(proxy_statuses or ()), rng=random.Random(seed))
            self._next_id += 1
            self._random.append(faults)
            return faults.id

    def remove(self, fault_id):
        with self._lock:
            self._faults = [f for f in self._faults if f.id != fault_id]
            self._random = [f for f in self._random if f.id != fault_id]

    def clear(self):
        with self._lock:
            self._faults = []
            self._random = []

    def list(self):
        with self._lock:
            return [f.to_dict() for f in self._faults] + [f.to_dict() for f in self._random]

    def take(self, method, path, user_agent=""):
        """The first fault matching the request (its use counted), or None."""
        with self._lock:
            for fault in self._faults:
                if fault.method not in (None, method) or not re.search(fault.path_regex, path):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
            for faults in self._random:
                fault = faults.draw(method, path, user_agent)
                if fault is not None:
                    return fault
            return None
