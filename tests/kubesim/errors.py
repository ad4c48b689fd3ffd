"""API errors rendered as the ``kind: Status`` bodies a real API server sends."""

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_body(code, reason, message, details=None):
    """Build a failure Status object."""
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


class ApiError(Exception):
    """An error that becomes an HTTP response with a Status body."""

    def __init__(self, code, message, reason=None, details=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details

    def body(self):
        return status_body(self.code, self.reason, self.message, self.details)


def _details(res, name):
    details = {"name": name, "kind": res.plural}
    if res.group:
        details["group"] = res.group
    return details


def not_found(res, name):
    return ApiError(404, f'{res.qualified} "{name}" not found', details=_details(res, name))


def already_exists(res, name):
    return ApiError(409, f'{res.qualified} "{name}" already exists', "AlreadyExists", _details(res, name))


def conflict(res, name):
    message = (f'Operation cannot be fulfilled on {res.qualified} "{name}": the object has been modified; '
               "please apply your changes to the latest version and try again")
    return ApiError(409, message, "Conflict", _details(res, name))


def invalid(res, name, message):
    return ApiError(422, f'{res.kind} "{name}" is invalid: {message}', "Invalid", _details(res, name))


def no_route():
    return ApiError(404, "the server could not find the requested resource", details={})


def bad_request(message):
    return ApiError(400, message)
