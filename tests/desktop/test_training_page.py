"""The Training page against a real encrypted workspace and real training runs in child processes.

breast_cancer (scikit-learn's bundled copy, written as CSV, with an identifier column added)
is imported through the engine; the page builds the spec from its profile, validates it,
queues real runs with a tiny budget, cancels one, and shows and compares the stored versions.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from core.api import Algorithm, Engine, RunStatus, dump_spec
from desktop.bus import EventBus
from desktop.pages.training import TAB_COMPARE, TAB_MODELS, TRAIN, TrainingPage
from desktop.widgets.training_runs import CANCELLED, QUEUED, RUNNING, SUCCEEDED, TrialBoard
from tests.core.data import real_data

TIMEOUT = 30_000
RUN_TIMEOUT = 300_000  # a real training in a fresh child process, twice (reproducibility), on a busy machine


@pytest.fixture
def page(qtbot, engine: Engine, bus: EventBus, tmp_path: Path) -> TrainingPage:
    df = real_data.frame("breast_cancer")
    df.insert(0, "patient_id", range(100_000, 100_000 + len(df)))
    path = real_data.write_csv("breast_cancer", tmp_path, df=df)
    engine.datasets.import_file(path, name="breast_cancer")
    p = TrainingPage(bus)
    qtbot.addWidget(p)
    bus.changed.connect(p.on_changes)
    p.set_engine(engine)
    p.resize(1300, 850)
    qtbot.waitUntil(lambda: p.form.version_box.count() == 1, timeout=TIMEOUT)
    return p


def built(qtbot, page: TrainingPage, target: str = "target") -> None:
    """Pick ``target`` as a user would and wait until the spec is built and checked."""
    box = page.form.target_box
    i = box.findData(target)
    assert i > 0, f"{target} is not offered"
    box.setCurrentIndex(i)
    box.activated.emit(i)

    def checked() -> bool:
        spec = page.form.spec()
        return spec is not None and spec.target == target and page.problems is not None

    qtbot.waitUntil(checked, timeout=TIMEOUT)


def tiny(qtbot, page: TrainingPage, *, seed: int = 0) -> None:
    """One logistic trial, two folds: the smallest real run."""
    form = page.form
    for algorithm, box in form.algorithm_boxes.items():
        box.setChecked(algorithm == Algorithm.LOGISTIC)
    form.trials_box.setValue(1)
    form.folds_box.setValue(2)
    form.seed_box.setValue(seed)
    qtbot.waitUntil(lambda: page.problems == [] and page.start_button.isEnabled(), timeout=TIMEOUT)


def test_spec_from_the_profile(qtbot, page: TrainingPage) -> None:
    form = page.form
    assert form.version_box.currentText() == "breast_cancer@1"
    assert not page.start_button.isEnabled()
    built(qtbot, page)
    spec = form.spec()
    assert spec is not None and spec.dataset == "breast_cancer@1" and spec.target == "target"
    assert form.task_box.currentText() == "binary" and form.metric_box.currentText() == "roc_auc"
    assert page.problems == [] and "can run" in form.summary.text() and page.start_button.isEnabled()
    names = form.feature_names()
    assert len(names) == 31 and "target" not in names
    assert "patient_id" not in form.checked_features() and len(form.checked_features()) == 30
    row = names.index("patient_id")
    assert "identifier" in form.features.item(row, 2).text()
    assert "identifier" in form.features.item(row, 0).toolTip()
    assert form.algorithm_boxes[Algorithm.LOGISTIC].isChecked()
    assert not form.algorithm_boxes[Algorithm.LINEAR].isEnabled()  # regression only
    assert "No CUDA GPU" in form.gpu_note.text() or form.gpu_radio.isEnabled()
    # the user's edits reach the spec
    form.set_feature_checked("mean radius", False)
    form.trials_box.setValue(3)
    spec = form.spec()
    assert spec is not None and "mean radius" not in spec.features and spec.search.trials == 3
    assert any(e.column == "mean radius" and e.reason == "left out by you" for e in spec.excluded)


def test_validation_shows_problems_next_to_the_form(qtbot, page: TrainingPage, tmp_path: Path) -> None:
    built(qtbot, page)
    spec = page.form.spec()
    assert spec is not None
    bad = tmp_path / "bad.toml"
    bad.write_text(dump_spec(dataclasses.replace(spec, target="diagnosis")), encoding="utf-8")
    page.load_spec_file(bad)
    qtbot.waitUntil(lambda: page.problems is not None, timeout=TIMEOUT)
    assert any(p.field == "target" and "diagnosis" in p.message for p in page.problems)
    label = page.form.problem_labels["data"]
    assert label.isVisibleTo(page) and "diagnosis" in label.text()
    assert "problem" in page.form.summary.text() and not page.start_button.isEnabled()
    # an edit in the form is checked again: no algorithm is a problem of the algorithms group
    built(qtbot, page)
    for box in page.form.algorithm_boxes.values():
        box.setChecked(False)
    qtbot.waitUntil(lambda: bool(page.problems), timeout=TIMEOUT)
    assert "no algorithm" in page.form.problem_labels["algorithms"].text()
    assert page.form.problem_labels["data"].text() == ""


def test_queued_runs_store_versions_shown_and_compared(qtbot, page: TrainingPage, engine: Engine) -> None:
    built(qtbot, page)
    tiny(qtbot, page)
    page.model_name.setText("cancer")
    page.start_button.click()
    tiny(qtbot, page, seed=7)
    page.start_button.click()
    assert [q.status for q in page.queue] == [RUNNING, QUEUED]
    qtbot.waitUntil(lambda: [q.status for q in page.queue] == [SUCCEEDED, SUCCEEDED], timeout=2 * RUN_TIMEOUT)
    qtbot.waitUntil(lambda: page.model_table_model.rowCount() == 2, timeout=TIMEOUT)
    assert sorted(v.label for v in page.model_table_model.rows()) == ["cancer@1", "cancer@2"]
    assert "stored cancer@2" in page.queue[1].detail
    # The stored search table replaces the live rows once the run's evidence has loaded (a live score
    # may have been throttled away): wait for that, not for the first live row.
    qtbot.waitUntil(lambda: len(page.runs_widget.live_trials()) == 1 and page.runs_widget.live_trials()[0].done,
                    timeout=TIMEOUT)
    trial = page.runs_widget.live_trials()[0]
    assert trial.algorithm == "logistic" and trial.score is not None and trial.done
    assert {r.status for r in page.runs_widget.history_model.rows()} == {RunStatus.SUCCEEDED}

    page.tabs.setCurrentIndex(TAB_MODELS)
    page.model_table.selectRow(0)
    qtbot.waitUntil(lambda: bool(page.model_view.sections), timeout=TIMEOUT)
    summary = page.model_view.section("Summary")
    assert "cancer@" in summary and "logistic" in summary
    assert "roc_auc" in page.model_view.section("Holdout metrics") or \
        page.model_view.section("Holdout metrics").endswith("not computed</p>")
    assert all(page.model_view.section(t) for t in ("Slices", "Reproducibility", "Staleness", "Feature importance"))

    page.tabs.setCurrentIndex(TAB_COMPARE)
    view = page.compare_view
    assert {view.a_box.currentText(), view.b_box.currentText()} == {"cancer@1", "cancer@2"}
    view.compare_button.click()
    qtbot.waitUntil(lambda: view.table.rowCount() > 0, timeout=TIMEOUT)
    rows = {name: (a, b) for name, a, b in view.rows()}
    assert rows["Algorithm"] == ("logistic", "logistic")
    assert rows["Seed"] in (("7", "0"), ("0", "7"))


def test_cancel_stores_no_model_version(qtbot, page: TrainingPage, engine: Engine) -> None:
    built(qtbot, page)
    form = page.form
    for algorithm, box in form.algorithm_boxes.items():
        box.setChecked(algorithm == Algorithm.RANDOM_FOREST)
    form.trials_box.setValue(200)
    qtbot.waitUntil(lambda: page.problems == [] and page.start_button.isEnabled(), timeout=TIMEOUT)
    page.start_button.click()
    qtbot.waitUntil(lambda: bool(page.runs_widget.live_trials()), timeout=RUN_TIMEOUT)
    with qtbot.waitSignal(page.runner(TRAIN).cancelled, timeout=TIMEOUT):
        page.runs_widget.cancel_button.click()
    assert page.queue[0].status == CANCELLED and "nothing was stored" in page.queue[0].detail
    assert engine.training.models() == []
    assert [r.status for r in engine.training.runs()] == [RunStatus.CANCELLED]
    qtbot.waitUntil(lambda: page.runs_widget.history_model.rowCount() == 1, timeout=TIMEOUT)
    assert page.model_table_model.rowCount() == 0


def test_trial_board_reads_the_progress_messages() -> None:
    board = TrialBoard()
    assert board.feed("trial 1/3 (random_forest), fold 1/5")
    assert board.feed("trial 1/3 (random_forest), fold 2/5")
    assert not board.feed("Reading the data")
    assert board.feed("trial 2/3 (logistic), fold 1/5")  # trial 1's score was throttled away: done, score unknown
    assert board.feed("trial 2/3 (logistic): 0.9712")
    first, second = board.rows()
    assert (first.done, first.score) == (True, None) and first.state.startswith("done")
    assert (second.algorithm, second.score, second.done) == ("logistic", 0.9712, True)
