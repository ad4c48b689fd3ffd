# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check kafka_users and derive what the kafka role's users Job applies (never a password)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.streams.kafka.plugins.module_utils import kafka_users as users_util


PASSWORD_DIR = "/opt/streams/users"


def password_file(index):
    """Where the users Job mounts the password of the SCRAM user with this position among them."""
    return "%s/%d/password" % (PASSWORD_DIR, index)


def kafka_users(users, cluster_name, previous=None, zookeeper_connect=None, zookeeper_tls=False, components=None,
                identities=None, metadata_mode="zookeeper", bootstrap_server=None):
    """Return {'problems': [...], 'state': {...}, 'scram': [...], 'tls': [...], 'vault': [...], 'script': ...}.

    `state` is what the users Job applies (user names, authentication and ACL arguments),
    `scram` and `tls` the names of the users of each kind (in order), `vault` those whose
    password comes from the inventory, and `script` the Job's shell script, which revokes what
    `previous` (the state of the last run) has and `state` no longer has; all but `problems` are
    empty when there are problems. The script reads SCRAM user N's password from
    /opt/streams/users/N/password. `components` ({connect: [acl, ...], ...}) are the ACLs of the
    role's own client identities, User:<cluster>-<component>, checked like the users' ACLs.
    `identities` ([{name, acls}]) are other clusters' components with a certificate from this
    cluster's clients CA (MirrorMaker 2 reading from it), User:<name>; the role builds them.
    `metadata_mode` (streams_metadata_mode) zookeeper makes the script apply them through
    `zookeeper_connect`; kraft through the brokers at `bootstrap_server` (their replication
    listener, host:port), with the brokers' certificate mounted at KAFKA_CLIENT_DIR.
    """
    if not cluster_name:
        raise AnsibleFilterError("kafka_users needs the cluster name, got %r" % (cluster_name,))
    if metadata_mode not in users_util.METADATA_MODES:
        raise AnsibleFilterError("kafka_users: streams_metadata_mode=%r is not valid: use %s"
                                 % (metadata_mode, " or ".join(users_util.METADATA_MODES)))
    problems = users_util.problems(users, cluster_name)
    if components is not None:
        problems += users_util.component_problems(components, cluster_name)
    if problems:
        return {"problems": problems, "state": {"users": {}, "acls": []}, "scram": [], "tls": [], "vault": [], "script": ""}
    # The role's components, with their ACLs: principal User:<cluster>-<component>.
    current = users_util.state(users, [{"name": "%s-%s" % (cluster_name, component), "acls": acls}
                                       for component, acls in sorted((components or {}).items())]
                               + [{"name": other["name"], "acls": other.get("acls") or []} for other in identities or []])
    scram = [user["name"] for user in users if user["authentication"] == "scram-sha-512"]
    script = ""
    scram_files = dict((name, password_file(index)) for index, name in enumerate(scram))
    previous = previous if isinstance(previous, dict) else {}
    if metadata_mode == "kraft":
        if bootstrap_server:
            script = users_util.job_script(current, previous, scram_files, None, False, "kraft", bootstrap_server)
    elif zookeeper_connect:
        script = users_util.job_script(current, previous, scram_files, zookeeper_connect, bool(zookeeper_tls))
    return {
        "problems": [],
        "state": current,
        "scram": scram,
        "tls": [user["name"] for user in users if user["authentication"] == "tls"],
        "vault": [user["name"] for user in users if user.get("password") is not None],
        "script": script,
    }


class FilterModule(object):
    def filters(self):
        return {"kafka_users": kafka_users}
