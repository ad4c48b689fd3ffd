# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a certificate Secret needs a new certificate, and why."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def cert_renewal(info, common_name, sans, bundle, ca_bundle, renewal_days=None):
    """Reasons to issue a new certificate; [] keeps the one there is.

    `info` is what community.crypto's x509_certificate_info filter and cert_valid_at say of the
    certificate in the Secret, valid_at.renew at now + renewal days (None, {} or a skipped module
    result: there is none);
    `bundle` the Secret's ca.crt and `ca_bundle` the CA's current one.
    """
    if not info or not hasattr(info, "get") or info.get("skipped") or "valid_at" not in info:
        return ["there is no certificate yet"]
    reasons = []
    try:
        renewable = not info["valid_at"]["renew"]
    except (KeyError, TypeError):
        raise AnsibleFilterError("cert_renewal needs x509_certificate_info's result with valid_at.renew")
    if renewable:
        reasons.append("it expires %s, within %s days" % (info.get("not_after", "soon"), renewal_days if renewal_days is not None else "the renewal"))
    subject = info.get("subject") or {}
    if subject.get("commonName") != common_name:
        reasons.append("its common name is %s, not %s" % (subject.get("commonName"), common_name))
    have, want = sorted(set(info.get("subject_alt_name") or [])), sorted(set(sans or []))
    if have != want:
        missing, extra = sorted(set(want) - set(have)), sorted(set(have) - set(want))
        reasons.append("its SANs differ (missing: %s; no longer wanted: %s)" % (", ".join(missing) or "none", ", ".join(extra) or "none"))
    if (bundle or "").strip() != (ca_bundle or "").strip():
        reasons.append("the CA changed")
    return reasons


class FilterModule(object):
    def filters(self):
        return {"cert_renewal": cert_renewal}
