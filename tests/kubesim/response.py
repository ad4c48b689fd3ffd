"""Request and response values passed between the HTTP layer and the handlers."""
import json
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    query: dict
    content_type: str = ""
    body: bytes = b""
    raw_query: str = ""

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else {}

    def flag(self, name):
        return str(self.query.get(name, "")).lower() in ("true", "1")

    @property
    def dry_run(self):
        return self.query.get("dryRun") == "All"


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict = field(default_factory=dict)
    # An iterator of byte chunks, sent with chunked transfer encoding (watch streams).
    stream: object = None


def json_response(status, obj):
    return Response(status, json.dumps(obj).encode("utf-8"))


def error_response(error):
    return json_response(error.code, error.body())
