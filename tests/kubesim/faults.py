"""Injected faults: matching API requests fail with a status, are delayed, or both."""
import re
import threading
from dataclasses import dataclass


@dataclass
class Fault:
    id: int
    method: object
    path_regex: str
    status: object
    times: object
    delay: float

    def to_dict(self):
        return dict(self.__dict__)


class Faults:
    def __init__(self):
        self._faults = []
        self._lock = threading.Lock()
        self._next_id = 1

    def add(self, method=None, path_regex=".*", status=500, times=None, delay=0.0):
        """Add a fault and return its id; ``status=None`` only delays, ``times=None`` never runs out."""
        re.compile(path_regex)
        if times is not None and times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            fault = Fault(self._next_id, method.upper() if method else None, path_regex, status, times, float(delay or 0))
            self._next_id += 1
            self._faults.append(fault)
            return fault.id

    def remove(self, fault_id):
        with self._lock:
            self._faults = [f for f in self._faults if f.id != fault_id]

    def clear(self):
        with self._lock:
            self._faults = []

    def list(self):
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def take(self, method, path):
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
            return None
