"""The assessment report as one self-contained HTML file.

A manager opens it without Airlock and without a network: styles are inline, charts are
PNG images embedded as ``data:`` URIs, and there is no script, font, link or image fetched
from anywhere. Every piece of user text (unit, assessors, notes, skip reasons, model text
from a user's own model file) is HTML-escaped. :mod:`core.assessment.report_pdf` renders the
same :class:`ReportData` as PDF.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from core.assessment.models import (
    Assessment,
    AssessmentScore,
    Completion,
    DimensionId,
    MaturityModel,
    PlannedStep,
)

TARGET_NOTE = (
    "Targets marked \u201cset\u201d are the assessors' own; those marked \u201cnext level\u201d are the "
    "default, one level above where the dimension stands now."
)
#: How a target is marked in the reports' tables.
SET_MARK = "set"
DEFAULT_MARK = "next level"

REPORT_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class ReportData:
    """Everything a report shows, computed once by the service."""

    model: MaturityModel
    assessment: Assessment
    score: AssessmentScore
    completion: Completion
    plan: tuple[PlannedStep, ...]
    previous: Assessment | None = None
    """The unit's previous *finalised* assessment with the same model."""
    previous_score: AssessmentScore | None = None
    generated_at: dt.datetime | None = None
    own_targets: Mapping[DimensionId, int] = field(default_factory=dict)
    """The targets the assessors set; ``assessment.targets`` holds every effective one."""

    def target_mark(self, dimension_id: DimensionId) -> str:
        """``set`` for an assessor's target, ``next level`` for a default one, "" for none."""
        if dimension_id not in self.assessment.targets:
            return ""
        return SET_MARK if dimension_id in self.own_targets else DEFAULT_MARK

    def open_note(self) -> str:
        """How many questions are open, said plainly; "" when none is."""
        n = self.completion.open
        if n == 0:
            return ""
        qs = f"{n} question{'s' if n != 1 else ''} of {self.completion.total}"
        if self.assessment.locked:
            return (f"{qs} {'were' if n != 1 else 'was'} left open (neither answered nor skipped) "
                    "when this assessment was finalised; the levels leave them out.")
        return f"{qs} {'are' if n != 1 else 'is'} not answered yet; the levels leave them out."

    def headline(self) -> str:
        """One sentence: where the unit sits and what holds it back."""
        a, s, m = self.assessment, self.score, self.model
        if s.overall is None:
            return f"{a.unit} has not answered enough questions for an overall level yet."
        level = m.level(max(m.min_level, min(m.max_level, s.overall_reached or 0)))
        weakest = ", ".join(s.of(d).name for d in s.weakest) or "none"
        return (
            f"{a.unit} sits at {s.overall:.1f} on the {m.min_level}–{m.max_level} scale "
            f"(level {level.number}, {level.name}). Weakest dimension: {weakest}."
        )

    def chart_pngs(self, dpi: int = 150) -> dict[str, bytes]:
        """The three charts as PNG bytes: radar, curve, bars."""
        from core.assessment import charts  # matplotlib loads only when a chart is drawn

        targets = dict(self.assessment.targets)
        prev_overall = self.previous_score.overall if self.previous_score else None
        return {
            "radar": charts.figure_png(
                charts.radar(self.model, self.score, targets, self.previous_score), dpi),
            "curve": charts.figure_png(
                charts.curve(self.model, self.score.overall, previous=prev_overall), dpi),
            "bars": charts.figure_png(
                charts.bars(self.model, self.score, targets, self.previous_score), dpi),
        }


_CSS = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;max-width:60em;
margin:2em auto;padding:0 1em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #1f5fa8;padding-bottom:.2em;
margin-top:1.8em}h3{margin-bottom:.3em}
.meta{color:#555}.headline{font-size:1.15em;background:#eef3fa;padding:.7em 1em;border-left:4px solid #1f5fa8}
table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #ccc;padding:.35em .5em;
text-align:left;vertical-align:top}th{background:#f3f3f3}
.num{text-align:right;white-space:nowrap}.rule{font-size:.92em;color:#444;background:#fafafa;
padding:.6em .9em;border:1px solid #ddd}
img{max-width:100%;height:auto}.charts{display:flex;flex-wrap:wrap;gap:1em}
.skip{color:#8a5a00}.open{color:#8a5a00}.note{white-space:pre-wrap}.small{font-size:.85em;color:#666}
@media print{h2{page-break-before:auto}.charts img{max-width:48%}}
"""


def _fmt(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def previous_note(data: ReportData) -> str:
    """Which assessment the "Previous" column and the dotted lines show."""
    if data.previous is None:
        return "Previous: no earlier finalised assessment of this unit with this model."
    return (f"Previous: the finalised assessment of {data.previous.assessed_on.isoformat()} "
            f"(revision {data.previous.revision}).")


def render_html(data: ReportData) -> str:
    """The full report as one HTML document (UTF-8 text)."""
    a, m, s = data.assessment, data.model, data.score
    e = escape
    pngs = data.chart_pngs()
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="generator" content="Airlock assessment report v{REPORT_FORMAT_VERSION}">',
        f"<title>Maturity assessment — {e(a.unit)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Maturity assessment: {e(a.unit)}</h1>",
        '<p class="meta">'
        f"Assessed on {a.assessed_on.isoformat()} by {e(', '.join(a.assessors) or '—')} · "
        f"Model {e(m.name)} (<code>{e(m.id)}</code> version {e(m.version)}) · "
        f"Revision {a.revision}, {'final' if a.locked else 'draft — not yet final'}"
        "</p>",
        f'<p class="headline">{e(data.headline())}</p>',
        "<h2>Summary</h2>",
        f"<p>{e(data.completion.describe())}.</p>",
        *([f'<p class="open"><b>{e(data.open_note())}</b></p>'] if data.open_note() else []),
        "<table><tr><th>Dimension</th><th class=num>Level</th><th class=num>Target</th>"
        "<th class=num>Previous</th><th class=num>Answered</th></tr>",
    ]
    for d in s.dimensions:
        prev = data.previous_score.of(d.dimension_id).score if data.previous_score else None
        target = a.targets.get(d.dimension_id)
        mark = data.target_mark(d.dimension_id)
        shown = "—" if target is None else f'{target} <span class="small">({e(mark)})</span>'
        out.append(
            f"<tr><td>{e(d.name)}</td><td class=num>{_fmt(d.score)}</td>"
            f"<td class=num>{shown}</td>"
            f"<td class=num>{_fmt(prev)}</td><td class=num>{d.answered}/{d.total}</td></tr>"
        )
    out.append(
        f"<tr><th>Overall</th><th class=num>{_fmt(s.overall)}</th><th></th>"
        f"<th class=num>{_fmt(data.previous_score.overall if data.previous_score else None)}</th>"
        "<th></th></tr></table>"
    )
    out.append(f'<p class="small">{e(TARGET_NOTE)}</p>')
    out.append(f'<p class="rule"><b>Scoring rule.</b> {e(s.rule)}</p>')
    out.append(f'<p class="small">{e(previous_note(data))}</p>')
    out += [
        "<h2>Charts</h2>",
        f"<h3>Placement on the {m.min_level}–{m.max_level} curve</h3>",
        _img(pngs["curve"], "Placement on the maturity curve"),
        '<div class="charts">',
        _img(pngs["radar"], "Radar chart of dimension levels"),
        _img(pngs["bars"], "Bar chart of dimension levels against targets"),
        "</div>",
        "<h2>Recommendations</h2>",
        f'<p class="small">{e(TARGET_NOTE)}</p>',
    ]
    if data.plan:
        out.append("<table><tr><th class=num>#</th><th>What to do next</th><th>Lifts</th>"
                   "<th>Depends on</th></tr>")
        for step in data.plan:
            r = step.recommendation
            deps = "<br>".join(e(d) for d in step.depends_on) or "—"
            extra = " (prerequisite)" if step.prerequisite_only else ""
            out.append(
                f"<tr><td class=num>{step.position}</td><td>{e(r.text)}"
                f'<div class="small">{e(step.reason)}</div></td>'
                f"<td>{e(step.dimension_name)} → {r.level}{extra}</td><td>{deps}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>No gaps: every dimension has reached its target.</p>")
    out.append("<h2>Answers</h2>")
    for dim in m.dimensions:
        out.append(f"<h3>{e(dim.name)}</h3><table><tr><th>Question</th><th>Answer</th>"
                   "<th>Note</th></tr>")
        for q in dim.questions:
            ans = a.answers.get(q.id)
            if ans is None or ans.pending:
                answer, note = "<i>not answered</i>", ""
            elif ans.skipped:
                answer = '<span class="skip">skipped</span>'
                note = f"Reason: {e(ans.skip_reason or '')}"
            else:
                lv = ans.level if ans.level is not None else 0
                answer = f"<b>{lv}</b> — {e(q.descriptors.get(lv, ''))}"
                note = e(ans.note)
            if ans is not None and ans.evidence:
                files = ", ".join(e(ev.filename) for ev in ans.evidence)
                note += f'<div class="small">Evidence kept in the workspace: {files}</div>'
            out.append(f"<tr><td>{e(q.text)}</td><td>{answer}</td>"
                       f'<td class="note">{note}</td></tr>')
        out.append("</table>")
    generated = (data.generated_at or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    out += [
        "<h2>About this report</h2>",
        f"<p class=small>{e(m.source)}</p>",
        f"<p class=small>Model {e(m.id)} version {e(m.version)}, content digest "
        f"<code>{e(m.digest[:16])}</code>. Generated by Airlock on {generated}.</p>",
        "</body></html>",
    ]
    return "\n".join(out)
