"""A rubric result as a sign-off report (one self-contained HTML page), and the blocks it is made of.

:func:`build_report` turns a stored rubric result, the catalogue of the 28 tests and (when the
caller has them) the attestations and next steps into a :class:`RubricReport`: the four section
sums beside the minimum and the band, with the scoring rule printed next to the score; one table
per section giving each test's status, outcome, thresholds, when it ran, the evidence it read
(links to the *Evidence read* list) and its detail or why it was not done; the attestations (who,
statement, files with their SHA-256, expiry, and whether this result counted it); the next steps;
a sign-off block.
:func:`render_html` writes that report as one page (inline CSS, nothing fetched, no script);
:mod:`core.rubric.report_pdf` lays out the same blocks with ReportLab, so both say the same.

The report holds no scoring rule of its own: sums, band and rule text are the result's.
Every text from the workspace (statements, names, details, record ids) is escaped where written.
This module must not read the store or write files: the service does that, audited
(:mod:`core.store.exports`).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from core.reports.display import number
from core.rubric.models import SOURCE, Attestation, NextStep, RubricResult, RubricTest, Section


class HasTests(Protocol):
    """A loaded catalogue (``core.rubric.catalogue``): its tests in the paper's order."""

    @property
    def tests(self) -> Sequence[RubricTest]: ...


Catalogue = Sequence[RubricTest] | HasTests

#: Section titles of the report, in order (the PDF bookmarks them; tests look for them).
SECTIONS = ("Summary", "Score", "Next steps", *(s.heading for s in Section), "Attestations", "Evidence read",
            "Sign-off")
#: Next steps listed (the weakest section's first); the section tables cover the rest.
MAX_STEPS = 10
STATUS_TEXT = {"not_done": "not done", "manual": "manual (attested)", "automated": "automated"}
OUTCOME_TEXT = {"pass": "pass", "fail": "fail", "not_applicable": "not applicable"}


# --- the report as blocks ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph; ``note`` is small print, ``strong`` is the score line."""

    text: str
    note: bool = False
    strong: bool = False


@dataclass(frozen=True, slots=True)
class Facts:
    """Label/value pairs read top to bottom."""

    rows: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Cell:
    """A table cell: text, and links (``(label, anchor)``) shown after it, one a line."""

    text: str
    links: tuple[tuple[str, str], ...] = ()
    anchor: str = ""  # a target other cells link to


@dataclass(frozen=True, slots=True)
class Grid:
    """A table: headers, rows of cells, shares of the width, flagged rows (failed or the minimum)."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...]
    flagged: tuple[int, ...] = ()
    title: str = ""


Block = Para | Facts | Grid


@dataclass(frozen=True, slots=True)
class Part:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class RubricReport:
    """The whole report: title, generation time, parts in :data:`SECTIONS` order."""

    title: str
    generated: str
    parts: tuple[Part, ...]


# --- wording -------------------------------------------------------------------------------


def when(moment: str | None) -> str:
    """An ISO 8601 moment in UTC, to the minute (``2026-12-01 11:30 UTC``); "—" when absent."""
    if not moment:
        return "—"
    try:
        parsed = dt.datetime.fromisoformat(moment)
    except ValueError:
        return moment
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC)
    return parsed.strftime("%Y-%m-%d %H:%M UTC")


def points_text(p: float) -> str:
    """Points as the rubric counts them: ``3``, ``2.5``."""
    return f"{p:g}"


def anchor(ref: str) -> str:
    """The in-document target of an evidence link ``kind:id`` (letters, digits, ``-`` only)."""
    return "ev-" + re.sub(r"[^A-Za-z0-9]+", "-", ref).strip("-").lower()


def short_ref(ref: str) -> str:
    """A record link as a cell shows it: long ids cut to 12 characters (the *Evidence read* list has them whole)."""
    kind, sep, ident = ref.partition(":")
    return f"{kind}{sep}{ident[:12]}…" if len(ident) > 20 and "@" not in ident else ref


def thresholds_text(thresholds: Mapping[str, float | str]) -> str:
    """``name = value`` pairs, sorted by name; "—" when none."""
    if not thresholds:
        return "—"
    return "; ".join(f"{k} = {number(v) if isinstance(v, float) else v}" for k, v in sorted(thresholds.items()))


def catalogue_tests(catalogue: Catalogue) -> tuple[RubricTest, ...]:
    """The catalogue's entries, whether given as a sequence or an object with ``tests``."""
    if isinstance(catalogue, Sequence):
        return tuple(catalogue)
    return tuple(catalogue.tests)




# --- building ------------------------------------------------------------------------------


def build_report(result: RubricResult, catalogue: Catalogue, *, attestations: Iterable[Attestation] = (),
                 next_steps: Iterable[NextStep] = (), model_label: str | None = None,
                 generated_at: str | None = None) -> RubricReport:
    """The sign-off report of ``result``.

    Parameters
    ----------
    result
        The stored rubric result (its sums, band and rule text are shown as they are).
    catalogue
        The rubric's tests (titles and sections); a test the result lacks reads "not done".
    attestations
        The model version's attestations; each shows whether it was still valid when the
        result was made.
    next_steps
        What would raise the score most (``core.rubric.scoring.next_steps``), in that order.
    model_label
        How to name the model version (``loans@3``); its id when not given.
    generated_at
        When the report was made, ISO 8601 (now when not given).

    Returns
    -------
    RubricReport
    """
    tests = catalogue_tests(catalogue)
    titles = {t.id: t.title for t in tests}
    by_id = {r.test_id: r for r in result.results}
    label = model_label or result.model_version_id
    generated = when(generated_at or dt.datetime.now(dt.UTC).isoformat())
    score = result.score
    atts = tuple(attestations)

    summary = Part("Summary", (Facts((
        ("Model version", label), ("Model version ID", result.model_version_id), ("Rubric result", result.id),
        ("Policy version", str(result.policy_version)), ("Run by", result.created_by),
        ("Run at", when(result.created_at)), ("Final score", points_text(score.final)),
        ("Band", score.band),
    )),))

    counts = {s: sum(1 for t in tests if t.section == s) for s in Section}
    sums = {s.section: s.points for s in score.sections}
    low = min(sums.values()) if sums else 0.0
    rows, flagged = [], []
    for i, s in enumerate(Section):
        got = sums.get(s, 0.0)
        is_min = got == low
        if is_min:
            flagged.append(i)
        rows.append((Cell(s.heading), Cell(points_text(got)), Cell(str(counts[s])),
                     Cell("the minimum" if is_min else "")))
    score_part = Part("Score", (
        Grid(("Section", "Points", "Tests", ""), tuple(rows), (0.4, 0.15, 0.15, 0.3), tuple(flagged)),
        Para(f"Final score: {points_text(score.final)} ({score.band}), the minimum of the four "
             f"section sums ({points_text(low)}).", strong=True),
        Para(f"Scoring rule: {score.rule_text}"),
        *(() if SOURCE in score.rule_text else (Para(f"Source: {SOURCE}.", note=True),)),
    ))

    steps = tuple(next_steps)
    if steps:
        step_rows = tuple((Cell(f"{s.test_id} {titles.get(s.test_id, '')}".strip()),
                           Cell(s.section.heading),
                           Cell("+" + points_text(s.gain)), Cell(s.needs)) for s in steps[:MAX_STEPS])
        rest = len(steps) - MAX_STEPS
        steps_part = Part("Next steps", (
            Para("Weakest section first, largest gain first."),
            Grid(("Test", "Section", "Gain", "What it needs"), step_rows, (0.32, 0.14, 0.08, 0.46)),
            *((Para(f"{rest} more tests could add points; each section's table below says what each needs.",
                    note=True),) if rest > 0 else ()),
        ))
    else:
        full = bool(tests) and all(sums.get(s, 0.0) >= counts[s] for s in Section)
        steps_part = Part("Next steps", (Para("Nothing left to do: every test scores its full points." if full
                                              else "No next steps were given with this report."),))

    test_parts = []
    for s in Section:
        in_section = [t for t in tests if t.section == s]
        trows: list[tuple[Cell, ...]] = []
        tflag: list[int] = []
        for i, t in enumerate(in_section):
            r = by_id.get(t.id)
            if r is None:
                trows.append((Cell(f"{t.id} {t.title}"), Cell("not done"), Cell("—"), Cell("—"), Cell("—"),
                              Cell("—"), Cell("Not in this result.")))
                continue
            status, outcome = r.status.value, r.outcome.value if r.outcome is not None else ""
            if outcome == "fail":
                tflag.append(i)
            detail = r.reason_not_done if status == "not_done" and r.reason_not_done else r.detail
            links = tuple((short_ref(ref), anchor(ref)) for ref in r.evidence)
            trows.append((Cell(f"{t.id} {t.title}"), Cell(STATUS_TEXT.get(status, status)),
                          Cell(OUTCOME_TEXT.get(outcome, "—")), Cell("" if links else "—", links),
                          Cell(thresholds_text(r.thresholds)), Cell(when(r.ran_at)), Cell(detail or "—")))
        test_parts.append(Part(s.heading, (
            Para(f"{points_text(sums.get(s, 0.0))} of {len(in_section)} points."),
            Grid(("Test", "Status", "Outcome", "Evidence", "Thresholds", "Ran", "Detail"), tuple(trows),
                 (0.22, 0.09, 0.08, 0.15, 0.15, 0.1, 0.21), tuple(tflag)),
        )))

    if atts:
        arows = []
        for a in atts:
            files = "; ".join(f"{name} (SHA-256 {digest})" for name, digest in a.evidence_files) or "none"
            counted = any(f"attestation:{a.id}" in r.evidence for r in result.results)
            state = "counted" if counted else "not counted: expired" if not a.valid_at(result.created_at) \
                else "not counted"
            arows.append((Cell(a.test_id), Cell(a.attested_by), Cell(when(a.attested_at)), Cell(a.statement),
                          Cell(files), Cell(f"{when(a.expires_at)} ({state})")))
        att_part = Part("Attestations", (Grid(("Test", "By", "When", "Statement", "Files", "Expires"),
                                              tuple(arows), (0.08, 0.12, 0.13, 0.3, 0.22, 0.15)),))
    else:
        att_part = Part("Attestations", (Para("No attestations."),))

    refs = sorted({ref for r in result.results for ref in r.evidence})
    if refs:
        erows = []
        for ref in refs:
            kind, _, ident = ref.partition(":")
            used = ", ".join(r.test_id for r in result.results if ref in r.evidence)
            erows.append((Cell(kind, anchor=anchor(ref)), Cell(ident or "—"), Cell(used)))
        ev_part = Part("Evidence read", (
            Para("Records in the workspace the checks read; open them in Airlock by kind and ID.", note=True),
            Grid(("Kind", "Record", "Read by"), tuple(erows), (0.2, 0.5, 0.3)),
        ))
    else:
        ev_part = Part("Evidence read", (Para("No records were read."),))

    sign = Part("Sign-off", (
        Para("I have reviewed this rubric result, its evidence and its attestations."),
        Facts((("QA lead", "_" * 40), ("Signature", "_" * 40), ("Date", "_" * 20))),
    ))
    return RubricReport(title=f"ML Test Score rubric: {label}", generated=generated,
                        parts=(summary, score_part, steps_part, *test_parts, att_part, ev_part, sign))


# --- HTML ----------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:2em auto;max-width:76em;color:#222;line-height:1.35}"
    "h1{margin-bottom:.2em}h2{color:#1f5fa8;border-bottom:1px solid #ddd;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.4em 0;width:100%}td,th{border:1px solid #ccc;padding:2px 8px;"
    "text-align:left;vertical-align:top}th{background:#f4f4f4;font-weight:600}tr.flag td{background:#fdecea}"
    ".facts{width:auto}.facts td,.facts th{border:none;padding:1px 12px 1px 0;background:none}"
    ".note{color:#555;font-size:.9em}.strong{font-weight:bold;font-size:1.1em}a{color:#1f5fa8}"
)


def _html_cell(c: Cell, tag: str = "td") -> str:
    e = html.escape
    body = e(c.text)
    if c.anchor:
        body = f"<span id='{e(c.anchor)}'>{body}</span>"
    if c.links:
        body += "<br>".join([""] * bool(c.text) + [f"<a href='#{e(a)}'>{e(lab)}</a>" for lab, a in c.links])
    return f"<{tag}>{body}</{tag}>"


def _html_block(b: Block) -> str:
    e = html.escape
    if isinstance(b, Para):
        cls = "note" if b.note else "strong" if b.strong else ""
        return f"<p class='{cls}'>{e(b.text)}</p>" if cls else f"<p>{e(b.text)}</p>"
    if isinstance(b, Facts):
        rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in b.rows)
        return f"<table class='facts'>{rows}</table>"
    head = "".join(f"<th>{e(h)}</th>" for h in b.headers)
    body = "".join(f"<tr{' class=flag' if i in b.flagged else ''}>{''.join(_html_cell(c) for c in row)}</tr>"
                   for i, row in enumerate(b.rows))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(report: RubricReport) -> str:
    """The page of an already built :class:`RubricReport`."""
    e = html.escape
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(report.title)}</title>"
           f"<style>{_STYLE}</style></head><body><h1>{e(report.title)}</h1>"
           f"<p class='note'>Generated {e(report.generated)} by Airlock.</p>"]
    for p in report.parts:
        out.append(f"<section><h2>{e(p.title)}</h2>")
        out += [_html_block(b) for b in p.blocks]
        out.append("</section>")
    out.append(f"<p class='note'>Airlock rubric report · {e(report.title)} · generated {e(report.generated)}.</p>"
               "</body></html>")
    return "\n".join(out)


def render_html(result: RubricResult, catalogue: Catalogue, *, attestations: Iterable[Attestation] = (),
                next_steps: Iterable[NextStep] = (), model_label: str | None = None,
                generated_at: str | None = None) -> str:
    """The rubric report as one self-contained HTML page (arguments as :func:`build_report`)."""
    return report_html(build_report(result, catalogue, attestations=attestations, next_steps=next_steps,
                                    model_label=model_label, generated_at=generated_at))


__all__ = ["SECTIONS", "Cell", "Facts", "Grid", "Para", "Part", "RubricReport", "anchor", "build_report",
           "render_html", "report_html"]
