# -*- coding: utf-8 -*-
# Copyright: streams.kafka contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes resource quantities (``500m``, ``1Gi``, ``10e3``), parsed as the API server does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from decimal import Decimal, InvalidOperation

# k8s.io/apimachinery/pkg/api/resource: <signedNumber><suffix>, where the suffix is a binary SI
# suffix, a decimal SI suffix (n, u and m below one) or a decimal exponent (e3, E-2).
_QUANTITY = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<binary>Ki|Mi|Gi|Ti|Pi|Ei)|(?P<exponent>[eE][+-]?[0-9]+)|(?P<decimal>[numkMGTPE]?))$")

_BINARY = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal(10) ** 3, "M": Decimal(10) ** 6, "G": Decimal(10) ** 9,
            "T": Decimal(10) ** 12, "P": Decimal(10) ** 15, "E": Decimal(10) ** 18}

GRAMMAR = ("a number with an optional suffix: Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024), "
           "m, k, M, G, T, P, E (powers of 1000) or an exponent such as e3; for example 500m, 2, 1Gi or 512Mi")


def parse_quantity(value):
    """Return the value of a quantity as a Decimal; raise ValueError when it is not one.

    Booleans are refused; integers and floats are read as plain numbers, as YAML gives them.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("%r is not a Kubernetes quantity: use %s" % (value, GRAMMAR))
    text = str(value)
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError("%r is not a Kubernetes quantity: use %s" % (text, GRAMMAR))
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise ValueError("%r is not a Kubernetes quantity: use %s" % (text, GRAMMAR))
    if match.group("binary"):
        return number * _BINARY[match.group("binary")]
    if match.group("exponent"):
        return number.scaleb(int(match.group("exponent")[1:]))
    return number * _DECIMAL[match.group("decimal") or ""]


def is_quantity(value):
    try:
        parse_quantity(value)
    except ValueError:
        return False
    return True
