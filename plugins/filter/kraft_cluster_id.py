# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A KRaft cluster id: what kafka-storage.sh random-uuid prints, or one derived from a seed."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import re
import uuid

from ansible.errors import AnsibleFilterError

# 16 bytes in base64url without padding: the last character carries 2 bits, so it is A, Q, g or w.
# A leading '-' would read as an option on kafka-storage.sh's command line.
CLUSTER_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{20}[AQgw]$")
# A fixed namespace, so one seed gives the same id on every controller and in every release.
SEED_NAMESPACE = uuid.UUID("6f1c5a2e-3d1b-5c59-9a8e-2b4f0c7d9e11")


def _encode(raw):
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _usable(value):
    # Kafka reserves the all-zero id and the metadata topic's id (1); neither may name a cluster.
    return CLUSTER_ID.match(value) is not None and value not in (_encode(bytes(16)), _encode(bytes(15) + b"\x01"))


def kraft_cluster_id(seed=None):
    """The cluster id for `seed` (any text; the same seed always gives the same id), or a random
    one when the seed is empty or none."""
    if seed is not None and not isinstance(seed, str):
        raise AnsibleFilterError("kraft_cluster_id takes a seed string or none, got %r" % (seed,))
    attempt = 0
    while True:
        if seed:
            raw = uuid.uuid5(SEED_NAMESPACE, seed if attempt == 0 else "%s#%d" % (seed, attempt)).bytes
        else:
            raw = uuid.uuid4().bytes
        value = _encode(raw)
        if _usable(value):
            return value
        attempt += 1


def is_kraft_cluster_id(value):
    """Whether `value` is a cluster id Kafka accepts (and kafka-storage.sh can take as an argument)."""
    return isinstance(value, str) and _usable(value)


class FilterModule(object):
    def filters(self):
        return {"kraft_cluster_id": kraft_cluster_id}
