"""PII detection on values built from the standards (tests/fixtures/safety/pii_standards.jsonl, written
by build_pii_standards.py from libphonenumber's national plans, the IBAN registry and the networks' IIN
ranges), and the formats the issue names. Floors are the measured figures rounded down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from llmscope.safety.labelled import pii_scores
from llmscope.safety.pii import IBAN_LENGTHS, card_brand, find_pii, iban_valid

STANDARDS = Path(__file__).resolve().parent / "fixtures" / "safety" / "pii_standards.jsonl"
FLOOR = {  # kind: (precision, recall) measured on pii_standards.jsonl, rounded down
    "phone": (0.99, 0.97),
    "credit_card": (0.99, 0.99),
    "iban": (0.99, 0.99),
    "ip_address": (0.99, 0.99),
}


def _rows() -> list[dict]:
    return [json.loads(x) for x in STANDARDS.read_text(encoding="utf-8").split("\n") if x.strip()]


def test_standards_set_covers_every_region_and_registry_country():
    rows = _rows()
    groups = {r["group"] for r in rows}
    assert sum(g.startswith("phone:") for g in groups) >= 200  # regions with an example number
    assert sum(g.startswith("iban:") and g != "iban:broken" for g in groups) == len(IBAN_LENGTHS) >= 80
    assert {"card:jcb", "card:unionpay", "card:maestro", "card:diners", "card:mir"} <= groups
    assert sum(1 for r in rows if not r["pii"]) >= 100


@pytest.mark.parametrize("kind", sorted(FLOOR))
def test_precision_recall_on_values_built_from_the_standards(kind):
    tp, fp, fn = pii_scores(_rows())[kind]
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= FLOOR[kind][0] and recall >= FLOOR[kind][1], (kind, tp, fp, fn)


@pytest.mark.parametrize(
    "text, value",
    [
        ("Appelez le 01.84.17.61.18 demain.", "01.84.17.61.18"),
        ("Fone: (12) 3650-8833", "(12) 3650-8833"),
        ("phone +1-903-140-4508x769", "+1-903-140-4508x769"),
        ("Ruf an: +49 30 901820", "+49 30 901820"),
        ("call 00420 602 855 601", "00420 602 855 601"),
    ],
)
def test_phone_formats_national_and_international(text, value):
    assert [(m.kind, m.value) for m in find_pii(text)] == [("phone", value)]


@pytest.mark.parametrize(
    "text",
    ["Order #4155550123", "meeting ID is 871 2345 6789", "INV-2024-0003417", "version 10.0.19045.1234", "666-45-1234"],
)
def test_digit_runs_that_are_not_phones(text):
    assert [m for m in find_pii(text) if m.kind == "phone"] == []


def test_card_networks_beyond_the_common_four():
    for digits, brand in (
        ("3530111333300000", "jcb"),
        ("6212345678901265", "unionpay"),
        ("6759649826438453", "maestro"),
        ("30569309025904", "diners"),
        ("2200000000000004", "mir"),
        ("122000000000003", "uatp"),
    ):
        assert card_brand(digits) == brand, digits
        assert [m.detail for m in find_pii(f"card {digits}")] == [brand], digits


def test_ibans_of_countries_outside_the_old_table():
    for iban in (
        "AZ21NABZ00000000137010001944",
        "BY13NBRB3600900000002Z00AB00",
        "VG96VPVG0000012345678901",
        "EG380019000500000000263180002",
        "CR05015202001026284066",
    ):
        assert iban_valid(iban) and [m.kind for m in find_pii(f"IBAN {iban}")] == ["iban"], iban
    assert not iban_valid("AL47212A10090000000235698741")  # a letter where the registry has digits


def test_ip_forms_and_the_all_ips_switch():
    assert [m.value for m in find_pii("net 10.20.0.0/16 and 2a02:26f0:1234::/48")] == [
        "10.20.0.0/16",
        "2a02:26f0:1234::/48",
    ]
    assert [m.value for m in find_pii("mapped ::ffff:84.17.45.201 here")] == ["::ffff:84.17.45.201"]
    assert [m.value for m in find_pii("zone fe80::1%eth0 up")] == ["fe80::1%eth0"]
    # loopback and documentation ranges are not personal data by default, but every form is found on request
    for text, value in (("lo ::1", "::1"), ("doc 2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334")):
        assert find_pii(text) == []
        assert [m.value for m in find_pii(text, all_ips=True)] == [value]
    assert [m.value for m in find_pii("doc 2001:db8::192.168.1.1")] == []  # its IPv4 tail is not reported alone
    for text in ("std::cout", "MAC aa:bb:cc:dd:ee:ff", "at 12:34:56", ":::"):
        assert find_pii(text, all_ips=True) == [], text
