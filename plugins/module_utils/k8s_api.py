# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place our modules reach the Kubernetes API.

It reuses kubernetes.core's auth options and client, so our modules connect exactly as
kubernetes.core.k8s does (kubeconfig, context, host, api_key, K8S_AUTH_* environment) and
share its module_defaults group.

Every request through these clients is retried by urllib3 (see `retry_policy`): answers 429,
500, 502, 503 and 504 on any verb, and connections that could not be opened, a bounded number
of times with backoff, honouring Retry-After up to a cap. A connection that broke after the
request went out is not retried: a write may have been applied. Retrying a create is safe in
manifest_apply, which takes a 409 AlreadyExists as "apply to what is there".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import re
import time

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.core import AnsibleK8SModule
from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
from ansible_collections.streams.kafka.plugins.module_utils.manifest_schema import object_ref

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.apply import apply_patch, annotate
    from ansible_collections.kubernetes.core.plugins.module_utils.common import _encode_stringdata
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.service import diff_objects
    from ansible.module_utils.common.dict_transformations import dict_merge
    from kubernetes.client import AppsV1Api, CoreV1Api, V1DeleteOptions, V1Preconditions
    from kubernetes.dynamic.exceptions import DynamicApiError, ResourceNotFoundError, ResourceNotUniqueError
    from kubernetes.client.rest import ApiException, RESTClientObject
    from urllib3.exceptions import ConnectTimeoutError, HTTPError, MaxRetryError, ResponseError
    from urllib3.util.retry import Retry
    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False
    Retry = object  # AnsibleK8SModule reports the missing library before any client is made

# One request and up to four retries; urllib3 sleeps 0, 0.5, 1 and 2 s (plus up to 0.1 s jitter)
# between them, or what Retry-After asks, capped at RETRY_AFTER_CAP seconds.
ATTEMPTS = 5
RETRY_STATUSES = (429, 500, 502, 503, 504)
BACKOFF_FACTOR = 0.25
BACKOFF_JITTER = 0.1
RETRY_AFTER_CAP = 10
USER_AGENT = "streams.kafka"
POD_PROXY = re.compile(r"^(https?://[^/]+)?(/[^?]*)?/api/v1/namespaces/[^/]+/pods/[^/]+/proxy(/|\?|$)")


class ApiError(Exception):
    """An API call failed; `status` is the HTTP status (0 when the server was not reached)."""

    def __init__(self, message, status=0):
        self.status = status
        super(ApiError, self).__init__(message)


def argument_spec(**options):
    """kubernetes.core's auth options plus the module's own."""
    spec = copy.deepcopy(AUTH_ARG_SPEC)
    spec.update(options)
    return spec


def k8s_module(options, **kwargs):
    """An AnsibleK8SModule: it checks the kubernetes library is present, as kubernetes.core's do."""
    return AnsibleK8SModule(argument_spec=argument_spec(**options), **kwargs)


class ApiRetry(Retry):
    """urllib3's Retry for our requests, with one exception: through the pod proxy, a 5xx without
    Retry-After is the pod's own answer (ZooKeeper without quorum answers 500, a port not yet
    open 503), which the gates read and poll again on their own schedule, so it comes back at
    once. A 429, or a 5xx with Retry-After, asks the client to come back: it is retried there too.
    """

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if (response is not None and response.status != 429 and not response.headers.get("Retry-After")
                and POD_PROXY.match(url or "")):
            raise MaxRetryError(_pool, url, ResponseError("the pod answered %s" % response.status))
        return super(ApiRetry, self).increment(method, url, response, error, _pool, _stacktrace)


def retry_policy(attempts=ATTEMPTS):
    """The urllib3 Retry every request of our clients goes through (`attempts` in all).

    Any verb: a create that failed with 5xx before the server stored anything is simply sent
    again, and one the server did store answers 409 AlreadyExists, which manifest_apply turns
    into an apply. Connections that could not be opened are retried; errors after the request
    was sent are not (read=False). When the retries run out, the last answer is returned (not
    raised), so the caller sees the server's status and message.
    """
    retries = attempts - 1
    return ApiRetry(total=retries, connect=retries, status=retries, read=False, other=0,
                    allowed_methods=None, status_forcelist=RETRY_STATUSES,
                    backoff_factor=BACKOFF_FACTOR, backoff_jitter=BACKOFF_JITTER,
                    retry_after_max=RETRY_AFTER_CAP, respect_retry_after_header=True, raise_on_status=False)


def _retrying(api_client):
    """Make every request of `api_client` (a kubernetes ApiClient) go through `retry_policy`.

    kubernetes.core builds its client with no retries (the client's own client_go_retries covers
    only GET with Retry-After), and the urllib3 pool reads them when it is made: so set them on
    the configuration and give the client a new REST client.
    """
    configuration = api_client.configuration
    configuration.retries = retry_policy()
    old = api_client.rest_client
    api_client.rest_client = RESTClientObject(configuration)
    old.close()
    if not api_client.user_agent.startswith(USER_AGENT):
        # Tells our requests from kubernetes.core's in API server audit logs (and in kubesim).
        api_client.user_agent = "%s %s" % (USER_AGENT, api_client.user_agent)
    return api_client


def _endpoint(error):
    """The API server an urllib3 error was about, as scheme://host:port, or None."""
    pool = getattr(error, "pool", None)
    if pool is None or not getattr(pool, "host", None):
        return None
    return "%s://%s:%s" % (pool.scheme, pool.host, pool.port)


def connection_problem(error, host=None):
    """What went wrong talking to the API server, naming it: `error` is an urllib3 error."""
    host = host or _endpoint(error) or "the configured address"
    reason = getattr(error, "reason", None) or error
    if isinstance(reason, ConnectTimeoutError):
        # NewConnectionError (refused, unresolvable) is a ConnectTimeoutError too.
        detail = str(reason).rsplit(": ", 1)[-1]
        tries = " after %d attempts" % ATTEMPTS if isinstance(error, MaxRetryError) else ""
        return "the Kubernetes API at %s cannot be reached%s (%s)" % (host, tries, detail)
    return "the connection to the Kubernetes API at %s failed (%s)" % (host, reason)


def _answer(error):
    """The API server's answer in an ApiException or DynamicApiError: status and message."""
    if not error.status:
        return "the connection to the Kubernetes API failed (%s)" % (error.reason or error)
    tries = " after %d attempts" % ATTEMPTS if error.status in RETRY_STATUSES else ""
    return "the API server answered %s%s: %s" % (error.status, tries, _status_message(error))


def _retry_after(error):
    """Seconds a 429/503 answer asked to wait (Retry-After), capped; None when it did not say."""
    try:
        value = (getattr(error, "headers", None) or {}).get("Retry-After")
        return min(max(float(value), 0.0), RETRY_AFTER_CAP) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


def _client(module, sleep=None):
    """kubernetes.core's client for the module's auth options, its requests retried.

    kubernetes.core asks the server for /version and /apis while it builds the client, before
    `_retrying` can apply: a transient failure there makes a new client the same way, up to
    ATTEMPTS times, with urllib3's backoff or the server's Retry-After.
    """
    client = None
    for attempt in range(1, ATTEMPTS + 1):
        delay = None
        try:
            client = get_api_client(module=module)
            break
        except CoreException as error:
            raise ApiError("cannot connect to the Kubernetes API: %s" % error)
        except HTTPError as error:
            # Only a missing discovery cache makes kubernetes.core send requests here.
            if attempt == ATTEMPTS:
                raise ApiError("cannot connect to the Kubernetes API: %s" % connection_problem(error))
        except (DynamicApiError, ApiException) as error:
            if error.status not in RETRY_STATUSES or attempt == ATTEMPTS:
                raise ApiError("cannot discover the Kubernetes API: %s" % _answer(error), error.status)
            delay = _retry_after(error)
        (sleep or time.sleep)(BACKOFF_FACTOR * 2 ** attempt if delay is None else delay)
    _retrying(client.client.client)
    return client


def _status_message(error):
    try:
        return json.loads(error.body).get("message") or error.reason
    except (TypeError, ValueError, AttributeError):
        return (error.body or error.reason or "").strip() if isinstance(error.body, str) else error.reason


class PodApi(object):
    """Pods and the API server's pod proxy: all a readiness gate needs, no discovery calls."""

    def __init__(self, module, request_timeout=10):
        client = _client(module)
        self._api_client = client.client.client
        self._host = client.configuration.host
        # Keep "pod:port" and the proxied path literal, as kubectl sends them, rather than %3A / %2F.
        self._api_client.configuration.safe_chars_for_path_param = "/:"
        self._core = CoreV1Api(self._api_client)
        self._timeout = request_timeout

    def list_pods(self, namespace, selector):
        """The pods matching a label selector, as plain dicts, sorted by name."""
        try:
            pods = self._core.list_namespaced_pod(namespace, label_selector=selector, _request_timeout=self._timeout)
        except ApiException as error:
            raise ApiError("cannot list pods in namespace %s (%s): %s" % (namespace, selector, _answer(error)), error.status)
        except HTTPError as error:
            raise ApiError("cannot list pods in namespace %s: %s" % (namespace, connection_problem(error, self._host)))
        items = [self._api_client.sanitize_for_serialization(pod) for pod in pods.items]
        return sorted(items, key=lambda pod: pod["metadata"]["name"])

    def _read_workload(self, kind, reader, namespace, name):
        try:
            workload = reader(name, namespace, _request_timeout=self._timeout)
        except ApiException as error:
            if error.status == 404:
                return None
            raise ApiError("cannot read %s %s/%s: %s" % (kind, namespace, name, _answer(error)), error.status)
        except HTTPError as error:
            raise ApiError("cannot read %s %s/%s: %s" % (kind, namespace, name, connection_problem(error, self._host)))
        return self._api_client.sanitize_for_serialization(workload)

    def read_statefulset(self, namespace, name):
        """The StatefulSet as a plain dict, or None when it does not exist."""
        return self._read_workload("StatefulSet", AppsV1Api(self._api_client).read_namespaced_stateful_set, namespace, name)

    def read_deployment(self, namespace, name):
        """The Deployment as a plain dict, or None when it does not exist."""
        return self._read_workload("Deployment", AppsV1Api(self._api_client).read_namespaced_deployment, namespace, name)

    def delete_pod(self, namespace, name, uid):
        """Delete one pod, only if it is still the pod with `uid`; False when it was already gone or replaced."""
        options = V1DeleteOptions(preconditions=V1Preconditions(uid=uid))
        try:
            self._core.delete_namespaced_pod(name, namespace, body=options, _request_timeout=self._timeout)
        except ApiException as error:
            if error.status in (404, 409):
                return False
            raise ApiError("cannot delete pod %s/%s: %s" % (namespace, name, _answer(error)), error.status)
        except HTTPError as error:
            raise ApiError("cannot delete pod %s/%s: %s" % (namespace, name, connection_problem(error, self._host)))
        return True

    def proxy_get(self, namespace, pod, port, path):
        """GET http://<pod>:<port>/<path> through the API server; returns the body as text."""
        # Unread: the client would json.loads a JSON body and hand back its Python repr (the
        # proxy's declared response type is "str"), and it refuses content types it does not know.
        try:
            response = self._core.connect_get_namespaced_pod_proxy_with_path(
                "%s:%s" % (pod, port), namespace, path.lstrip("/"), _request_timeout=self._timeout,
                _preload_content=False)
            return response.data.decode("utf-8", "replace")
        except ApiException as error:
            raise ApiError("%s:%s/%s answered %s: %s" % (pod, port, path.lstrip("/"), error.status, _status_message(error)), error.status)
        except HTTPError as error:
            raise ApiError("cannot reach %s:%s through the API server: %s" % (pod, port, connection_problem(error, self._host)))

    def proxy_request(self, namespace, pod, port, path, method="GET", body=None, query=None):
        """Any method on http://<pod>:<port>/<path>[?query] through the API server.

        Returns (status, body text) whatever the status, because REST APIs answer with meaning
        in their error statuses (404 no such connector, 409 rebalancing). The API server's own
        errors (pod gone, port refused: 503) come back the same way, as a JSON Status object.
        Raises ApiError only when the API server cannot be reached. Retried are a 429, a 5xx
        with Retry-After and a connection that could not be opened, not the pod's own 5xx.
        """
        headers = {"Accept": "application/json, */*"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            request = self._api_client.param_serialize(
                method=method, resource_path="/api/v1/namespaces/{namespace}/pods/{name}/proxy/{path}",
                path_params={"namespace": namespace, "name": "%s:%s" % (pod, port), "path": path.lstrip("/")},
                query_params=list(query or []), header_params=headers, body=body, auth_settings=["BearerToken"])
            response = self._api_client.call_api(*request, _request_timeout=self._timeout)
            response.read()
        except ApiException as error:
            raise ApiError("cannot reach %s:%s through the API server: %s" % (pod, port, error.reason or error), error.status)
        except HTTPError as error:
            raise ApiError("cannot reach %s:%s through the API server: %s" % (pod, port, connection_problem(error, self._host)))
        return response.status, (response.data or b"").decode("utf-8", "replace")


def stored_form(desired):
    """A copy of `desired` as the server stores it: a Secret's stringData becomes base64 data."""
    return _encode_stringdata(copy.deepcopy(desired))


def last_applied_patch(existing, desired):
    """kubernetes.core's client-side apply patch (last-applied three-way merge) for `desired`."""
    return apply_patch(existing, desired)[1]


def with_last_applied(desired):
    """`desired` carrying the last-applied annotation, as a create by apply sends it."""
    return dict_merge(desired, annotate(desired))


def object_diff(before, after):
    """The differing parts of two objects, as kubernetes.core.k8s reports them."""
    return diff_objects(before, after)[1]


class ObjectApi(object):
    """Read, create and patch any object; in check mode the writes are server-side dry runs."""

    def __init__(self, module, request_timeout=None):
        self._client = _client(module)
        self._host = self._client.configuration.host
        self._timeout = request_timeout

    def _resource(self, obj):
        try:
            return self._client.resource(obj["kind"], obj["apiVersion"])
        except (ResourceNotFoundError, ResourceNotUniqueError):
            raise ApiError("the cluster does not serve %s %s; install the API (CRD) that provides it, "
                           "or disable the feature that renders it" % (obj["apiVersion"], obj["kind"]), 404)
        except DynamicApiError as error:
            raise ApiError("cannot discover the Kubernetes API (%s %s): %s" % (obj["apiVersion"], obj["kind"], _answer(error)))
        except HTTPError as error:
            raise ApiError("cannot discover the Kubernetes API (%s %s): %s" % (obj["apiVersion"], obj["kind"], connection_problem(error, self._host)))

    def _call(self, what, obj, method, *args, **kwargs):
        if self._timeout:
            kwargs["_request_timeout"] = self._timeout
        try:
            return method(*args, **kwargs).to_dict()
        except DynamicApiError as error:
            raise ApiError("cannot %s %s: %s" % (what, object_ref(obj), _answer(error)), error.status)
        except HTTPError as error:
            raise ApiError("cannot %s %s: %s" % (what, object_ref(obj), connection_problem(error, self._host)))

    def read(self, obj):
        """The live object, or None when it does not exist."""
        resource = self._resource(obj)
        meta = obj["metadata"]
        try:
            return self._call("read", obj, self._client.get, resource, name=meta["name"], namespace=meta.get("namespace"))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def find(self, api_version, kind, namespace=None, name=None, label_selectors=None):
        """The objects of a kind: the one named (none when it does not exist), or those matching
        every selector; none while their namespace does not exist."""
        ref = {"apiVersion": api_version, "kind": kind, "metadata": {"name": name or "", "namespace": namespace}}
        if name:
            found = self.read(ref)
            return [found] if found is not None else []
        selector = ",".join(label_selectors or [])
        try:
            listed = self._call("list", ref, self._client.get, self._resource(ref), namespace=namespace,
                                label_selector=selector or None)
        except ApiError as error:
            if error.status == 404:
                return []
            raise
        return listed.get("items") or []

    def create(self, obj):
        return self._call("create", obj, self._client.create, self._resource(obj), obj, namespace=obj["metadata"].get("namespace"))

    def patch(self, obj, patch):
        meta = obj["metadata"]
        return self._call("patch", obj, self._client.patch, self._resource(obj), patch, name=meta["name"],
                          namespace=meta.get("namespace"), content_type="application/merge-patch+json")

    def merge_patch(self, obj, patch, field_manager):
        """A JSON merge patch (RFC 7386) of `obj`, sent as `field_manager`: it changes only the
        fields it names and the server records them under that manager, so applies by other
        managers that do not name them leave them alone. A `metadata.resourceVersion` in `patch`
        is a precondition (409 when the object changed since). Returns the patched object."""
        meta = obj["metadata"]
        return self._call("patch", obj, self._client.patch, self._resource(obj), patch, name=meta["name"],
                          namespace=meta.get("namespace"), content_type="application/merge-patch+json",
                          field_manager=field_manager)
