"""Evidence the workspace itself holds, turned into suggestions beside questions.

A question in a model file may name a *probe* (``"evidence": "backup_recency"``). The
assessment service gathers :class:`WorkspaceFacts` from the workspace as it is now and each
probe turns the facts it needs into an :class:`EvidenceSuggestion`: a sentence for the
assessor and the facts behind it. A probe whose facts the workspace does not hold (for
example no dataset area yet) says nothing rather than guessing.

Suggestions are advice. Nothing here changes an answer; the assessor decides. A probe only
proposes a level where the facts settle it, which is when the practice leaves no trace at
all in the workspace: then the model's lowest level is proposed, with the caveat that the
practice may exist outside Airlock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from core.assessment.models import EvidenceSuggestion, MaturityModel, Question, WorkspaceFacts
from core.identity.models import ADMIN, REVIEWER

Probe = Callable[[WorkspaceFacts, Question, MaturityModel], EvidenceSuggestion | None]


def _age(now: dt.datetime, then: dt.datetime) -> str:
    days = (now - then).total_seconds() / 86400
    if days < 1:
        return "less than a day ago"
    return f"{int(days)} day{'s' if int(days) != 1 else ''} ago"


def _backup_recency(f: WorkspaceFacts, q: Question, m: MaturityModel) -> EvidenceSuggestion | None:
    if f.backups_recorded is None:
        return None
    if not f.backups_recorded or f.last_backup_at is None:
        return EvidenceSuggestion(
            q.id,
            "backup_recency",
            "This workspace has no backup on record. Unless backups are taken outside "
            "Airlock, that matches the lowest level.",
            m.min_level,
            {"last backup": "none"},
        )
    age = _age(f.collected_at, f.last_backup_at)
    stale = (f.collected_at - f.last_backup_at) > dt.timedelta(days=7)
    summary = f"Last workspace backup: {f.last_backup_at:%Y-%m-%d %H:%M} UTC ({age})."
    if stale:
        summary += " That is more than a week old."
    return EvidenceSuggestion(
        q.id, "backup_recency", summary, None,
        {"last backup": f.last_backup_at.isoformat(timespec="minutes"), "age": age},
    )


def _role_counts(f: WorkspaceFacts) -> dict[str, str]:
    return {f"users with role {r}": str(n) for r, n in sorted((f.users_by_role or {}).items())}


def _reviewer_roles(f: WorkspaceFacts, q: Question, m: MaturityModel) -> EvidenceSuggestion | None:
    if f.users_by_role is None:
        return None
    reviewers = f.users_by_role.get(REVIEWER, 0)
    if reviewers == 0:
        return EvidenceSuggestion(
            q.id, "reviewer_roles",
            "No user in this workspace holds the reviewer role, so no model can be reviewed "
            "independently here. Unless review happens elsewhere, that matches the lowest level.",
            m.min_level, _role_counts(f),
        )
    text = f"{reviewers} user{'s' if reviewers != 1 else ''} hold the reviewer role."
    if reviewers < 2:
        text += " One reviewer cannot cover absence or review their own team's work."
    return EvidenceSuggestion(q.id, "reviewer_roles", text, None, _role_counts(f))


def _access_control(f: WorkspaceFacts, q: Question, m: MaturityModel) -> EvidenceSuggestion | None:
    if f.users_by_role is None:
        return None
    total = f.active_users if f.active_users is not None else sum(f.users_by_role.values())
    admins = f.users_by_role.get(ADMIN, 0)
    parts = [f"{total} active user{'s' if total != 1 else ''}, {admins} with the admin role."]
    if f.workspace_role:
        parts.append(f"This is a {f.workspace_role} workspace; its file is encrypted at rest.")
    if total and admins == total and total > 1:
        parts.append("Every user is an admin: roles do not separate duties yet.")
    facts = _role_counts(f)
    if f.workspace_role:
        facts["workspace role"] = f.workspace_role
    return EvidenceSuggestion(q.id, "access_control", " ".join(parts), None, facts)


def _audit_trail(f: WorkspaceFacts, q: Question, m: MaturityModel) -> EvidenceSuggestion | None:
    if f.audit_events is None:
        return None
    text = f"The workspace audit log holds {f.audit_events} event(s)"
    if f.audit_chain_ok is True:
        text += " and its hash chain verifies."
    elif f.audit_chain_ok is False:
        text += ", but its hash chain does NOT verify: run `airlock audit verify`."
    else:
        text += "."
    facts = {"audit events": str(f.audit_events)}
    if f.audit_chain_ok is not None:
        facts["chain verifies"] = "yes" if f.audit_chain_ok else "no"
    return EvidenceSuggestion(q.id, "audit_trail", text, None, facts)


def _schema_review(f: WorkspaceFacts, q: Question, m: MaturityModel) -> EvidenceSuggestion | None:
    """Datasets, their schemas, and the schemas a person has reviewed.

    A schema counts as *reviewed* when its newest revision is a person's edit (the
    desktop's Schema tab, ``edit_schema``); a schema that was only inferred and never
    touched is not. Without a dataset or schema count the probe says nothing.
    """
    if f.datasets_total is None or f.datasets_schema_reviewed is None:
        return None
    if f.datasets_total == 0:
        return EvidenceSuggestion(
            q.id, "schema_review", "No dataset has been imported into this workspace yet.",
            None, {"datasets": "0"},
        )
    total, reviewed = f.datasets_total, f.datasets_schema_reviewed
    with_schema = f.datasets_with_schema if f.datasets_with_schema is not None else reviewed
    facts = {"datasets": str(total), "with a schema": str(with_schema), "reviewed schemas": str(reviewed)}
    if with_schema == 0:
        return EvidenceSuggestion(
            q.id, "schema_review",
            f"None of the {total} dataset{'s' if total != 1 else ''} in this workspace has a schema, "
            "so nothing checks new data against expectations here. Unless quality checks run "
            "outside Airlock, that matches the lowest level.",
            m.min_level, facts,
        )
    text = (
        f"{with_schema} of {total} dataset{'s' if total != 1 else ''} have a schema "
        f"({with_schema / total:.0%}); {reviewed} of them {'was' if reviewed == 1 else 'were'} "
        "reviewed by a person (the newest schema revision is an edit, not only inferred)."
    )
    if reviewed == 0:
        text += " Inferred schemas nobody checked only describe the data as it was."
    return EvidenceSuggestion(q.id, "schema_review", text, None, facts)


#: Every probe a model file may name, by name.
PROBES: Mapping[str, Probe] = {
    "backup_recency": _backup_recency,
    "reviewer_roles": _reviewer_roles,
    "access_control": _access_control,
    "audit_trail": _audit_trail,
    "schema_review": _schema_review,
}


def suggest(facts: WorkspaceFacts, model: MaturityModel) -> dict[str, EvidenceSuggestion]:
    """Suggestions for each question of ``model`` whose probe has facts to go on."""
    out: dict[str, EvidenceSuggestion] = {}
    for q in model.questions():
        if q.evidence is None:
            continue
        found = PROBES[q.evidence](facts, q, model)
        if found is not None:
            out[q.id] = found
    return out
