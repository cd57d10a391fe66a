"""The marker normaliser (apps.safety.markers) and the paper rules that read through it: pure,
no database. Every spelling of a real-execution marker is one marker; paper requests pass."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.safety.markers import CONFUSABLES, marker_key, marker_text, marker_tokens, truthiness, unicode_fold
from apps.safety.paper_rules import (
    EXCHANGE_VERB_KEYS,
    MODE_KEYS,
    PAPER_KEYS,
    REAL_FLAG_EXACT,
    REAL_TOKENS,
    SECRET_FRAGMENTS,
    paper_violations,
)

PAPER = {
    "portfolio": 3,
    "portfolio_id": 3,
    "exchange": "binance",
    "symbol": "BTCUSDT",
    "side": "buy",
    "type": "limit",
    "quantity": "0.01",
    "quote_quantity": None,
    "price": "50000",
    "stop_price": None,
    "time_in_force": "GTC",
    "client_order_id": "abc-123",
}

# The five strings of issue 18, finding 4, then their relatives.
ISSUE_MARKERS = [
    {"mode": ["live"]},
    {"mode": "lıve"},  # dotless ı
    {"testnet": False},
    {"simulate": False},
    {"account": "main"},
]

ATTACKS = [
    *[(marker, next(iter(marker))) for marker in ISSUE_MARKERS],
    # look-alike values
    ({"mode": "lіvе"}, "mode"),  # Cyrillic і, е
    ({"mode": "ｌｉｖｅ"}, "mode"),  # fullwidth
    ({"mode": "LIVE"}, "mode"),
    ({"mode": "li\u200bve"}, "mode"),  # zero-width space
    ({"mode": "l\u0131\u0307ve"}, "mode"),  # dotless i + combining dot above
    ({"mode": "l\u0332i\u0332v\u0332e\u0332"}, "mode"),  # combining underline
    ({"mode": "re\u00adal"}, "mode"),  # soft hyphen
    ({"mode": "r\ufeffeal"}, "mode"),  # BOM
    ({"mode": "ρrοd"}, "mode"),  # Greek ρ, ο
    ({"mode": "maіnnеt"}, "mode"),
    ({"mode": "l i v e"}, "mode"),
    ({"mode": "LiveTrading"}, "mode"),
    ({"mode": "livetrading"}, "mode"),
    ({"venue": "ｂｉｎａｎｃｅ"}, "venue"),
    ({"execution": "еxсhаngе"}, "execution"),
    # look-alike keys (an unknown key that normalises to a marker is a marker)
    ({"mоde": "live"}, "mоde"),  # Cyrillic о
    ({"ｍｏｄｅ": "live"}, "ｍｏｄｅ"),
    ({"mo\u200dde": "live"}, "mo\u200dde"),
    ({"MODE": "live"}, "MODE"),
    ({"Trading Mode": "live"}, "Trading Mode"),
    ({"tradingMode": "rеal"}, "tradingMode"),
    ({"x_mode": "live"}, "x_mode"),
    ({"executionTarget": "exchange"}, "executionTarget"),
    ({"network": "mainnet"}, "network"),
    ({"tеstnet": False}, "tеstnet"),
    ({"test_net": "false"}, "test_net"),
    ({"TestNet": 0}, "TestNet"),
    ({"ＴＥＳＴＮＥＴ": "0"}, "ＴＥＳＴＮＥＴ"),
    ({"sіmulate": 0}, "sіmulate"),
    ({"d.r.y.r.u.n": False}, "d.r.y.r.u.n"),
    ({"dryRun": "no"}, "dryRun"),
    ({"pаper": False}, "pаper"),
    ({"use_paper": "off"}, "use_paper"),
    ({"simOnly": False}, "simOnly"),
    ({"sandbox": None}, "sandbox"),
    ({"not_paper": True}, "not_paper"),
    ({"skipSimulation": 1}, "skipSimulation"),
    ({"lіve": True}, "lіve"),
    ({"ＬＩＶＥ": "true"}, "ＬＩＶＥ"),
    ({"is_live": "yes"}, "is_live"),
    ({"mainnet": 1}, "mainnet"),
    ({"sеnd_to_exchange": True}, "sеnd_to_exchange"),
    ({"аccount": "main"}, "аccount"),
    ({"accountId": 7}, "accountId"),
    ({"sub_account": "x"}, "sub_account"),
    ({"subaccount": "x"}, "subaccount"),
    ({"wallet": "spot"}, "wallet"),
    ({"аpі_kеy": "k"}, "аpі_kеy"),
    ({"ａｐｉＫｅｙ": "k"}, "ａｐｉＫｅｙ"),
    ({"sеcrеt": "s"}, "sеcrеt"),
    # type coercion: a flag that must say "paper" is refused unless clearly true ...
    ({"testnet": "false"}, "testnet"),
    ({"testnet": "0"}, "testnet"),
    ({"testnet": 0}, "testnet"),
    ({"testnet": 0.0}, "testnet"),
    ({"testnet": Decimal("0")}, "testnet"),
    ({"testnet": [True]}, "testnet"),
    ({"testnet": {"enabled": True}}, "testnet"),
    ({"testnet": "ｔｒｕｅ"}, "testnet"),  # looks true, is not "true" to a naive reader
    ({"paper": "tru\u200be"}, "paper"),
    ({"simulate": "off"}, "simulate"),
    ({"dry_run": None}, "dry_run"),
    # ... and a flag that says "real" unless clearly false
    ({"live": "fаlse"}, "live"),  # bool("fаlse") is True
    ({"live": [False]}, "live"),
    ({"real": "1"}, "real"),
    # lists, nesting, lists of objects
    ({"mode": ["paper", "live"]}, "mode"),
    ({"mode": [["lіve"]]}, "mode"),
    ({"mode": {"name": "live"}}, "mode"),
    ({"mode": {"live": False}}, "mode"),
    ({"meta": {"testnet": False}}, "meta.testnet"),
    ({"legs": [{"account": "main"}]}, "legs[0].account"),
    ({"legs": [{"mode": ["lıve"]}]}, "legs[0].mode"),
    ({"query_params": {"simulate": ["false"]}}, "query_params.simulate"),
]


@pytest.mark.parametrize(("extra", "field"), ATTACKS, ids=[repr(extra)[:60] for extra, _ in ATTACKS])
def test_attack_strings_are_refused(extra, field):
    violations = paper_violations({**PAPER, **extra})
    assert field in {violation.field for violation in violations}, violations


PASSING = [
    PAPER,
    {**PAPER, "mode": "paper"},
    {**PAPER, "mode": ["paper", "sim"]},
    {**PAPER, "mode": "ｐａｐｅｒ"},
    {**PAPER, "paper": True},
    {**PAPER, "paper": "true"},
    {**PAPER, "testnet": True},
    {**PAPER, "simulate": 1},
    {**PAPER, "dry_run": "yes"},
    {**PAPER, "live": False},
    {**PAPER, "live": "0"},
    {**PAPER, "account": None},
    {**PAPER, "account": ""},
    {**PAPER, "order_size_mode": "quote"},
    {**PAPER, "exchange": "kucoin", "symbol": "BTC-USDT"},
    {**PAPER, "note": "going live next week", "tag": ["live", "real"], "comment": "ｌｉｖｅ"},
    # a bot order's extra, a page ticket, a bot form, an order list query
    {**PAPER, "bot_id": 4, "candle_open_ms": 1_700_000_000_000, "reason": "rsi < 30 (live feed)", "rule": "entry"},
    {"csrfmiddlewaretoken": "x" * 64, "portfolio": "3", "side": "buy", "type": "market", "quantity": "0.1"},
    {
        "name": "dca",
        "portfolio": "3",
        "symbol": "BTCUSDT",
        "timeframe": "1m",
        "strategy": "dca",
        "params-interval_candles": "1",
        "risk-order_size": "50",
        "risk-order_size_mode": "quote",
    },  # fmt: skip
    {"query_params": {"status": "open", "open": "true", "limit": "50", "symbol": "BTCUSDT"}},
]


@pytest.mark.parametrize("payload", PASSING)
def test_paper_payloads_pass(payload):
    assert paper_violations(payload) == []


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("lıve", "live"),
        ("lіvе", "live"),
        ("ｌｉｖｅ", "live"),
        ("ＬＩＶＥ", "LIVE"),
        ("li\u200bv\u200ce\u200d", "live"),
        ("l\u0301i\u0308ve\ufe0f", "live"),
        ("İve", "Ive"),
        ("Μοde", "Mode"),  # Greek capital mu, small omicron
        ("ℓive", "live"),  # script small l (NFKC)
        ("𝐥𝐢𝐯𝐞", "live"),  # mathematical bold (NFKC)
        ("ǀive", "live"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_unicode_fold(raw, folded):
    assert unicode_fold(raw) == folded


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("tradingMode", "trading_mode"),
        ("Trading-Mode", "trading_mode"),
        ("ｔｒａｄｉｎｇＭｏｄｅ", "trading_mode"),
        ("X-MBX-APIKEY", "x_mbx_apikey"),
        ("  dry run  ", "dry_run"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold
        (42, "42"),
    ],
)
def test_marker_key(raw, normal):
    assert marker_key(raw) == normal


def test_marker_tokens_include_the_words_run_together():
    assert marker_tokens("l i v e") == {"l", "i", "v", "e", "live"}
    assert marker_tokens("Live-Trading") == {"live", "trading", "livetrading"}
    assert marker_tokens("") == frozenset()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (0.0, False),
        (Decimal("0"), False),
        (None, False),
        ("true", True),
        (" TRUE ", True),
        ("1", True),
        ("false", False),
        ("0", False),
        ("off", False),
        ("", False),
        ("fаlse", None),  # Cyrillic а
        ("ｔｒｕｅ", None),
        ("maybe", None),
        ([True], None),
        ({"x": 1}, None),
    ],
)
def test_truthiness_reads_the_raw_value(value, expected):
    assert truthiness(value) is expected


# Property: every spelling of every known marker is caught. ------------------------------

_LOOKALIKES: dict[str, list[str]] = {}
for _lookalike, _plain in CONFUSABLES.items():
    _LOOKALIKES.setdefault(_plain, []).append(_lookalike)
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e", "\u3164", "\U000e0041"]
_COMBINING = ["\u0301", "\u0307", "\u0308", "\u0332", "\u0336", "\ufe0f", "\u20dd"]


def _case_style(key: str, style: int) -> str:
    parts = key.split("_")
    return [
        key,
        parts[0] + "".join(part.capitalize() for part in parts[1:]),  # camelCase
        "".join(part.capitalize() for part in parts),  # PascalCase
        key.upper(),
        "-".join(parts),
        " ".join(parts),
        ".".join(parts),
    ][style]


@st.composite
def spellings(draw, word: str) -> str:
    """``word`` as an attacker might write it: case style, then per character a fullwidth
    form, a look-alike, invisible characters and combining marks."""
    text = _case_style(word, draw(st.integers(0, 6))) if "_" in word else word
    if draw(st.booleans()):
        text = text.upper() if draw(st.booleans()) else text.capitalize()
    out = []
    for char in text:
        choice = draw(st.integers(0, 3))
        if choice == 1 and "!" <= char <= "~":
            char = chr(ord(char) + 0xFEE0)
        elif choice == 2 and char in _LOOKALIKES:
            char = draw(st.sampled_from(_LOOKALIKES[char]))
        out.append(char)
        if draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(_INVISIBLE)))
        if char.isalpha() and draw(st.integers(0, 4)) == 0:
            out.append(draw(st.sampled_from(_COMBINING)))
    return "".join(out)


_ACCOUNT_KEYS = ["account", "account_id", "sub_account", "binance_account", "wallet"]
_KNOWN_MARKERS = (
    [(key, "live") for key in sorted(MODE_KEYS)]
    + [(key, value) for key in sorted(PAPER_KEYS) for value in (False, 0, "false", "0", None)]
    + [(key, value) for key in sorted(REAL_FLAG_EXACT | EXCHANGE_VERB_KEYS) for value in (True, 1, "true", "1")]
    + [(key, "main") for key in _ACCOUNT_KEYS]
    + [(fragment, "k3y") for fragment in SECRET_FRAGMENTS]
)


def _placed(draw, key: str, value: object) -> dict:
    where = draw(st.sampled_from(["top", "nested", "list"]))
    if where == "top":
        return {**PAPER, key: value}
    if where == "nested":
        return {**PAPER, "meta": {key: value}}
    return {**PAPER, "legs": [{"note": "x"}, {key: value}]}


@st.composite
def marker_payloads(draw) -> tuple[dict, str]:
    key, value = draw(st.sampled_from(_KNOWN_MARKERS))
    spelled = draw(spellings(key))
    return _placed(draw, spelled, value), spelled


@settings(max_examples=1500, deadline=None)
@given(marker_payloads())
def test_every_spelling_of_a_known_marker_key_is_refused(case):
    payload, spelled = case
    assert paper_violations(payload), (spelled, payload)


@st.composite
def mode_value_payloads(draw) -> tuple[dict, str]:
    key = draw(spellings(draw(st.sampled_from(sorted(MODE_KEYS)))))
    word = draw(spellings(draw(st.sampled_from(sorted(REAL_TOKENS)))))
    shape = draw(st.sampled_from(["scalar", "list", "nested_list", "object"]))
    value = {"scalar": word, "list": ["paper", word], "nested_list": [[word]], "object": {"name": word}}[shape]
    return _placed(draw, key, value), word


@settings(max_examples=1500, deadline=None)
@given(mode_value_payloads())
def test_every_spelling_of_a_real_execution_value_is_refused(case):
    payload, word = case
    assert paper_violations(payload), (word, payload)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(sorted({*MODE_KEYS, *PAPER_KEYS, *REAL_FLAG_EXACT, *REAL_TOKENS})).flatmap(
    lambda word: st.tuples(st.just(word), spellings(word))
))  # fmt: skip
def test_a_spelling_folds_to_the_word_it_imitates(case):
    word, spelled = case
    assert marker_text(spelled).replace("_", "") == word.replace("_", ""), spelled


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_folding_is_idempotent_and_total(text):
    once = marker_text(text)
    assert marker_text(once) == once
    assert set(once) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")


def test_long_keys_and_values_are_judged_but_not_cached():
    from apps.safety import markers, paper_rules

    long_key = "x" * 5000 + "_testnet"
    long_value = "paper " * 1000 + "lіve"
    assert paper_violations({**PAPER, "mode": "paper"}) == []  # the ordinary keys are cached
    before = (markers._marker_text_cached.cache_info().currsize, paper_rules._key_info_cached.cache_info().currsize)
    violations = paper_violations({**PAPER, long_key: False, "mode": long_value})
    assert {violation.field for violation in violations} == {long_key, "mode"}
    after = (markers._marker_text_cached.cache_info().currsize, paper_rules._key_info_cached.cache_info().currsize)
    assert after == before
