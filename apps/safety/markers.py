"""How the paper guard reads a key or a value before judging it. Pure: no Django, no I/O.

A marker such as ``mode: live`` must be recognised however it is spelled: ``lıve`` with a
dotless ı, Cyrillic ``lіvе``, fullwidth ``ｌｉｖｅ``, ``li\u200bve`` with a zero-width space,
``l̲ive`` with a combining mark, ``dry-run``/``dryRun``/``DRY RUN``. ``marker_text`` folds all
of those to the same ASCII snake case; ``marker_compact`` also drops the separators, so
``d.r.y.r.u.n`` and ``test_net`` meet ``dryrun`` and ``testnet``.

Folding is for *recognising* markers only. A flag that must be clearly true or clearly false
is read from its raw value (``truthiness``): a look-alike ``fаlse`` is not "false" to a
naive consumer (``bool("fаlse")`` is True), so it is unclear, and unclear is refused.

Cheap on the order hot path: ASCII text (every ordinary request) skips the Unicode work,
the tables are built once at import, and the per-text results are cached (bounded).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

# Latin look-alikes that NFKC leaves alone. Small and explicit on purpose: enough to fold the
# usual spoofs of the marker words, not a general confusables database.
CONFUSABLES: dict[str, str] = {
    # Latin
    "ı": "i",  # dotless i
    "ȷ": "j",  # dotless j
    "ɑ": "a",
    "ɡ": "g",
    "ɩ": "i",
    "ǀ": "l",  # dental click, looks like l
    "ĸ": "k",
    # Cyrillic
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "һ": "h",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "ѕ": "s",
    "т": "t",
    "у": "y",
    "х": "x",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "А": "A",
    "В": "B",
    "Е": "E",
    "Н": "H",
    "І": "I",
    "Ј": "J",
    "К": "K",
    "М": "M",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Ѕ": "S",
    "Т": "T",
    "У": "Y",
    "Х": "X",
    # Greek
    "α": "a",
    "ε": "e",
    "ι": "i",
    "κ": "k",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
}
# Blank letters (not format characters, so not caught by the category rule below).
INVISIBLE = frozenset({"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"})
# Format characters (zero-width space/joiners, BOM, word joiner, soft hyphen, bidi controls,
# tags), combining marks (accents, variation selectors).
_STRIP_CATEGORIES = frozenset({"Cf", "Mn", "Me"})
_CONFUSABLES_TABLE = str.maketrans(CONFUSABLES)

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEP_RE = re.compile(r"[^a-z0-9]+")

_TRUE_WORDS = frozenset({"1", "true", "yes", "y", "on", "t", "live", "real", "enabled", "enable"})
_FALSE_WORDS = frozenset({"0", "false", "no", "n", "off", "f", "disabled", "disable", "none", "null", ""})

MAX_VALUE_NODES = 200


def unicode_fold(text: str) -> str:
    """``text`` with compatibility forms, look-alikes, invisible and combining characters
    folded to plain characters, case kept (camelCase still splits afterwards)."""
    if text.isascii():
        return text
    # NFKD first so accents come apart from their letters and can be dropped; NFKC last so
    # what is left is in composed, compatibility-folded form.
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        char for char in decomposed if char not in INVISIBLE and unicodedata.category(char) not in _STRIP_CATEGORIES
    )
    return unicodedata.normalize("NFKC", kept.translate(_CONFUSABLES_TABLE))


# Every order request carries the same dozen keys: normalising them once per process, not per
# request, keeps the guard off the order hot path's profile. Bounded in entries and in entry
# size, so a stream of made-up (or megabyte-long) keys cannot grow memory.
CACHED_TEXT_MAX = 256


def marker_text(text: str) -> str:
    """Snake case ASCII: ``tradingMode``, ``Trading-Mode``, ``ｔｒａｄｉｎｇ ｍｏｄｅ`` → ``trading_mode``."""
    return _marker_text_cached(text) if len(text) <= CACHED_TEXT_MAX else _marker_text(text)


def _marker_text(text: str) -> str:
    folded = _CAMEL_RE.sub("_", unicode_fold(text)).casefold()
    if not folded.isascii():  # casefold can expand into characters the fold knows (İ → i̇)
        folded = unicode_fold(folded)
    return _SEP_RE.sub("_", folded).strip("_")


_marker_text_cached = lru_cache(maxsize=4096)(_marker_text)


def marker_key(key: Any) -> str:
    return marker_text(key if isinstance(key, str) else str(key))


def marker_compact(text: str) -> str:
    """``marker_text`` without separators: ``d_r_y_run`` → ``dryrun``."""
    return text.replace("_", "")


def marker_tokens(value: Any) -> frozenset[str]:
    """The words a scalar value says, plus all of them run together (``l i v e`` → ``live``)."""
    text = value if isinstance(value, str) else str(value)
    return _tokens_cached(text) if len(text) <= CACHED_TEXT_MAX else _tokens(text)


def _tokens(text: str) -> frozenset[str]:
    normal = marker_text(text)
    words = [token for token in normal.split("_") if token]
    return frozenset((*words, marker_compact(normal))) if words else frozenset()


_tokens_cached = lru_cache(maxsize=4096)(_tokens)


def scalar_leaves(value: Any) -> Iterator[Any]:
    """The scalars in ``value`` (itself, or inside lists and dicts, dict keys included), at
    most MAX_VALUE_NODES of them; past that, a sentinel the caller treats as unclear."""
    stack = [value]
    seen = 0
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_VALUE_NODES:
            yield TOO_LARGE
            return
        if isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        else:
            yield item


TOO_LARGE = object()


def truthiness(value: Any) -> bool | None:
    """True/False when the raw value clearly says so, None when it is unclear.

    Booleans, numbers (0 is false), None (false) and the usual ASCII words. Anything else is
    unclear: lists, objects, and text that only *looks* like a word once folded.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return value != 0
    if value is None:
        return False
    if isinstance(value, str):
        lowered = value.strip().lower()
        if not lowered.isascii():
            return None
        if lowered in _TRUE_WORDS:
            return True
        if lowered in _FALSE_WORDS:
            return False
    return None
