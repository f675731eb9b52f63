"""PII and secret detection in prompt/response text: patterns, validators, masking.

``find_pii(text)`` returns non-overlapping :class:`PiiMatch` objects sorted by ``start``. Every
kind is a cheap candidate pattern followed by a validator; a candidate that fails its validator
is dropped, never reported "with low confidence". Pure Python (``re``, ``ipaddress``) plus
``phonenumbers``; no network, no model.

Kinds, candidates and validators
--------------------------------
``email``
    ``local@label.label.tld`` (local part ``[A-Za-z0-9._%+-]``, hostname labels of
    letters/digits/hyphens). Validators: the TLD must be a known generic TLD (com, org, net, io,
    ai, dev, app, ...) or a two-letter country code; file extensions are never TLDs (so
    ``image@2x.png``, ``logo@3x.webp``, ``notes@v2.md`` are rejected); a bare host
    (``name@localhost``) has no dot and never matches; the retina-asset form ``@2x.`` is rejected;
    ``git@github.com:org/repo`` (scp-style remotes) are rejected.
``phone``
    ``phonenumbers.PhoneNumberMatcher`` with ``Leniency.VALID``, run only on small windows
    around digit clusters that hold at least 7 digits once dates, times and version strings are
    blanked out. Region "US" is tried for every candidate; numbers written internationally
    (``+44 20 ...``) validate in any region. Regions GB, DE, FR, IN are tried (in that order,
    first hit wins, so a number is never reported twice) only for candidates written with a
    national trunk prefix ``0`` or the ``00`` international prefix -- an undelimited 10-digit
    number is not read as an Indian mobile unless it carries ``+91``/``0``. Rejected: a match
    directly preceded by an identifier cue (``order``, ``order #``, ``tracking``, ``invoice``,
    ``ticket``, ``ref``, ``sku``, ``serial``, ``account``, ``id``, ``#``, ... see ``_ID_CUE``),
    dates (``2024-03-15``, ``03/15/2024``), times (anything with ``:``), version strings
    (``10.0.19045.1234``, or preceded by ``v``/``version``/``build``/``release``; the dotted US
    form ``415.555.0199`` is still a phone), ZIP+4 (``94105-1234``).
    ``detail`` is the number's region code (``"US"``, ``"GB"``...).
``credit_card``
    13-19 digits written plain or in groups (4-4-4-4[-3], 4-6-5, 4-6-4) with one consistent
    separator (space or dash). Validators: known IIN prefix with an allowed length for the
    brand (Visa 4; Mastercard 51-55, 2221-2720; Amex 34/37; Discover 6011, 644-649, 65,
    622126-622925; JCB 3528-3589; Diners 300-305/36/38/39; UnionPay 62; Maestro 50/56-58/6304/
    6759/6761-6763) and the Luhn checksum; identifier cues as for phones. ``detail`` is the brand.
``iban``
    Two upper-case letters + 2 check digits + BBAN, compact or in groups of four. Validators:
    the country must be in ``IBAN_LENGTHS`` (all SEPA countries, GB and a few others) with
    exactly that length, and the ISO 7064 mod-97 check must give 1. Lower-case IBANs are not
    detected.
``us_ssn``
    ``AAA-GG-SSSS``. Validators (SSA rules): area not 000, 666 or 900-999; group not 00; serial
    not 0000. Undelimited ``AAAGGSSSS`` or space-separated forms count only with an
    ``ssn``/``social security`` cue in the 40 characters before.
``ip_address``
    IPv4 dotted quads with octets 0-255 (no leading-zero octets, no 5th component); IPv6
    candidates validated by ``ipaddress.IPv6Address`` (at least two groups and four hex digits,
    so ``a::b`` or ``12:30:45`` are not addresses). Not reported (our call, they are not
    personal data and mostly noise): loopback, unspecified (``0.0.0.0``, ``::``), broadcast and
    netmasks (first octet 255), multicast, the documentation ranges (192.0.2.0/24,
    198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), and version strings -- a quad directly
    preceded by ``v`` or by ``version``/``ver``/``build``/``release``/``firmware`` within 12
    characters; quads whose four octets are all single digits (``1.2.3.4``, ``3.5.7.9``,
    ``8.8.8.8``: far more often versions, sequences or public resolvers than someone's
    address). Private (RFC 1918) addresses ARE reported. ``detail`` is ``ipv4``/``ipv6``.
``secret``
    Credentials by shape (``detail``): ``anthropic_api_key`` ``sk-ant-...``; ``openai_api_key``
    ``sk-...``/``sk-proj-...``/``sk-svcacct-...`` (>=20 body chars with letters AND digits, so
    placeholders like ``sk-your-key-here`` are skipped); ``aws_access_key_id``
    ``AKIA|ASIA`` + 16 upper alnum (the AWS docs example ending in ``EXAMPLE`` is skipped);
    ``github_token`` ``ghp_|gho_|ghu_|ghs_|ghr_`` + 36 alnum, ``github_pat_...``; ``jwt`` three
    base64url parts whose header decodes to a JSON object with ``"alg"``; ``private_key`` a
    ``-----BEGIN ... PRIVATE KEY-----`` block (to its END line, or to the end of the base64 body
    if truncated); ``slack_token`` ``xox[baprs]-...``; ``stripe_key`` ``sk_live_|rk_live_``;
    ``google_api_key`` ``AIza`` + 35 chars.

Overlaps are resolved by priority secret > email > iban > credit_card > us_ssn > phone >
ip_address, then by position.

Prefilters (why ``find_pii`` is cheap on text without PII): e-mail only if ``@`` occurs; secrets
only if the text has a run of >=20 token characters (one ``bytes.translate``) and a known prefix;
digit kinds only if the text has >=4 digits, and then one pass over digit clusters routes each
cluster to the detectors it can be; the phone matcher only for clusters with >=7 digits left
after blanking dates/times/versions and not preceded by an identifier cue; IPv6 candidates are
grown around each ``:`` (no full-text pass).

Masking
-------
``mask_value(kind, value)`` never returns the full value: ``j***@example.com``,
``**** **** **** 4242``, ``GB** **** **** **** **** 32`` (IBAN: country + last 2), ``***-**-6789``,
``+1 ***-***-0123`` (country code + last 4 digits, formatting kept), ``192.168.*.*`` /
``2001:db8:****``, secrets ``<known prefix>…<last 4>`` (at most the last 4 characters, and none
for values shorter than 12 or for private keys). ``masked_excerpt`` returns a one-line window
around a match in which every PII match intersecting the window is masked (the window widens to
whole matches, so no partial raw value is ever cut in).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from stdnum import iban as _std_iban
from stdnum import luhn as _std_luhn
from stdnum import numdb as _std_numdb

__all__ = [
    "KINDS",
    "PiiMatch",
    "find_pii",
    "mask_value",
    "masked_excerpt",
    "luhn_valid",
    "card_brand",
    "iban_valid",
    "ssn_valid",
    "IBAN_LENGTHS",
]

KINDS = ("email", "phone", "credit_card", "iban", "us_ssn", "ip_address", "secret")

_PRIORITY = {"secret": 0, "email": 1, "iban": 2, "credit_card": 3, "us_ssn": 4, "phone": 5, "ip_address": 6}


@dataclass(frozen=True)
class PiiMatch:
    kind: str  # one of KINDS
    start: int
    end: int
    value: str
    detail: str = ""


# --------------------------------------------------------------------------- validators


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) checksum over a string of digits (python-stdnum's ``luhn``)."""
    if not digits or not digits.isdigit() or not digits.isascii():
        return False
    return _std_luhn.is_valid(digits)


# Issuer identification number (IIN) ranges and lengths of the card networks (ISO/IEC 7812 as the
# networks publish them): (low, high, lengths, brand), matched on the leading digits; first match wins.
_IIN_TABLE: tuple[tuple[str, str, tuple[int, ...], str], ...] = (
    ("4", "4", (13, 16, 19), "visa"),
    ("51", "55", (16,), "mastercard"),
    ("2221", "2720", (16,), "mastercard"),
    ("34", "34", (15,), "amex"),
    ("37", "37", (15,), "amex"),
    ("6011", "6011", (16, 17, 18, 19), "discover"),
    ("644", "649", (16, 17, 18, 19), "discover"),
    ("622126", "622925", (16, 17, 18, 19), "discover"),  # co-branded with UnionPay
    ("65", "65", (16, 17, 18, 19), "discover"),
    ("3528", "3589", (16, 17, 18, 19), "jcb"),
    ("2131", "2131", (15,), "jcb"),
    ("1800", "1800", (15,), "jcb"),
    ("300", "305", (14, 15, 16, 17, 18, 19), "diners"),
    ("3095", "3095", (14, 15, 16, 17, 18, 19), "diners"),
    ("36", "36", (14, 15, 16, 17, 18, 19), "diners"),
    ("38", "39", (14, 15, 16, 17, 18, 19), "diners"),
    ("62", "62", (16, 17, 18, 19), "unionpay"),
    ("81", "81", (16, 17, 18, 19), "unionpay"),
    ("2200", "2204", (16, 17, 18, 19), "mir"),
    ("5019", "5019", (16,), "dankort"),
    ("4571", "4571", (16,), "dankort"),
    ("60", "60", (16,), "rupay"),
    ("508", "508", (16,), "rupay"),
    ("6521", "6522", (16,), "rupay"),
    ("506099", "506198", (16, 18, 19), "verve"),
    ("650002", "650027", (16, 18, 19), "verve"),
    ("9792", "9792", (16,), "troy"),
    ("636", "636", (16, 17, 18, 19), "interpayment"),
    ("637", "639", (16,), "instapayment"),
    ("50", "50", tuple(range(12, 20)), "maestro"),
    ("56", "58", tuple(range(12, 20)), "maestro"),
    ("6304", "6304", tuple(range(12, 20)), "maestro"),
    ("6759", "6759", tuple(range(12, 20)), "maestro"),
    ("6761", "6763", tuple(range(12, 20)), "maestro"),
    ("1", "1", (15,), "uatp"),
)


def card_brand(digits: str) -> str | None:
    """The card network for an IIN prefix and length (``_IIN_TABLE``), or None if none issues that shape."""
    n = len(digits)
    if not 12 <= n <= 19 or not digits.isdigit():
        return None
    for low, high, lengths, brand in _IIN_TABLE:
        head = digits[: len(low)]
        if low <= head <= high:
            if n in lengths:
                return brand
            if brand not in ("visa", "uatp"):  # a longer prefix elsewhere may still match (e.g. 4571 Dankort)
                continue
    return None


def _iban_lengths() -> dict[str, int]:
    """Country -> IBAN length, from the IBAN registry as python-stdnum ships it (``iban.dat``)."""
    out = {}
    for _length, low, _high, props, _children in _std_numdb.get("iban").prefixes:
        if "bban" in props:
            out[low] = 4 + sum(int(a) for a, _ in re.findall(r"(\d+)!([nac])", props["bban"]))
    return dict(sorted(out.items()))


IBAN_LENGTHS: dict[str, int] = _iban_lengths()  # every country of the IBAN registry


def iban_valid(iban: str) -> bool:
    """python-stdnum's IBAN check (registry country and length, the country's BBAN structure, ISO 7064
    mod 97-10; not the national bank lists, which lag behind new banks); spaces ignored, upper case only."""
    s = iban.replace(" ", "")
    if len(s) < 15 or not s.isalnum() or not s.isascii() or s != s.upper():
        return False
    if IBAN_LENGTHS.get(s[:2]) != len(s) or not s[2:4].isdigit():
        return False
    return _std_iban.is_valid(s, check_country=False)


def ssn_valid(ssn: str) -> bool:
    """SSA structural rules: area not 000/666/9xx, group not 00, serial not 0000. (python-stdnum's
    ``us.ssn`` also refuses a few numbers that were published -- 078-05-1120 and kin --; a text quoting
    one still shows an SSN-shaped value, so they are reported here.)"""
    d = re.sub(r"[\s-]", "", ssn)
    if len(d) != 9 or not d.isdigit() or not d.isascii():
        return False
    area, group, serial = int(d[:3]), int(d[3:5]), int(d[5:])
    return area != 0 and area != 666 and area < 900 and group != 0 and serial != 0


# --------------------------------------------------------------------------- patterns

_GENERIC_TLDS = frozenset(
    """com org net edu gov mil int io ai co app dev info biz me tv xyz tech online site cloud email
    mail name pro mobi asia aero coop museum jobs travel shop store blog news media agency
    company solutions services systems digital network center global group team studio design
    live life world today space website host codes software consulting finance bank insurance
    law legal health care clinic school academy university club social chat community works
    support help page zone one ltd inc llc gmbh eu uk us ca de fr es it nl se ch at be au nz jp
    cn in br ru mx ar pl cz dk fi no ie pt gr hu ro sk si hr bg lt lv ee lu is za kr tw hk sg my
    th vn ph id tr il ae sa eg ng ke""".split()
)
_FILE_EXTS = frozenset(
    """png jpg jpeg gif svg webp bmp ico tif tiff heic pdf js mjs cjs ts tsx jsx css scss less py
    pyc rb go rs java kt swift c h cc cpp hpp cs php pl sh bash zsh md rst txt log csv tsv json
    yaml yml toml ini cfg conf xml html htm zip gz tgz tar bz2 xz rar 7z mp3 mp4 wav mov avi mkv
    webm ogg flac doc docx xls xlsx ppt pptx odt lock bin exe dll so dylib wasm map""".split()
)
_EMAIL_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_EMAIL_RE = re.compile(
    r"([A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63}))@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24}))(?![A-Za-z0-9-])"
)

_SECRET_RES: list[tuple[str, str, re.Pattern]] = [
    # (detail, literal prefilter, pattern) -- order matters: sk-ant- before sk-
    (
        "private_key",
        "-----BEGIN",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:[\s\S]{0,20000}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s:,-]*[A-Za-z0-9+/=])"
        ),
    ),
    ("anthropic_api_key", "sk-ant-", re.compile(r"(?<![\w-])sk-ant-[A-Za-z0-9_-]{20,}")),
    ("openai_api_key", "sk-", re.compile(r"(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}")),
    ("stripe_key", "_live_", re.compile(r"(?<![\w-])(?:sk|rk)_live_[A-Za-z0-9]{16,}")),
    ("aws_access_key_id", "A", re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")),
    ("github_token", "_", re.compile(r"(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("slack_token", "xox", re.compile(r"(?<![\w-])xox[baprs]-[A-Za-z0-9-]{10,}")),
    ("google_api_key", "AIza", re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])")),
    ("jwt", "eyJ", re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{0,}")),
]

# digit clusters: digits with the separators phone/card/ssn/ip/iban numbers use
_NON_DIGIT = re.compile(r"\D")
# (clusters shorter than 4 characters hold no digit kind; an IBAN's start "GB82 WEST" is looked
# for in the few characters before each cluster)
_CLUSTER_RE = re.compile(r"[0-9][0-9./() -]{2,}[0-9]")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}")
_IBAN_GATE = re.compile(r"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}")
_IBAN_CAND = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?= ?[A-Z0-9]{4})")
_IPV4_RE = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    r"(?:/(?:3[0-2]|[12]?\d)(?!\d))?(?![\w]|\.\d)"
)
_CARD_RE = re.compile(
    r"(?<![\w-])(?:\d{12,19}(?!\w)|(?:\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5}"
    r"|\d{4}([ -])\d{4}\3\d{4}\3\d{4}\3\d{1,3})(?!\w|[ -]\d))"
)
_SSN_RE = re.compile(r"(?<![\w-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w]|-\d)")
_SSN_CUE = re.compile(r"\b(?:ssn|ss#|ss no|social security|social sec|sozialversicherung|tax id|tin)\b", re.I)

# identifier cues immediately before a number: "order #", "tracking no.", "ref:", "ID"...
_ID_CUE = re.compile(
    r"(?:\b(?:order|orders|tracking|track|invoice|inv|ticket|case|ref|reference|confirmation|conf|booking|"
    r"reservation|transaction|txn|trx|sku|part|model|serial|s/n|sn|account|acct|a/c|po|item|product|shipment|"
    r"parcel|package|awb|receipt|customer|member|membership|policy|claim|id|uid|pid|pin|otp|code|batch|lot|"
    r"build|version|ver|release|firmware|fw|job|run|request|req|issue|bug|pr|commit|isbn|ean|upc|imei|vin|"
    r"patient|mrn|employee|emp|student|record|file|doc|document|registration|reg|license|licence|voucher|"
    r"coupon|gift card|promo|route|flight|train|room|unit|apt|suite|zip|postal|postcode)"
    r"\s*(?:no\.?|num\.?|number|nr\.?|#|id|code|ref)?\s*[:#=]?\s*|#\s*)$",
    re.I,
)
# "... meeting ID is 871 2345 6789": an identifier named before the verb (phones only)
_ID_CUE_IS = re.compile(
    r"\b(?:id|reference|ref|code|pin|confirmation|order|tracking|account|invoice|ticket|case|serial)"
    r"(?:\s+(?:number|no\.?|#|id|code))?\s+(?:is|was)\s*$",
    re.I,
)
_VERSION_CUE = re.compile(r"(?:\bv|\bversion\s*|\bver\.?\s*|\bbuild\s*|\brelease\s*|\bfirmware\s*)$", re.I)
_DATEISH_RE = re.compile(
    r"\b(?<!\d[-/.])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})(?![-/.]\d)(?:[ T]\d{1,2}(?:[:.]\d{2}){1,2})?\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b|\b(?<!\d\.)(?!\d{3}\.\d{3}\.\d{4}\b)(?!0\d(?:\.\d\d){4}\b)\d+(?:\.\d+){2,}\b|\b\d{5}-\d{4}\b"
)
_PHONE_REGIONS_TRUNK = ("GB", "DE", "FR", "IN")
_PHONE_LENIENCY = phonenumbers.Leniency.VALID

# bytes.translate tables for the prefilters
_TOKEN_TABLE = bytes(97 if (65 <= c <= 90 or 97 <= c <= 122 or 48 <= c <= 57 or c in b"_-") else 32 for c in range(256))
_DIGITS = b"0123456789"
_RUN20 = b"a" * 20
_IBAN_TABLE = bytes(65 if 65 <= c <= 90 else 48 if 48 <= c <= 57 else 32 for c in range(256))


def _id_cued(text: str, start: int) -> bool:
    return _ID_CUE.search(text[max(0, start - 32) : start]) is not None


def _blank(m: re.Match) -> str:
    return " " * (m.end() - m.start())


def _blank_unless_intl(m: re.Match) -> str:
    """Blank a date/time/version, except dotted groups right after a country code (+61.441.482.714)."""
    before = m.string[max(0, m.start() - 5) : m.start()]
    if before.endswith("+") or re.search(r"\+\d{1,3}[-. ]$", before):
        return m.group(0)  # "+61-2-1234-5678", "+61.441.482.714": digit groups after a country code
    return " " * (m.end() - m.start())


# --------------------------------------------------------------------------- detectors


def _emails(text: str, out: list) -> None:
    find = text.find
    p = find("@")
    n = len(text)
    last_end = -1
    while p != -1:
        left = p
        while left > 0 and text[left - 1] in _EMAIL_LOCAL_CHARS and p - left < 64:
            left -= 1
        # trim leading dots/punct
        while left < p and not text[left].isalnum():
            left += 1
        if left < p and left >= last_end:
            m = _EMAIL_RE.match(text, left)
            if m and m.end(1) == p:
                tld = m.group(3).lower()
                domain = m.group(2).lower()
                ok = (tld in _GENERIC_TLDS or (len(tld) == 2 and tld not in _FILE_EXTS)) and tld not in _FILE_EXTS
                if ok and re.match(r"\d+x\.", domain):  # retina assets: name@2x.png
                    ok = False
                if ok and m.end() < n and text[m.end()] == ":" and m.end() + 1 < n and not text[m.end() + 1].isspace():
                    ok = False  # git@github.com:org/repo.git
                if ok:
                    out.append(PiiMatch("email", m.start(), m.end(), m.group(0)))
                    last_end = m.end()
        p = find("@", p + 1)


def _jwt_ok(value: str) -> bool:
    head = value.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
        obj = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return False
    return isinstance(obj, dict) and "alg" in obj


def _secrets(text: str, out: list) -> None:
    for detail, lit, rx in _SECRET_RES:
        if lit not in text:
            continue
        for m in rx.finditer(text):
            v = m.group(0)
            if detail == "openai_api_key" or detail == "anthropic_api_key":
                body = v[3:]
                if not (any(c.isdigit() for c in body) and any(c.isalpha() for c in body)) or len(set(body)) < 8:
                    continue
            elif detail == "aws_access_key_id":
                if v.endswith("EXAMPLE"):
                    continue
            elif detail == "jwt":
                if not _jwt_ok(v):
                    continue
            elif detail in ("github_token", "slack_token", "stripe_key", "google_api_key"):
                if len(set(v)) < 8:
                    continue
            out.append(PiiMatch("secret", m.start(), m.end(), v, detail))


def _ip_excluded(addr: ipaddress._BaseAddress) -> bool:
    """Not personal data (the default policy): loopback, unspecified, multicast, reserved, netmasks,
    documentation ranges."""
    if addr.is_loopback or addr.is_unspecified or addr.is_multicast:
        return True
    if addr.version == 4 and addr.is_reserved:  # 240.0.0.0/4 (for IPv6, "reserved" is most of the space)
        return True
    if addr.version == 4:
        s = str(addr)
        if s.startswith("255."):
            return True
        for net in _DOC_NETS4:
            if addr in net:
                return True
    else:
        if addr in _DOC_NET6:
            return True
    return False


_DOC_NETS4 = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"))
_DOC_NET6 = ipaddress.ip_network("2001:db8::/32")


_HEXCOLON = frozenset("0123456789abcdefABCDEF:")
_HEXCOLON_DOT = frozenset("0123456789abcdefABCDEF:.")


def _ipv6(text: str, out: list, all_ips: bool = False) -> None:
    """IPv6 candidates grown around each ':' whose neighbours are hex digits (no full-text regex pass:
    ``str.find`` and two character tests a colon), validated by ipaddress; an
    embedded IPv4 tail (``::ffff:10.0.0.1``), a zone (``%eth0``) and a prefix length (``/64``) belong
    to the address."""
    n = len(text)
    hexc = _HEXCOLON
    p = text.find(":")
    while p != -1:
        # most colons are not in an address (JSON keys, times, "Note:"): both neighbours must be hex or ':'
        if not ((p > 0 and text[p - 1] in hexc) or (p + 1 < n and text[p + 1] in hexc)):
            p = text.find(":", p + 1)
            continue
        a = p
        while a > 0 and text[a - 1] in hexc:
            a -= 1
        b = p
        while b < n and text[b] in _HEXCOLON_DOT:
            b += 1
        while b > a and text[b - 1] in ".:" and not text[a:b].endswith("::"):
            b -= 1
        v = text[a:b]
        nxt = max(b, p + 1)
        if v.count(":") < 2:
            p = text.find(":", nxt)
            continue
        ok_edges = (a == 0 or not (text[a - 1].isalnum() or text[a - 1] in "_.:")) and (
            b >= n or not (text[b].isalnum() or text[b] in "_")
        )
        digits = sum(c not in ":." for c in v)
        if ok_edges and (digits >= 4 or (all_ips and v in ("::1", "::"))) and ":::" not in v:
            try:
                addr = ipaddress.IPv6Address(v)
            except ValueError:
                addr = None
            if addr is not None and not all_ips and _ip_excluded(addr):
                # not reported, but its embedded IPv4 tail must not be reported alone either
                out.append(PiiMatch("ip_address", a, b, v, "excluded"))
            elif addr is not None:
                end = b
                z = _ZONE_RE.match(text, end)
                if z:
                    end = z.end()
                c = _CIDR6_RE.match(text, end)
                if c:
                    end = c.end()
                out.append(PiiMatch("ip_address", a, end, text[a:end], "ipv6"))
                nxt = max(nxt, end)
        p = text.find(":", nxt)


_ZONE_RE = re.compile(r"%[A-Za-z0-9_.-]{1,16}")
_CIDR6_RE = re.compile(r"/(?:12[0-8]|1[01]\d|[1-9]?\d)(?![\w])")


def _iban_at(text: str, i: int, out: list) -> None:
    """Try an IBAN starting at index i (country code position)."""
    if i > 0 and text[i - 1].isalnum():
        return
    cc = text[i : i + 2]
    want = IBAN_LENGTHS.get(cc)
    if want is None:
        return
    chars = []
    j = i
    n = len(text)
    while j < n and len(chars) < want:
        c = text[j]
        if c.isascii() and c.isalnum():
            chars.append(c)
            j += 1
        elif (
            c == " " and chars and j + 1 < n and text[j + 1].isascii() and text[j + 1].isalnum() and len(chars) % 4 == 0
        ):
            j += 1
        else:
            break
    if len(chars) != want or (j < n and text[j].isascii() and text[j].isalnum()):
        return
    value = text[i:j]
    if iban_valid(value):
        out.append(PiiMatch("iban", i, j, value))


# regions tried for numbers written in national format (a trunk 0, or parentheses/separators that
# make the digits read as a phone number); the first region where the number is valid wins
_PHONE_REGIONS_NATIONAL = (
    "GB",
    "DE",
    "FR",
    "IN",
    "BR",
    "ES",
    "IT",
    "NL",
    "MX",
    "AU",
    "JP",
    "CN",
    "RU",
    "KR",
    "PL",
    "SE",
    "CH",
    "AT",
    "BE",
    "PT",
    "IE",
    "DK",
    "NO",
    "FI",
    "CZ",
    "TR",
    "ZA",
    "AR",
    "CO",
    "CL",
    "PH",
    "ID",
    "SG",
    "NZ",
    "IL",
    "AE",
    "HU",
    "RO",
    "GR",
    "UA",
    "HR",
    "SK",
    "BG",
    "RS",
    "SI",
    "LT",
    "LV",
    "EE",
    "VN",
    "TH",
    "MY",
    "PK",
    "NG",
    "EG",
)
_PHONE_CUE = re.compile(
    r"(?:\b(?:phone|tel|tél|telephone|téléphone|telefon|teléfono|telefone|telefono|mobile|mobil|cell|fax|whatsapp|"
    r"call|contact|reach|sms|text|hotline)\b|電話|电话|手机)[^\n\d]{0,24}$",
    re.I,
)
_NANP_SHAPE = re.compile(
    r"^(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}(?:\s?(?:x|ext\.?|#)\s?\d{1,6})?$", re.I
)
_SSN_SHAPE = re.compile(r"^\d{3}[- ]\d{2}[- ]\d{4}$")
_FORMATTED = re.compile(r"\d[ .()/-]+\d")
_EXTENSION = re.compile(r"\s?(?:x|ext\.?|extension|#)\s?\d{1,6}", re.I)


def _phones(text: str, s: int, e: int, cluster: str, out: list) -> None:
    """Phone numbers around one digit cluster: libphonenumber (``phonenumbers``) across regions, with
    plausibility rules so that digit runs that are not phones stay out (see the module docstring)."""
    ws = max(0, s - 3)
    we = min(len(text), e + 12)
    window = _DATEISH_RE.sub(_blank_unless_intl, text[ws:we])
    if sum(c.isdigit() for c in window) < 7:
        return
    stripped = cluster.lstrip("(")
    glued = s > 0 and (text[s - 1].isalpha() or (text[s - 1] in "-_/" and s > 1 and text[s - 2].isalnum()))
    if _SSN_SHAPE.match(stripped) or glued:
        return  # AAA-GG-SSSS is an SSN's shape; digits glued to letters are a code (DE12 3456...)
    intl = stripped.startswith(("+", "00"))
    trunk = stripped.startswith("0") and not intl
    formatted = bool(_FORMATTED.search(cluster)) or cluster.startswith("(")
    cued = _PHONE_CUE.search(text[max(0, s - 40) : s]) is not None
    seen: list[tuple[int, int]] = []

    def take(m, region: str) -> None:
        a, b = ws + m.start, ws + m.end
        if any(a < y and x < b for x, y in seen):
            return
        raw = m.raw_string
        if ":" in raw or _id_cued(text, a) or _VERSION_CUE.search(text[max(0, a - 12) : a]):
            return
        if _ID_CUE_IS.search(text[max(0, a - 40) : a]):
            return
        x = _EXTENSION.match(text, b)  # the matcher leaves an extension such as 'x769' out at times
        if x:
            b = x.end()
            raw = text[a:b]
        seen.append((a, b))
        out.append(PiiMatch("phone", a, b, raw, phonenumbers.region_code_for_number(m.number) or region))

    # 1. valid North American numbers, and any number written internationally (+44 ..., 0049 ...)
    for m in phonenumbers.PhoneNumberMatcher(window, "US", leniency=_PHONE_LENIENCY):
        take(m, "US")
    if seen:
        return
    if intl:  # "+" or the 00 international prefix (DE's rules read 00 as one)
        for m in phonenumbers.PhoneNumberMatcher(window, "DE", leniency=phonenumbers.Leniency.POSSIBLE):
            if m.raw_string.lstrip("(").startswith(("+", "00")):
                take(m, "")
        return
    # 2. national formats: valid in some region, and written like a phone (trunk 0, separators): the
    #    whole cluster parsed per region (cheaper than a matcher per region), first valid region wins
    if trunk or formatted:
        cand = cluster.strip(" .-/")
        a = text.find(cand, s)
        for region in _PHONE_REGIONS_NATIONAL:
            try:
                num = phonenumbers.parse(cand, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(num):
                b = a + len(cand)
                if not (_id_cued(text, a) or _ID_CUE_IS.search(text[max(0, a - 40) : a])):
                    x = _EXTENSION.match(text, b)
                    b = x.end() if x else b
                    out.append(PiiMatch("phone", a, b, text[a:b], phonenumbers.region_code_for_number(num) or region))
                return
    # 3. North American shape with separators (or a phone cue) but not a valid assignment
    #    (generated test data: 555 and unassigned exchanges)
    for m in phonenumbers.PhoneNumberMatcher(window, "US", leniency=phonenumbers.Leniency.POSSIBLE):
        full = m.raw_string
        x = _EXTENSION.match(window, m.end)
        if x:
            full += window[m.end : x.end()]
        if _NANP_SHAPE.match(full) or (cued and len(phonenumbers.national_significant_number(m.number)) == 10):
            take(m, "US")


def _digit_kinds(text: str, out: list, all_ips: bool = False) -> None:
    n = len(text)
    iban_done = 0
    first = len(out)  # candidates this pass adds (e-mails and secrets came before)
    for cm in _CLUSTER_RE.finditer(text):
        s, e = cm.span()
        cluster = cm.group(0)
        if s > 0 and text[s - 1] in "+(":
            s -= 1
            cluster = text[s] + cluster
        if e < n and text[e] == ")":
            e += 1
            cluster += ")"
        # IBAN: country code + check digits right before the cluster or a few groups earlier
        if s >= 2 and (text[s - 1].isupper() or (text[s - 1] == " " and not text[max(0, s - 12) : s].islower())):
            for im in _IBAN_START.finditer(text, max(0, s - 12), s + 2):
                if im.start() >= iban_done:
                    iban_done = im.start() + 1
                    _iban_at(text, im.start(), out)
        nd = len(_NON_DIGIT.sub("", cluster))
        if nd < 4:
            continue
        if "." in cluster:
            for m in _IPV4_RE.finditer(text, s, min(n, e + 1)):
                a = m.start()
                if _VERSION_CUE.search(text[max(0, a - 12) : a]):
                    continue
                quad = m.group(0).split("/", 1)[0]
                if not all_ips:
                    if len(quad) == 7:  # all four octets single digits: 1.2.3.4, 8.8.8.8
                        continue
                    if _ip_excluded(ipaddress.IPv4Address(quad)):
                        continue
                out.append(PiiMatch("ip_address", a, m.end(), m.group(0), "ipv4"))
        if nd < 7:
            continue
        if nd >= 13:
            for m in _CARD_RE.finditer(text, s, min(n, e + 1)):
                digits = re.sub(r"[ -]", "", m.group(0))
                brand = card_brand(digits)
                if brand and luhn_valid(digits) and not _id_cued(text, m.start()):
                    out.append(PiiMatch("credit_card", m.start(), m.end(), m.group(0), brand))
        if nd >= 9:
            for m in _SSN_RE.finditer(text, s, min(n, e + 1)):
                if not ssn_valid(m.group(0)):
                    continue
                if m.group(2) != "-" and not _SSN_CUE.search(text[max(0, m.start() - 40) : m.start()]):
                    continue
                if m.group(2) == "-" and _id_cued(text, m.start()):
                    continue
                out.append(PiiMatch("us_ssn", m.start(), m.end(), m.group(0)))
        if nd <= 40 and not _id_cued(text, s) and not any(m.start <= s and e <= m.end + 1 for m in out[first:]):
            _phones(text, s, e, cluster, out)


def find_pii(text: str, *, all_ips: bool = False) -> list[PiiMatch]:
    """All PII/secret matches in ``text``: validated, non-overlapping, sorted by start.

    ``all_ips=True`` reports every IP address, including the ones the default policy leaves out as
    not personal (loopback such as ``::1``, unspecified, multicast, netmasks, documentation ranges such
    as ``2001:db8::/32``, single-digit quads)."""
    if not text:
        return []
    cands: list[PiiMatch] = []
    if "@" in text:
        _emails(text, cands)
    b = text.encode("utf-8", "surrogatepass")
    if _RUN20 in b.translate(_TOKEN_TABLE) or "-----BEGIN" in text:
        _secrets(text, cands)
    if len(b) - len(b.translate(None, _DIGITS)) >= 4:
        _digit_kinds(text, cands, all_ips)
    if ":" in text:
        _ipv6(text, cands, all_ips)
    # IBANs whose BBAN is mostly letters have no digit cluster to start from. b"AA00" in the mapped
    # bytes (A-Z -> A, 0-9 -> 0) is the gate's own start, found by a memory search first
    if b"AA00" in b.translate(_IBAN_TABLE) and _IBAN_GATE.search(text):
        done = {m.start for m in cands if m.kind == "iban"}
        for im in _IBAN_CAND.finditer(text):
            if im.start() not in done:
                _iban_at(text, im.start(), cands)
    if not cands:
        return []
    if any(m.detail == "excluded" for m in cands):
        ex = [(m.start, m.end) for m in cands if m.detail == "excluded"]
        cands = [m for m in cands if m.detail != "excluded" and not any(a <= m.start and m.end <= b for a, b in ex)]
        if not cands:
            return []
    if len(cands) == 1:
        return cands
    cands.sort(key=lambda m: (_PRIORITY[m.kind], m.start, -(m.end - m.start)))
    kept: list[PiiMatch] = []
    for m in cands:
        if all(m.end <= k.start or m.start >= k.end for k in kept):
            kept.append(m)
    kept.sort(key=lambda m: m.start)
    return kept


# --------------------------------------------------------------------------- masking

_SECRET_PREFIXES = (
    "sk-ant-api03-",
    "sk-ant-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-",
    "sk_live_",
    "rk_live_",
    "github_pat_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "xoxb-",
    "xoxa-",
    "xoxp-",
    "xoxr-",
    "xoxs-",
    "AKIA",
    "ASIA",
    "AIza",
    "eyJ",
)


def mask_value(kind: str, value: str) -> str:
    """A masked rendering of ``value`` that never contains the full raw value."""
    if kind == "email":
        local, _, domain = value.partition("@")
        return (local[:1] if len(local) > 1 else "") + "***@" + domain
    if kind == "credit_card":
        digits = re.sub(r"\D", "", value)
        return "**** **** **** " + digits[-4:]
    if kind == "iban":
        s = value.replace(" ", "")
        masked = s[:2] + "*" * (len(s) - 4) + s[-2:]
        return " ".join(masked[i : i + 4] for i in range(0, len(masked), 4))
    if kind == "us_ssn":
        return "***-**-" + re.sub(r"\D", "", value)[-4:]
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        prefix = ""
        body = value
        if value.startswith("+"):
            try:
                cc = str(phonenumbers.parse(value, None).country_code)
            except phonenumbers.NumberParseException:
                cc = ""
            if cc and value[1:].startswith(cc):
                prefix = "+" + cc
                body = value[1 + len(cc) :]
        keep = 4 if len(digits) > 6 else 0
        out = []
        seen = 0
        total = sum(c.isdigit() for c in body)
        for c in body:
            if c.isdigit():
                seen += 1
                out.append(c if seen > total - keep else "*")
            else:
                out.append(c)
        return prefix + "".join(out)
    if kind == "ip_address":
        if ":" in value:
            groups = [g for g in value.split(":") if g]
            return ":".join(groups[:2]) + ":****"
        parts = value.split(".")
        return ".".join(parts[:2]) + ".*.*"
    if kind == "secret":
        if value.startswith("-----BEGIN"):
            head = value.split("-----", 2)[1] if value.count("-----") >= 2 else "PRIVATE KEY"
            return "-----" + head + "-----…[redacted]"
        prefix = ""
        for p in _SECRET_PREFIXES:
            if value.startswith(p):
                prefix = p
                break
        tail = value[-4:] if len(value) >= 12 else ""
        return prefix + "…" + tail
    # unknown kind: keep nothing
    return "*" * min(len(value), 8)


@lru_cache(maxsize=16)
def _cached_find(text: str) -> tuple[PiiMatch, ...]:
    return tuple(find_pii(text))


def masked_excerpt(text: str, match: PiiMatch, context: int = 30, *, matches: list[PiiMatch] | None = None) -> str:
    """``match`` ± ``context`` characters on one line, every PII match in the window masked.

    ``matches`` (optional) is ``find_pii(text)`` if the caller already has it.
    """
    all_matches = list(matches) if matches is not None else list(_cached_find(text))
    if not any(m.start == match.start and m.end == match.end for m in all_matches):
        all_matches.append(match)
    s = max(0, match.start - context)
    e = min(len(text), match.end + context)
    # widen to whole matches so no partial raw value is cut into the excerpt
    changed = True
    while changed:
        changed = False
        for m in all_matches:
            if m.start < e and m.end > s and (m.start < s or m.end > e):
                s, e = min(s, m.start), max(e, m.end)
                changed = True
    inside = sorted((m for m in all_matches if m.start >= s and m.end <= e), key=lambda m: m.start)
    parts = []
    pos = s
    for m in inside:
        if m.start < pos:  # overlapping extra match: already masked
            continue
        parts.append(text[pos : m.start])
        parts.append(mask_value(m.kind, m.value))
        pos = m.end
    parts.append(text[pos:e])
    body = "".join(parts)
    body = re.sub(r"[\r\n\t\v\f\u2028\u2029]+", " ", body)
    return ("…" if s > 0 else "") + body + ("…" if e < len(text) else "")
