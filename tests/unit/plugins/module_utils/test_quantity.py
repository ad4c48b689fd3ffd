"""Kubernetes quantities: the module_utils parser, the `quantity` filter and the `quantity` test."""

from decimal import Decimal

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.streams.kafka.plugins.filter.quantity import FilterModule, quantity
from ansible_collections.streams.kafka.plugins.module_utils.quantity import is_quantity, parse_quantity
from ansible_collections.streams.kafka.plugins.test.quantity import TestModule as QuantityTests


@pytest.mark.parametrize("text, value", [
    ("1", Decimal(1)),
    ("250m", Decimal("0.25")),
    ("0.5", Decimal("0.5")),
    (".5", Decimal("0.5")),
    ("5.", Decimal(5)),
    ("1k", Decimal(1000)),
    ("1Ki", Decimal(1024)),
    ("512Mi", Decimal(512 * 2 ** 20)),
    ("10Gi", Decimal(10 * 2 ** 30)),
    ("1.5Gi", Decimal(3 * 2 ** 29)),
    ("2Ti", Decimal(2 * 2 ** 40)),
    ("1G", Decimal(10 ** 9)),
    ("1E", Decimal(10 ** 18)),
    ("1e3", Decimal(1000)),
    ("1E3", Decimal(1000)),
    ("12e-3", Decimal("0.012")),
    ("100n", Decimal("1e-7")),
    ("+1", Decimal(1)),
    ("-1", Decimal(-1)),
    (3, Decimal(3)),
    (0.25, Decimal("0.25")),
])
def test_parses_the_kubernetes_grammar(text, value):
    assert parse_quantity(text) == value
    assert is_quantity(text)


@pytest.mark.parametrize("text", ["", "10GB", "1gi", "Gi", "1 Gi", "1.2.3", "1e", "e3", "1Mib", "ten", "1K", "0x10", None, True])
def test_refuses_what_the_api_server_refuses(text):
    assert not is_quantity(text)
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        parse_quantity(text)


def test_filter_returns_int_when_whole_else_float():
    assert quantity("512Mi") == 536870912 and isinstance(quantity("512Mi"), int)
    assert quantity("250m") == 0.25 and isinstance(quantity("250m"), float)
    assert FilterModule().filters()["quantity"] is quantity


def test_filter_error_names_the_value_and_the_grammar():
    with pytest.raises(AnsibleFilterError, match=r"'10GB' is not a Kubernetes quantity: use a number with an optional suffix: Ki"):
        quantity("10GB")


def test_test_plugin():
    test = QuantityTests().tests()["quantity"]
    assert test("1Gi") and not test("1GB")
