"""The log of API requests that tests assert on (the /_sim control API is not logged)."""
import threading

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class RequestLog:
    def __init__(self):
        self._entries = []
        self._lock = threading.Lock()

    def record(self, method, path, query, content_type, status, time, name=None, fault=None, user_agent=""):
        """``name``: for a create (POST), the name of the object in the body, which its path lacks;
        ``fault``: the id of the injected fault that answered it, if one did."""
        dry_run = query.get("dryRun") == "All"
        entry = {
            "name": name,
            "method": method,
            "path": path,
            "query": dict(query),
            "content_type": content_type,
            "status": status,
            "dry_run": dry_run,
            "write": method in WRITE_METHODS and not dry_run,
            "time": time,
            "fault": fault,
            "user_agent": user_agent,
        }
        with self._lock:
            self._entries.append(entry)
        return entry

    def entries(self):
        with self._lock:
            return [dict(e, query=dict(e["query"])) for e in self._entries]

    def writes(self):
        return [e for e in self.entries() if e["write"]]

    def clear(self):
        with self._lock:
            self._entries = []
