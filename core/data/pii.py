"""Personal data by the look of the values: e-mail addresses, card numbers (Luhn), phone and
national-id numbers, person names and free text. Patterns over a sample of a column's values;
the profile decides which columns to ask about and redacts what this finds.
"""

from __future__ import annotations

import re

from core.data.models import PiiKind

#: Share of the sampled values that must match for a column to count as that kind.
PII_SHARE = 0.6
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^(\+\d{1,3}[\s.-]?)?\(?\d{2,5}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}$")
_NATIONAL = (
    re.compile(r"^\d{3}-\d{2}-\d{4}$"),  # US SSN
    re.compile(r"^[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]$"),  # UK NINO
    re.compile(r"^\d{3}\s?\d{3}\s?\d{3}$"),  # CA SIN / 9-digit national numbers
)
# A person's name: two to six words of letters, each capitalised (a comma, initials,
# apostrophes, hyphens and parentheses allowed: "Braund, Mr. Owen Harris", "O'Neil").
_NAME = re.compile(r"^[(\"]?[^\W\d_][^\W\d_'’.\-]*[.)\"]?(?:,?\s+[(\"]?[^\W\d_][^\W\d_'’.\-]*[.)\"]?){1,5}$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def pii_kind(values: list[str]) -> PiiKind | None:
    """The PII pattern most of ``values`` match (email, card, phone, national_id), or None."""
    if not values:
        return None
    counts = {PiiKind.EMAIL: 0, PiiKind.CARD: 0, PiiKind.PHONE: 0, PiiKind.NATIONAL_ID: 0}
    for v in values:
        v = v.strip()
        if _EMAIL.match(v):
            counts[PiiKind.EMAIL] += 1
            continue
        digits = re.sub(r"[\s-]", "", v)
        if digits.isdigit() and 13 <= len(digits) <= 19 and luhn_ok(digits):
            counts[PiiKind.CARD] += 1
        elif any(p.match(v) for p in _NATIONAL):
            counts[PiiKind.NATIONAL_ID] += 1
        elif _PHONE.match(v) and 7 <= sum(c.isdigit() for c in v) <= 15 and not v.isdigit():
            counts[PiiKind.PHONE] += 1
    kind, best = max(counts.items(), key=lambda kv: kv[1])
    return kind if best >= PII_SHARE * len(values) else None


def text_pii(values: list[str], unique_per_row: bool, spaced: bool) -> PiiKind | None:
    """A text column's personal-data kind: a PII pattern (:func:`pii_kind`), or, for text
    unique per row with spaces in most values (``spaced``), person names (≥ 60% of the
    sample read as names) or other free text (notes, addresses)."""
    pii = pii_kind(values)
    if pii is None and unique_per_row and spaced:
        names = sum(1 for v in values if _NAME.match(v.strip()))
        pii = PiiKind.PERSON_NAME if values and names >= PII_SHARE * len(values) else PiiKind.FREE_TEXT
    return pii
