# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kafka users and their ACLs: what is wrong with ``kafka_users``, and the Job that applies them.

:func:`problems` checks the variable as the user wrote it (never echoing a password) and returns
one message per problem, each naming the entry, the field, its value and what would be valid.
:func:`acl_args` turns one user's ACLs into ``kafka-acls.sh`` arguments, and :func:`job_script`
writes the shell script the users Job runs in the Kafka image: SCRAM credentials through
``kafka-configs.sh --zookeeper ... --add-config-file`` (the file written inside the container from
the mounted password Secret, so no password is on a command line or in the Job's spec) and ACLs
through ``kafka-acls.sh --authorizer-properties zookeeper.connect=...``. In KRaft mode there is no
ZooKeeper: both tools talk to the brokers (``--bootstrap-server <cluster>-kafka-brokers.<ns>.svc:9091
--command-config ...``) over the replication listener, with the brokers' own certificate (a super user).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

AUTHENTICATIONS = ("tls", "scram-sha-512")
USER_FIELDS = ("name", "authentication", "password_secret", "password", "acls")
ACL_FIELDS = ("resource", "operations", "type", "host")
RESOURCE_FIELDS = ("type", "name", "pattern_type")
PATTERN_TYPES = ("literal", "prefix")
ACL_TYPES = ("allow", "deny")
# The operations Kafka allows on each resource type (kafka-acls.sh refuses the others).
OPERATIONS = {
    "topic": ("Read", "Write", "Create", "Delete", "Alter", "Describe", "AlterConfigs", "DescribeConfigs", "All"),
    "group": ("Read", "Describe", "Delete", "All"),
    "cluster": ("Create", "ClusterAction", "DescribeConfigs", "AlterConfigs", "IdempotentWrite", "Alter",
                "Describe", "All"),
    "transactional_id": ("Describe", "Write", "All"),
}
RESOURCE_OPTIONS = {"topic": "--topic", "group": "--group", "cluster": "--cluster", "transactional_id": "--transactional-id"}
# The role's own identities (client certificates CN=<cluster>-<component>, super users or
# components with their own ACLs); a user of the same name would be them.
COMPONENTS = ("kafka", "kafka-admin", "connect", "mirrormaker", "bridge", "exporter", "zookeeper")
MAX_SECRET_NAME = 253
SCRAM_ITERATIONS = 4096
SCRAM_MECHANISM = "SCRAM-SHA-512"
METADATA_MODES = ("zookeeper", "kraft")
# KRaft mode: where the users Job mounts the brokers' certificate Secret <cluster>-kafka-brokers
# (tls.crt, tls.key, ca.crt), with which it connects to the replication listener.
KAFKA_CLIENT_DIR = "/opt/streams/kafka-client"

USER_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
# Topic, group and transactional id names in ACLs: Kafka's topic characters, or * for all.
RESOURCE_NAME = re.compile(r"^([A-Za-z0-9._-]+|[*])$")
HOST = re.compile(r"^([*]|[0-9A-Fa-f.:]+)$")


def _fmt(value):
    return "'%s'" % value if isinstance(value, str) else "%s" % (value,)


def _is_text(value):
    return isinstance(value, str) and value != ""


def reserved_names(cluster_name):
    """User names that are the role's own identities."""
    return ["%s-%s" % (cluster_name, component) for component in COMPONENTS] + ["ANONYMOUS"]


def secret_name(cluster_name, user_name):
    return "%s-user-%s" % (cluster_name, user_name)


def _check_acl(where, acl, out):
    if not isinstance(acl, dict):
        out.append("%s must be a dict such as {resource: {type: topic, name: orders}, operations: [Read, Describe]}, "
                   "got %s" % (where, _fmt(acl)))
        return
    unknown = sorted(set(acl) - set(ACL_FIELDS))
    if unknown:
        out.append("%s has %s; an ACL's fields are %s" % (where, ", ".join(unknown), ", ".join(ACL_FIELDS)))
    if acl.get("type", "allow") not in ACL_TYPES:
        out.append("%s.type=%s is not valid: use allow or deny" % (where, _fmt(acl.get("type"))))
    host = acl.get("host", "*")
    if not _is_text(host) or not HOST.match(host):
        out.append("%s.host=%s is not valid: use * (any host) or an IP address" % (where, _fmt(host)))
    resource = acl.get("resource")
    if not isinstance(resource, dict):
        out.append("%s.resource=%s is not valid: use a dict such as {type: topic, name: orders, pattern_type: literal}"
                   % (where, _fmt(resource)))
        return
    unknown = sorted(set(resource) - set(RESOURCE_FIELDS))
    if unknown:
        out.append("%s.resource has %s; its fields are %s" % (where, ", ".join(unknown), ", ".join(RESOURCE_FIELDS)))
    kind = resource.get("type")
    if kind not in OPERATIONS:
        out.append("%s.resource.type=%s is not valid: use one of %s" % (where, _fmt(kind), ", ".join(sorted(OPERATIONS))))
        return
    name = resource.get("name")
    if kind == "cluster":
        if name is not None:
            out.append("%s.resource.name=%s is not valid: a cluster resource has no name" % (where, _fmt(name)))
    elif not _is_text(name) or not RESOURCE_NAME.match(name):
        out.append("%s.resource.name=%s is not valid: use a %s name (letters, digits, '.', '_' and '-') or * for all"
                   % (where, _fmt(name), kind.replace("_", " ")))
    pattern = resource.get("pattern_type", "literal")
    if pattern not in PATTERN_TYPES or (pattern == "prefix" and (kind == "cluster" or name == "*")):
        out.append("%s.resource.pattern_type=%s is not valid: use literal, or prefix with a %s name prefix"
                   % (where, _fmt(pattern), "topic, group or transactional id"))
    operations = acl.get("operations")
    allowed = OPERATIONS[kind]
    if not isinstance(operations, list) or not operations or not all(isinstance(op, str) for op in operations):
        out.append("%s.operations=%s is not valid: use a list of operations from %s" % (where, _fmt(operations), ", ".join(allowed)))
        return
    wrong = [op for op in operations if op not in allowed]
    if wrong:
        out.append("%s.operations has %s, which a %s resource does not take; use operations from %s"
                   % (where, ", ".join(wrong), kind.replace("_", " "), ", ".join(allowed)))


def problems(users, cluster_name):
    """Everything wrong with `kafka_users`, one message per problem; [] when it is valid.

    Passwords are never part of a message: only whether one is there.
    """
    if not isinstance(users, list):
        return ["kafka_users must be a list of users such as [{name: orders-app, authentication: tls, acls: [...]}], "
                "got a %s" % type(users).__name__]
    out = []
    names = {}
    reserved = reserved_names(cluster_name)
    for index, user in enumerate(users):
        where = "kafka_users[%d]" % index
        if not isinstance(user, dict):
            out.append("%s must be a dict with name, authentication and acls, got a %s" % (where, type(user).__name__))
            continue
        name = user.get("name")
        if isinstance(name, str) and name:
            where = "%s (%s)" % (where, name)
        unknown = sorted(set(user) - set(USER_FIELDS))
        if unknown:
            out.append("%s has %s; a user's fields are %s" % (where, ", ".join(unknown), ", ".join(USER_FIELDS)))
        if not _is_text(name) or not USER_NAME.match(name) or len(secret_name(cluster_name, name)) > MAX_SECRET_NAME:
            out.append("%s name=%s is not valid: use lower-case letters, digits, '-' and '.', starting and ending with "
                       "a letter or digit (the user's Secret is %s)" % (where, _fmt(name), secret_name(cluster_name, "<name>")))
        elif name in reserved:
            out.append("%s name=%s is not valid: it is an identity of the role itself (%s); choose another name"
                       % (where, _fmt(name), ", ".join(reserved)))
        else:
            names.setdefault(name, []).append(index)
        authentication = user.get("authentication")
        has_secret, has_password = user.get("password_secret") is not None, user.get("password") is not None
        if authentication not in AUTHENTICATIONS:
            out.append("%s authentication=%s is not valid: use tls (a client certificate from the clients CA) or "
                       "scram-sha-512 (a password)" % (where, _fmt(authentication)))
        elif authentication == "tls" and (has_secret or has_password):
            out.append("%s authentication=tls takes no password_secret or password: the user authenticates with the "
                       "certificate the role issues in Secret %s" % (where, secret_name(cluster_name, name)))
        elif authentication == "scram-sha-512" and has_secret == has_password:
            out.append("%s authentication=scram-sha-512 needs exactly one password source, password_secret "
                       "({name: <Secret>, key: <key>}, an existing Secret) or password (from Ansible Vault), and it has %s"
                       % (where, "both" if has_secret else "neither"))
        if has_password and (not isinstance(user.get("password"), str) or len(user["password"]) < 8
                             or re.search(r"[\r\n]", user["password"]) or not user["password"].isascii()):
            out.append("%s password is not valid (its value is not shown): use a single line of at least 8 ASCII "
                       "characters, kept in Ansible Vault" % where)
        if has_secret:
            secret = user["password_secret"]
            if (not isinstance(secret, dict) or sorted(secret) != ["key", "name"] or not _is_text(secret.get("name"))
                    or not DNS_SUBDOMAIN.match(secret["name"]) or not _is_text(secret.get("key"))
                    or not SECRET_KEY.match(secret["key"])):
                out.append("%s password_secret=%s is not valid: use {name: <Secret in the namespace>, key: <its key "
                           "holding the password>}" % (where, _fmt(secret)))
            elif secret["name"].startswith(secret_name(cluster_name, "")):
                out.append("%s password_secret.name=%s is not valid: Secrets named %s are the role's own (it deletes "
                           "those of removed users); keep the password in a Secret of another name"
                           % (where, _fmt(secret["name"]), secret_name(cluster_name, "*")))
        acls = user.get("acls", [])
        if not isinstance(acls, list):
            out.append("%s acls=%s is not valid: use a list of ACLs such as [{resource: {type: topic, name: orders}, "
                       "operations: [Read, Describe]}]" % (where, _fmt(acls)))
            continue
        for position, acl in enumerate(acls):
            _check_acl("%s acls[%d]" % (where, position), acl, out)
    for name, indexes in sorted(names.items()):
        if len(indexes) > 1:
            out.append("kafka_users has the name %s %d times (entries %s): user names must be unique"
                       % (name, len(indexes), ", ".join(str(i) for i in indexes)))
    return out


def principal(name):
    """The principal of a user: mutual-TLS users' certificates carry CN=<name>, which
    ssl.principal.mapping.rules maps to <name>; SCRAM users are their name."""
    return "User:%s" % name


def acl_args(name, acls):
    """kafka-acls.sh arguments (after --add or --remove) of each ACL of user `name`."""
    out = []
    for acl in acls or []:
        resource = acl["resource"]
        kind = "deny" if acl.get("type", "allow") == "deny" else "allow"
        args = ["--%s-principal" % kind, principal(name), "--%s-host" % kind, acl.get("host", "*")]
        for operation in acl["operations"]:
            args += ["--operation", operation]
        args.append(RESOURCE_OPTIONS[resource["type"]])
        if resource["type"] != "cluster":
            args += [resource["name"], "--resource-pattern-type",
                     "prefixed" if resource.get("pattern_type") == "prefix" else "literal"]
        out.append(args)
    return out


def component_problems(components, cluster_name):
    """What is wrong with the components' ACLs ({component: [acl, ...]}), for kafka_component_acls."""
    if not isinstance(components, dict):
        return ["kafka_component_acls must be a dict of component to ACLs, such as {bridge: [{resource: {type: group, "
                "name: orders-bridge}, operations: [Read]}]}, got %s" % _fmt(components)]
    out = []
    for component, acls in sorted(components.items()):
        where = "kafka_component_acls.%s" % component
        if component not in ("connect", "mirrormaker", "bridge", "exporter"):
            out.append("%s is not a component: use connect, mirrormaker, bridge or exporter (principal User:%s-<component>)"
                       % (where, cluster_name))
            continue
        if not isinstance(acls, list):
            out.append("%s=%s is not valid: use a list of ACLs" % (where, _fmt(acls)))
            continue
        for position, acl in enumerate(acls):
            _check_acl("%s[%d]" % (where, position), acl, out)
    return out


def state(users, components=None):
    """What the users Job applied, without passwords: {users: {name: authentication}, acls: [args...]}.

    `components` are the role's own client identities ({name: <cluster>-<component>, acls: [...]}),
    which authenticate with their certificates. The role keeps the state in a ConfigMap so a later
    run knows what to revoke."""
    everyone = list(users) + [dict(component, authentication="tls") for component in components or []]
    return {
        "users": dict((user["name"], user["authentication"]) for user in everyone),
        "acls": [args for user in everyone for args in acl_args(user["name"], user.get("acls"))],
    }


def _quote(arg):
    return "'%s'" % str(arg).replace("'", "'\"'\"'")


def _zookeeper_connection(zookeeper_connect, zookeeper_tls):
    """The ZooKeeper-mode lines that define `configs` and `acls` (unchanged since before KRaft: the
    script's text is part of what the users Job of an upgraded collection runs)."""
    lines = [
        "zk=%s" % _quote(zookeeper_connect),
        "kafka_bin=${KAFKA_HOME:-/opt/kafka}/bin",
    ]
    if zookeeper_tls:
        lines += [
            "# ZooKeeper client TLS: the brokers' own certificate (cluster CA) as a PEM keystore.",
            "cat /opt/streams/zookeeper-client/tls.key /opt/streams/zookeeper-client/tls.crt > \"$work/zk-client.pem\"",
            "cat > \"$work/zk-tls.properties\" <<EOF",
            "zookeeper.clientCnxnSocket=org.apache.zookeeper.ClientCnxnSocketNetty",
            "zookeeper.ssl.client.enable=true",
            "zookeeper.ssl.keystore.type=PEM",
            "zookeeper.ssl.keystore.location=$work/zk-client.pem",
            "zookeeper.ssl.truststore.type=PEM",
            "zookeeper.ssl.truststore.location=/opt/streams/cluster-ca/ca.crt",
            "EOF",
            "zk_tls=(--zk-tls-config-file \"$work/zk-tls.properties\")",
        ]
    else:
        lines.append("zk_tls=()")
    lines += [
        "configs() { \"$kafka_bin/kafka-configs.sh\" --zookeeper \"$zk\" \"${zk_tls[@]}\" --alter --entity-type users \"$@\"; }",
        "acls() { \"$kafka_bin/kafka-acls.sh\" --authorizer-properties \"zookeeper.connect=$zk\" \"${zk_tls[@]}\" \"$@\"; }",
    ]
    return lines


# KRaft mode, from Kafka's sources and docs:
# - kafka-configs.sh --bootstrap-server alters SCRAM credentials through the Admin API of KIP-554
#   (alterUserScramCredentials); --add-config-file is read with the same parser as --add-config
#   (ConfigCommand.parseConfigsToBeAdded) and the value keeps the ZooKeeper-mode format
#   "iterations=N,password=P" (ConfigCommand.parseIterationsAndPasswordBytes), so the password file
#   is the same. --command-config is the Admin client's configuration.
# - Client PEM key stores (KIP-651, https://cwiki.apache.org/confluence/display/KAFKA/KIP-651+-+Support+PEM+format+for+SSL+certificates+and+private+key):
#   with ssl.keystore.location the key must be encrypted and ssl.key.password set
#   (DefaultSslEngineFactory: "SSL PEM key store is specified, but key password is not specified");
#   ssl.keystore.key and ssl.keystore.certificate.chain take an unencrypted PKCS#8 key, which is
#   what roles/common/tasks/certificate.yml issues. A PEM trust store file needs no password.
def _kraft_connection(bootstrap_server, client_dir):
    """The KRaft-mode lines that define `configs` and `acls`: both tools reach the brokers."""
    return [
        "bootstrap=%s" % _quote(bootstrap_server),
        "kafka_bin=${KAFKA_HOME:-/opt/kafka}/bin",
        "client_dir=%s" % _quote(client_dir),
        "# KRaft: the tools connect to the brokers' replication listener (mutual TLS, the",
        "# cluster CA) with the brokers' own certificate, whose principal is a super user.",
        "for file in tls.crt tls.key ca.crt; do",
        "  if [ ! -s \"$client_dir/$file\" ]; then",
        "    echo \"the users Job has no $client_dir/$file (the brokers' certificate Secret, mounted there)\" >&2",
        "    exit 1",
        "  fi",
        "done",
        "# A PEM file (base64 and headers, no backslash) as one java.util.Properties value: each line",
        "# ends with the escape \\n.",
        "pem() {",
        "  local line out=''",
        "  while IFS= read -r line || [ -n \"$line\" ]; do",
        "    line=${line%$'\\r'}",
        "    out+=\"$line\"'\\n'",
        "  done < \"$1\"",
        "  printf '%s' \"$out\"",
        "}",
        "# The key and certificate go inline (ssl.keystore.key, ssl.keystore.certificate.chain): a PEM key",
        "# store file (ssl.keystore.location) needs an encrypted key and ssl.key.password, and this key is",
        "# not encrypted (KIP-651; https://kafka.apache.org/documentation/#adminclientconfigs_ssl.keystore.key).",
        "# The file is in the private work directory (umask 077), removed on exit.",
        "chain=$(pem \"$client_dir/tls.crt\")",
        "key=$(pem \"$client_dir/tls.key\")",
        "{",
        "  echo 'security.protocol=SSL'",
        "  echo 'ssl.keystore.type=PEM'",
        "  printf 'ssl.keystore.certificate.chain=%s\\n' \"$chain\"",
        "  printf 'ssl.keystore.key=%s\\n' \"$key\"",
        "  echo 'ssl.truststore.type=PEM'",
        "  printf 'ssl.truststore.location=%s\\n' \"$client_dir/ca.crt\"",
        "} > \"$work/client.properties\"",
        "unset chain key",
        "client=(--bootstrap-server \"$bootstrap\" --command-config \"$work/client.properties\")",
        "configs() { \"$kafka_bin/kafka-configs.sh\" \"${client[@]}\" --alter --entity-type users \"$@\"; }",
        "acls() { \"$kafka_bin/kafka-acls.sh\" \"${client[@]}\" \"$@\"; }",
        "# Removing credentials that are already gone (a retried Job) is not an error.",
        "unscram() {",
        "  local out",
        "  if out=$(configs --entity-name \"$1\" --delete-config %s 2>&1); then" % SCRAM_MECHANISM,
        "    printf '%s\\n' \"$out\"",
        "  elif [[ $out == *ResourceNotFoundException* ]]; then",
        "    echo \"user $1 has no %s credentials\"" % SCRAM_MECHANISM,
        "  else",
        "    printf '%s\\n' \"$out\" >&2",
        "    exit 1",
        "  fi",
        "}",
    ]


def job_script(current, previous, scram_files, zookeeper_connect, zookeeper_tls, metadata_mode="zookeeper",
               bootstrap_server=None, client_dir=KAFKA_CLIENT_DIR):
    """The bash script of the users Job.

    `current` and `previous` are :func:`state` documents (previous from the last run, or empty);
    `scram_files` maps each SCRAM user to the file its password is mounted at. Credentials of
    SCRAM users are (re)written, SCRAM users no longer declared lose theirs, ACLs no longer
    declared are removed and the declared ones added.

    `metadata_mode` zookeeper (the default) goes through `zookeeper_connect` (over TLS with
    `zookeeper_tls`); kraft goes through the brokers at `bootstrap_server` (host:port of the
    replication listener) with the certificate mounted in `client_dir`.
    """
    if metadata_mode not in METADATA_MODES:
        raise ValueError("metadata_mode=%s is not valid: use %s" % (_fmt(metadata_mode), " or ".join(METADATA_MODES)))
    kraft = metadata_mode == "kraft"
    if kraft and not bootstrap_server:
        raise ValueError("metadata_mode='kraft' needs bootstrap_server (host:port of the brokers' replication listener), "
                         "got %s" % _fmt(bootstrap_server))
    previous = previous or {}
    prev_users = previous.get("users") or {}
    prev_acls = previous.get("acls") or []
    lines = [
        "set -euo pipefail",
        "umask 077",
        "work=$(mktemp -d /tmp/users.XXXXXX)",
        "trap 'rm -rf \"$work\"' EXIT",
    ]
    lines += _kraft_connection(bootstrap_server, client_dir) if kraft else _zookeeper_connection(zookeeper_connect, zookeeper_tls)
    lines += [
        "# The password goes from the mounted Secret into a properties file only this process reads;",
        "# printf is a shell builtin, so it is on no command line.",
        "scram() {",
        "  local password",
        "  password=$(cat \"$2\")",
        "  case \"$password\" in *$'\\n'*|'') echo \"the password of user $1 is empty or more than one line\" >&2; exit 1 ;; esac",
        "  password=${password//\\\\/\\\\\\\\}",
        "  printf '%s=iterations=%d,password=%%s\\n' \"$password\" > \"$work/$1.properties\"" % (SCRAM_MECHANISM, SCRAM_ITERATIONS),
        "  configs --entity-name \"$1\" --add-config-file \"$work/$1.properties\"",
        "  rm -f \"$work/$1.properties\"",
        "}",
    ]
    for name in sorted(scram_files):
        lines.append("echo %s" % _quote("SCRAM credentials of user %s" % name))
        lines.append("scram %s %s" % (_quote(name), _quote(scram_files[name])))
    for name, authentication in sorted(prev_users.items()):
        if authentication == "scram-sha-512" and current["users"].get(name) != "scram-sha-512":
            lines.append("echo %s" % _quote("removing the SCRAM credentials of user %s" % name))
            if kraft:
                lines.append("unscram %s" % _quote(name))
            else:
                lines.append("configs --entity-name %s --delete-config %s" % (_quote(name), SCRAM_MECHANISM))
    for args in prev_acls:
        if args not in current["acls"]:
            lines.append("acls --remove --force %s" % " ".join(_quote(arg) for arg in args))
    for args in current["acls"]:
        lines.append("acls --add %s" % " ".join(_quote(arg) for arg in args))
    lines.append("echo done")
    return "\n".join(lines) + "\n"
