"""Label and field selectors in the query-string syntax of the API server."""
import re

from .errors import bad_request

_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")
_EQUALITY = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*([-A-Za-z0-9_.]*)$")
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^)]*)\)$")


def _split(text):
    """Split on commas that are not inside a ``(...)`` value set."""
    parts, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _requirement(text):
    match = _SET.match(text)
    if match:
        key, op, values = match.groups()
        wanted = {v.strip() for v in values.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in wanted
        return lambda labels: labels.get(key) not in wanted
    match = _EQUALITY.match(text)
    if match:
        key, op, value = match.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    match = _EXISTS.match(text)
    if match:
        negate, key = match.groups()
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise bad_request(f"unable to parse requirement: {text!r}")


def label_matcher(text):
    """A predicate over an object for a labelSelector string (None or "" matches all)."""
    requirements = [_requirement(part) for part in _split(text or "")]

    def matches(obj):
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def _field_value(obj, path):
    value = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    return "" if value is None else str(value)


def field_matcher(text):
    """A predicate for a fieldSelector string: dotted paths compared with =, == or !=."""
    requirements = []
    for part in _split(text or ""):
        match = re.match(r"^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$", part)
        if not match:
            raise bad_request(f"invalid field selector: {part!r}")
        requirements.append(match.groups())

    def matches(obj):
        for path, op, value in requirements:
            if (_field_value(obj, path) == value) != (op != "!="):
                return False
        return True

    return matches


def matches_label_selector(selector, labels):
    """Match a LabelSelector object (matchLabels / matchExpressions) against a labels dict."""
    labels = labels or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        checks = {
            "In": lambda k=key, v=values: labels.get(k) in v,
            "NotIn": lambda k=key, v=values: labels.get(k) not in v,
            "Exists": lambda k=key: k in labels,
            "DoesNotExist": lambda k=key: k not in labels,
        }
        if op not in checks or not checks[op]():
            return False
    return True
