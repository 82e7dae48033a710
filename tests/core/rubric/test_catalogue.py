"""The rubric catalogue: every entry of the shipped file is complete, and a damaged file is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.resources import read_resource
from core.rubric.catalogue import CatalogueInvalid, load_catalogue, parse_catalogue
from core.rubric.models import Section

CATALOGUE = load_catalogue()


def test_the_catalogue_holds_the_28_tests_of_the_2017_paper_in_order() -> None:
    assert len(CATALOGUE.tests) == 28
    assert CATALOGUE.ids[0] == "data.1" and CATALOGUE.ids[-1] == "monitor.7"
    for section in Section:
        assert [t.number for t in CATALOGUE.section(section)] == list(range(1, 8))
    assert "2017" in CATALOGUE.source and "Breck" in CATALOGUE.source
    assert CATALOGUE.test("model.5").title == "A simpler model is not better"
    assert CATALOGUE.test("monitor.7").title == "Prediction quality has not regressed"


@pytest.mark.parametrize("test", CATALOGUE.tests, ids=lambda t: t.id)
def test_every_entry_is_complete(test: Any) -> None:
    assert test.id == f"{test.section}.{test.number}"
    assert test.title and test.passing and test.evidence
    assert test.check is not None or test.attestation.strip()
    # every test can be attested by hand for half a point (the paper's manual level)
    assert len(test.attestation) > 40
    assert test.passing != test.title


def test_the_automated_checks_named_by_the_issue_have_a_check_id() -> None:
    automated = {"data.1", "data.2", "data.3", "data.4", "data.5", "model.1", "model.3", "model.4", "model.5",
                 "model.6", "model.7", "infra.1", "infra.2", "infra.4", "infra.5"}
    assert automated <= {t.id for t in CATALOGUE.tests if t.check}
    checks = [t.check for t in CATALOGUE.tests if t.check]
    assert len(checks) == len(set(checks))


def _doc() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(read_resource("rubric", "ml_test_score_2017.json"))
    return doc


def test_an_entry_with_neither_check_nor_attestation_is_refused() -> None:
    doc = _doc()
    doc["tests"][6]["check"] = None
    doc["tests"][6]["attestation"] = ""
    with pytest.raises(CatalogueInvalid, match=r"\$\.tests\[6\].*data\.7 has neither"):
        parse_catalogue(json.dumps(doc))


def test_a_missing_or_misnumbered_test_is_refused() -> None:
    doc = _doc()
    del doc["tests"][3]
    with pytest.raises(CatalogueInvalid, match="section data must hold tests 1–7"):
        parse_catalogue(json.dumps(doc))
    doc = _doc()
    doc["tests"][1]["id"] = "data.9"
    with pytest.raises(CatalogueInvalid, match=r"\$\.tests\[1\]\.id"):
        parse_catalogue(json.dumps(doc))
    doc = _doc()
    doc["tests"][2]["title"] = " "
    with pytest.raises(CatalogueInvalid, match=r"\$\.tests\[2\]\.title"):
        parse_catalogue(json.dumps(doc))
