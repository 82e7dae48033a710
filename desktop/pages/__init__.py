"""The registry of pages the main window offers, in navigation order.

Each entry names a page class by import path, so a page's module (and whatever heavy
library it needs, e.g. matplotlib for a plot) loads only when the user first opens it.
To add a page, write ``desktop/pages/<name>.py`` with a :class:`~desktop.pages.base.Page`
subclass and add one line to :data:`PAGES`; ``tests/desktop/test_pages.py`` checks that
every entry loads and that its ``name`` and ``title`` match the class.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from desktop.pages.base import Page


@dataclass(frozen=True, slots=True)
class PageSpec:
    """A navigation entry: page name (for ``--page``), its title, and ``module:Class``."""

    name: str
    title: str
    target: str
    #: Workspace roles the page is offered in (empty: every workspace).
    roles: frozenset[str] = frozenset()

    def offered(self, role: str) -> bool:
        return not self.roles or role in self.roles

    def load(self) -> type[Page]:
        module_name, _, class_name = self.target.partition(":")
        cls: type[Page] = getattr(importlib.import_module(module_name), class_name)
        return cls


PAGES: tuple[PageSpec, ...] = (
    PageSpec("workspace", "Workspace", "desktop.pages.workspace:WorkspacePage"),
    PageSpec("assessment", "Maturity assessment", "desktop.pages.assessment:AssessmentPage"),
    PageSpec("datasets", "Datasets", "desktop.pages.datasets:DatasetsPage"),
    PageSpec("training", "Training", "desktop.pages.training:TrainingPage"),
    PageSpec("rubric", "Rubric", "desktop.pages.rubric:RubricPage"),
    PageSpec("promotion", "Promotion packages", "desktop.pages.promotion:PromotionPage"),
    PageSpec("admission", "Admit a package", "desktop.pages.admission:AdmissionPage", frozenset({"qa", "prod"})),
    PageSpec("registry", "Model registry", "desktop.pages.registry:RegistryPage", frozenset({"qa", "prod"})),
    PageSpec("trust_policy", "Trust policy", "desktop.pages.trust_policy:TrustPolicyPage", frozenset({"qa", "prod"})),
    PageSpec("users", "Users", "desktop.pages.users:UsersPage"),
    PageSpec("audit", "Audit log", "desktop.pages.audit:AuditPage"),
    PageSpec("backup", "Backups", "desktop.pages.backup:BackupPage"),
)


def page_spec(name: str) -> PageSpec | None:
    return next((spec for spec in PAGES if spec.name == name), None)
