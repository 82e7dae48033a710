"""The rubric's catalogue: the 28 tests of the ML Test Score, read from Airlock's shipped resources.

The catalogue lives in ``resources/rubric/ml_test_score_2017.json`` (package data, read through
:mod:`core.resources`): the paper's titles, what passing means in our own words, the automated
check behind each test (or none), the evidence it reads and what a reviewer must do to attest
it by hand. :func:`load_catalogue` validates the file before anything uses it.

This module only reads the shipped file. It never touches the store or the network.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import MalformedRecord
from core.resources import read_resource
from core.rubric.models import RubricTest, Section

#: The shipped catalogue file (under ``resources/rubric/``).
CATALOGUE_FILE = "ml_test_score_2017.json"
CATALOGUE_FORMAT_VERSION = 1
TESTS_PER_SECTION = 7


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The rubric's tests, in the paper's order (sections, then numbers)."""

    id: str
    name: str
    source: str
    tests: tuple[RubricTest, ...]

    def test(self, test_id: str) -> RubricTest:
        """The test ``test_id`` (``"data.1"``); KeyError for an id the catalogue does not have."""
        for t in self.tests:
            if t.id == test_id:
                return t
        raise KeyError(test_id)

    def section(self, section: Section) -> tuple[RubricTest, ...]:
        """The tests of one section, by number."""
        return tuple(t for t in self.tests if t.section == section)

    @property
    def ids(self) -> tuple[str, ...]:
        """Every test id, in order."""
        return tuple(t.id for t in self.tests)


class CatalogueInvalid(MalformedRecord):
    """The shipped rubric catalogue does not have the layout or content Airlock expects."""

    code = "catalogue_invalid"


def _fail(where: str, problem: str) -> CatalogueInvalid:
    return CatalogueInvalid(
        f"The rubric catalogue {CATALOGUE_FILE} is invalid at {where}: {problem}. "
        "The installation is damaged: reinstall Airlock from its wheel or offline bundle."
    )


def _text(entry: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
    value = entry.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"{where}.{key}", "expected a non-empty text")
    return value


def parse_catalogue(text: str) -> Catalogue:
    """Read and validate a catalogue document.

    Every entry must have an id ``<section>.<number>`` matching its section and number, the
    paper's title, a description of passing, the evidence it reads, and either an automated
    check or attestation instructions; each section has exactly seven tests, numbered 1–7.

    Raises
    ------
    CatalogueInvalid
        Naming the entry and field that is wrong.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail("$", f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _fail("$", "expected an object")
    if doc.get("format_version") != CATALOGUE_FORMAT_VERSION:
        raise _fail("$.format_version", f"expected {CATALOGUE_FORMAT_VERSION}, found {doc.get('format_version')!r}")
    entries = doc.get("tests")
    if not isinstance(entries, list):
        raise _fail("$.tests", "expected a list of tests")
    tests: list[RubricTest] = []
    for i, entry in enumerate(entries):
        where = f"$.tests[{i}]"
        if not isinstance(entry, dict):
            raise _fail(where, "expected an object")
        try:
            section = Section(str(entry.get("section")))
        except ValueError:
            raise _fail(f"{where}.section", f"unknown section {entry.get('section')!r}") from None
        number = entry.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= TESTS_PER_SECTION:
            raise _fail(f"{where}.number", f"expected 1–{TESTS_PER_SECTION}, found {number!r}")
        test_id = _text(entry, "id", where)
        if test_id != f"{section}.{number}":
            raise _fail(f"{where}.id", f"expected {section}.{number}, found {test_id!r}")
        check = _text(entry, "check", where, optional=True)
        attestation = entry.get("attestation") or ""
        if not isinstance(attestation, str):
            raise _fail(f"{where}.attestation", "expected a text")
        if check is None and not attestation.strip():
            raise _fail(where, f"{test_id} has neither an automated check nor attestation instructions")
        tests.append(RubricTest(
            id=test_id, section=section, number=number, title=str(_text(entry, "title", where)),
            passing=str(_text(entry, "passing", where)), check=check,
            evidence=str(_text(entry, "evidence", where)), attestation=attestation,
        ))
    ids = [t.id for t in tests]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise _fail("$.tests", f"tests listed twice: {', '.join(duplicates)}")
    for section in Section:
        numbers = sorted(t.number for t in tests if t.section == section)
        if numbers != list(range(1, TESTS_PER_SECTION + 1)):
            raise _fail("$.tests", f"section {section} must hold tests 1–{TESTS_PER_SECTION}, found {numbers}")
    order = list(Section)
    tests.sort(key=lambda t: (order.index(t.section), t.number))
    return Catalogue(
        id=str(_text(doc, "id", "$")), name=str(_text(doc, "name", "$")),
        source=str(_text(doc, "source", "$")), tests=tuple(tests),
    )


@functools.lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The shipped ML Test Score (2017) catalogue, validated (read once per process).

    Raises
    ------
    CatalogueInvalid
        The shipped file is damaged.
    core.resources.ResourceMissing
        The file is not installed.
    """
    return parse_catalogue(read_resource("rubric", CATALOGUE_FILE))


__all__ = ["CATALOGUE_FILE", "Catalogue", "CatalogueInvalid", "load_catalogue", "parse_catalogue"]
