# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a certificate is valid now and at the start of the renewal window."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible.errors import AnsibleFilterError

# community.crypto's certificate information gives its dates as ASN.1 GeneralizedTime.
ASN1_TIME = "%Y%m%d%H%M%SZ"


def _parse(info, key):
    try:
        return datetime.datetime.strptime(info[key], ASN1_TIME)
    except (KeyError, TypeError, ValueError):
        raise AnsibleFilterError("cert_valid_at needs community.crypto.x509_certificate_info's %s (YYYYMMDDHHMMSSZ), got %r"
                                 % (key, info.get(key) if hasattr(info, "get") else info))


def cert_valid_at(info, renewal_days, now=None):
    """``info`` (the community.crypto.x509_certificate_info filter's result) with ``valid_at``
    added as the module fills it for ``valid_at: {now: +0s, renew: +<renewal_days>d}``.

    The filter runs on the controller: a certificate check no longer costs a module start-up."""
    if not hasattr(info, "get"):
        raise AnsibleFilterError("cert_valid_at needs a dictionary from community.crypto.x509_certificate_info, got %r" % (info,))
    try:
        days = int(renewal_days)
    except (TypeError, ValueError):
        raise AnsibleFilterError("cert_valid_at: renewal_days must be a whole number of days, got %r" % (renewal_days,))
    not_before, not_after = _parse(info, "not_before"), _parse(info, "not_after")
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    renew = now + datetime.timedelta(days=days)
    out = dict(info)
    out["valid_at"] = {"now": not_before <= now <= not_after, "renew": not_before <= renew <= not_after}
    return out


class FilterModule(object):
    def filters(self):
        return {"cert_valid_at": cert_valid_at}
