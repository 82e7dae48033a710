"""The engine facade: the one door the desktop and the command line use.

``Engine.create`` and ``Engine.open`` return an engine with one service per area
(``engine.workspace``, ``engine.users``, ``engine.audit``, ``engine.assessments``,
``engine.datasets``). Callers may import the value
types, the task primitives and the errors re-exported here; never the storage package.
Importing this module loads no Qt and nothing heavy.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from core.audit.models import AuditEvent, ChainHead, ChainReport
from core.errors import AirlockError
from core.identity.models import ROLES as USER_ROLES
from core.identity.models import User
from core.outcome import Outcome
from core.store import keys as _keys
from core.store.keys import MIN_PASSPHRASE_LENGTH, Unlock
from core.tasks import CancelToken, TaskContext
from core.workspace.models import ROLES as WORKSPACE_ROLES
from core.workspace.models import (
    BackupResult,
    BackupVerification,
    HeadAnchor,
    IntegrityReport,
    WorkspaceInfo,
)

if TYPE_CHECKING:
    from core.assessment.service import AssessmentService
    from core.data.service import DatasetService
    from core.doctor import DoctorReport
    from core.promotion.service import PromotionService
    from core.rubric.service import RubricService
    from core.store.opening import OpenedStore
    from core.training.service import TrainingService


class Engine:
    """An open workspace and the services over it. Close it (or use ``with``)."""

    def __init__(self, opened: OpenedStore, actor: str | None = None) -> None:
        # The store and the services (SQLAlchemy underneath) load when a workspace opens, so
        # ``import core.api`` stays light for the desktop's first window and the CLI's --help.
        from core.audit.service import AuditService
        from core.identity.service import UserService, os_user
        from core.runtime import ensure_configured
        from core.workspace.service import WorkspaceService

        ensure_configured()  # the thread and allocator policy, for callers that skip the entry points
        self._opened = opened
        self.actor = actor or os_user()
        store = opened.store
        self.path = store.path
        self.read_only = store.read_only
        #: What opening did or found that the user should hear once (leftovers swept, warnings).
        self.notices: tuple[str, ...] = opened.notices
        self.workspace = WorkspaceService(store, opened.header, self.actor)
        self.users = UserService(store, self.actor)
        self.audit = AuditService(store, self.actor)
        self._closed = False

    # Areas whose modules pull in numpy/pyarrow are built on first use, so opening the
    # window or running a small command does not pay for them.
    @cached_property
    def assessments(self) -> AssessmentService:
        from core.assessment.service import AssessmentService

        return AssessmentService(self._opened.store, self.actor)

    @cached_property
    def datasets(self) -> DatasetService:
        from core.data.service import DatasetService

        return DatasetService(self._opened.store, self.actor)

    @cached_property
    def training(self) -> TrainingService:
        from core.training.service import TrainingService

        return TrainingService(self._opened.store, self.actor)

    @cached_property
    def rubric(self) -> RubricService:
        from core.rubric.service import RubricService

        return RubricService(self._opened.store, self.actor)

    @cached_property
    def promotion(self) -> PromotionService:
        from core.promotion.service import PromotionService

        return PromotionService(self._opened.store, self.actor)

    @classmethod
    def create(
        cls, path: Path | str, *, name: str, role: str = "dev", passphrase: str | None = None,
        use_keyring: bool | None = None, actor: str | None = None,
    ) -> tuple[Engine, str]:
        """Create a workspace and open it; returns the engine and the recovery key.

        The recovery key is shown once: it is not stored anywhere. With ``use_keyring``
        left as None the keyring is used when a safe backend works here.
        """
        from core.identity.service import os_user
        from core.store.opening import create_workspace

        if use_keyring is None:
            use_keyring = _keys.keyring_status()[0]
        actor = actor or os_user()
        created = create_workspace(
            Path(path), name=name, role=role, creator=actor, passphrase=passphrase, use_keyring=use_keyring
        )
        return cls(created.store, actor), created.recovery_key

    @classmethod
    def open(cls, path: Path | str, unlock: Unlock, *, read_only: bool = False, actor: str | None = None) -> Engine:
        """Open an existing workspace. Never creates one, whatever the keyring says."""
        with _keys.deriving_ahead(Path(path), unlock):  # the key derivation runs while the store imports
            from core.store.opening import open_store

            return cls(open_store(Path(path), unlock, read_only=read_only), actor)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._opened.store.close()
        if self._opened.lock is not None:
            self._opened.lock.release()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def keyring_status() -> tuple[bool, str]:
    """Whether a safe OS keyring works here, and its name or why not."""
    return _keys.keyring_status()


def has_key_header(path: Path | str) -> bool:
    return _keys.header_path(Path(os.path.realpath(Path(path).expanduser()))).exists()


def header_uses_keyring(path: Path | str) -> bool:
    """Whether the workspace at ``path`` keeps its key in the keyring (False if unknown)."""
    header_file = _keys.header_path(Path(os.path.realpath(Path(path).expanduser())))
    try:
        return _keys.KeyHeader.read(header_file).keyring
    except AirlockError:
        return False


def verify_backup(path: Path | str, unlock: Unlock, ctx: TaskContext | None = None) -> BackupVerification:
    """Open a backup read-only with its key; check structure, page HMACs and the audit chain."""
    from core.store import backup as _backup

    return _backup.verify_backup(Path(path), unlock, ctx)


def restore_backup(backup: Path | str, dest: Path | str, unlock: Unlock, ctx: TaskContext | None = None) -> BackupVerification:
    """Verify a backup and restore it into a new workspace file."""
    from core.store import backup as _backup

    return _backup.restore_backup(Path(backup), Path(dest), unlock, ctx)


def doctor() -> DoctorReport:
    from core.doctor import run_doctor  # importlib.metadata & co. load only for the doctor

    return run_doctor()


__all__ = [
    "AirlockError", "AuditEvent", "BackupResult", "BackupVerification", "CancelToken", "ChainHead",
    "ChainReport", "DoctorReport", "Engine", "MIN_PASSPHRASE_LENGTH", "HeadAnchor", "IntegrityReport", "Outcome",
    "TaskContext", "USER_ROLES",
    "Unlock", "User", "WORKSPACE_ROLES", "WorkspaceInfo", "doctor", "has_key_header",
    "header_uses_keyring", "keyring_status", "restore_backup", "verify_backup",
]


# --- Re-exports for the desktop and the CLI ---------------------------------------------------
# The value types, task primitives, change names and errors callers may use, so that nothing
# outside ``core`` imports a module of ``core`` other than this one (tests/desktop/test_one_door.py
# walks every module to check). What every command needs is imported here; the services, the
# heavy modules (numpy, matplotlib, pyarrow underneath) and each area's values (assessment,
# training, rubric, promotion: their dataclasses cost ~50 ms to create, which a `data profile`
# run does not need) resolve on first use through ``__getattr__`` (see ``_LAZY``).
from core import __version__ as VERSION

if TYPE_CHECKING:
    from core.assessment.models import (
        Answer,
        Assessment,
        AssessmentScore,
        Comparison,
        EvidenceRef,
        EvidenceSuggestion,
        MaturityModel,
        PlannedStep,
        Question,
    )
from core.data.models import (
    REDACTED,
    ColumnProfile,
    ColumnSchema,
    Correlation,
    CsvOptions,
    DatasetVersion,
    DriftReport,
    ImportResult,
    Profile,
    Schema,
    ValidationReport,
)
from core.data.preview import Preview, default_name, file_kind
from core.errors import (
    BackupInvalid,
    Cancelled,
    IntegrityError,
    InvalidInput,
    KeyUnavailable,
    NotAWorkspace,
    NotFound,
    PermissionDenied,
    ReadOnlyWorkspace,
    UnsafeEnvironment,
    WorkspaceCorrupted,
    WorkspaceExists,
    WorkspaceInUse,
    WorkspaceNotFound,
    WorkspaceTooNew,
    WrongKey,
)
from core.identity.models import ADMIN
from core.outcome import Change, op_kind, queries_only
from core.runtime import configure as configure_runtime

if TYPE_CHECKING:
    from core.assessment import charts as assessment_charts

_LAZY: dict[str, tuple[str, str | None]] = {
    "AssessmentService": ("core.assessment.service", "AssessmentService"),
    "DatasetService": ("core.data.service", "DatasetService"),
    "TrainingService": ("core.training.service", "TrainingService"),
    "RubricService": ("core.rubric.service", "RubricService"),
    "DoctorReport": ("core.doctor", "DoctorReport"),
    "assessment_charts": ("core.assessment.charts", None),
}


def _lazy(module: str, *names: str) -> None:
    """Re-export ``names`` of ``module``, resolved on first use (see ``__getattr__``)."""
    _LAZY.update({name: (module, name) for name in names})


_lazy(
    "core.assessment.models",
    "Answer", "Assessment", "AssessmentScore", "Comparison", "EvidenceRef", "EvidenceSuggestion", "MaturityModel",
    "PlannedStep", "Question",
)


def __getattr__(name: str) -> object:
    """Resolve a heavy re-export (see ``_LAZY``) on first use and keep it."""
    import importlib

    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


__all__ += [
    "ADMIN", "REDACTED", "VERSION", "Answer", "Assessment", "AssessmentScore", "AssessmentService",
    "BackupInvalid", "Cancelled", "Change", "ColumnProfile", "ColumnSchema", "Comparison", "Correlation",
    "CsvOptions", "DatasetService", "DatasetVersion", "DriftReport", "EvidenceRef", "EvidenceSuggestion",
    "ImportResult", "IntegrityError", "InvalidInput", "KeyUnavailable", "MaturityModel", "NotAWorkspace",
    "NotFound", "PermissionDenied", "PlannedStep", "Preview", "Profile", "Question", "ReadOnlyWorkspace",
    "Schema", "UnsafeEnvironment", "ValidationReport", "WorkspaceCorrupted", "WorkspaceExists",
    "WorkspaceInUse", "WorkspaceNotFound", "WorkspaceTooNew", "WrongKey", "assessment_charts", "configure_runtime",
    "default_name", "file_kind",
    "op_kind", "queries_only",
]

# --- Re-exports for the command line ----------------------------------------------------------
from core.formats import to_builtins

__all__ += ["to_builtins"]

# Kinds (StrEnums: each member equals its stored string), for the CLI and the desktop alike.
from core.data.models import (
    AlertKind,
    AnomalyKind,
    ColumnFlag,
    ColumnType,
    Correction,
    CorrelationMethod,
    DriftColumnKind,
    DriftDistance,
    DriftLevel,
    DriftTest,
    PiiKind,
    SemanticType,
    Severity,
    SourceKind,
)
from core.identity.models import ANALYST, REVIEWER, UserRole

__all__ += [
    "ANALYST", "AlertKind", "AnomalyKind", "ColumnFlag", "ColumnType", "Correction", "CorrelationMethod",
    "DriftColumnKind", "DriftDistance", "DriftLevel", "DriftTest", "PiiKind", "REVIEWER", "SemanticType",
    "Severity", "SourceKind", "UserRole",
]

# Training values, kinds and the spec reader/writer (light: no scikit-learn), for the CLI and
# the desktop; the service resolves lazily through ``_LAZY``.
if TYPE_CHECKING:
    from core.training.models import (
        Algorithm,
        Device,
        Encoding,
        ExcludedColumn,
        Imputation,
        MetricValue,
        ModelVersion,
        ModelVersionId,
        Preprocessing,
        RunId,
        RunStatus,
        Scaling,
        SearchKind,
        SearchSpec,
        SpecProblem,
        SplitKind,
        SplitSpec,
        Task,
        TrainingRun,
        TrainingSpec,
        TrialResult,
        spec_hash,
    )
_lazy(
    "core.training.models",
    "ExcludedColumn", "MetricValue", "ModelVersion", "ModelVersionId", "Preprocessing", "RunId", "SearchSpec",
    "SpecProblem", "SplitSpec", "TrainingRun", "TrainingSpec", "TrialResult", "spec_hash",
)
# The kinds from their own light module: `airlock --help` lists `--task` choices without the dataclasses.
_lazy(
    "core.training.kinds",
    "ALGORITHMS", "DEFAULT_METRIC", "METRICS", "Algorithm", "Device", "Encoding", "Imputation", "RunStatus", "Scaling",
    "SearchKind", "SplitKind", "Task",
)
if TYPE_CHECKING:
    from core.training.spec import InvalidSpec, dump_spec, infer_task, load_spec, parse_spec
_lazy("core.training.spec", "InvalidSpec", "dump_spec", "infer_task", "load_spec", "parse_spec")

__all__ += [
    "Algorithm", "Device", "Encoding", "ExcludedColumn", "Imputation", "InvalidSpec", "MetricValue", "ModelVersion",
    "ModelVersionId", "Preprocessing", "RunId", "RunStatus", "Scaling", "SearchKind", "SearchSpec", "SpecProblem",
    "SplitKind", "SplitSpec", "Task", "TrainingRun", "TrainingService", "TrainingSpec", "TrialResult", "dump_spec",
    "infer_task", "load_spec", "parse_spec", "spec_hash",
]

# How a report writes a size (decimal units: "1.0 MB"), so the desktop says it the same way.
from core.reports.display import size_text

__all__ += ["size_text"]

# For the desktop's Training page: the choices a spec form offers, the evidence values it shows,
# and whether a CUDA GPU is here (the service's light check; nothing heavy loads).
if TYPE_CHECKING:
    from core.training.models import (
        ALGORITHMS,
        DEFAULT_METRIC,
        METRICS,
        AttributeFairness,
        Baselines,
        BaselineScore,
        Calibration,
        CrossValidation,
        Evidence,
        EvidenceItem,
        EvidenceKind,
        Explanation,
        FeatureCost,
        FeatureImportance,
        HoldoutMetrics,
        Inclusion,
        ModelComparison,
        PermutationImportance,
        ReproducibilityResult,
        Residuals,
        SearchTable,
        SliceMetric,
        SliceReport,
        SmokeResult,
        Staleness,
    )
_lazy(
    "core.training.models",
    "AttributeFairness", "Baselines", "BaselineScore", "Calibration",
    "CrossValidation", "Evidence", "EvidenceItem", "EvidenceKind", "Explanation", "FeatureCost",
    "FeatureImportance", "HoldoutMetrics", "Inclusion", "ModelComparison", "PermutationImportance",
    "ReproducibilityResult", "Residuals", "SearchTable", "SliceMetric", "SliceReport", "SmokeResult", "Staleness",
)


def gpu_available() -> bool:
    """Whether an NVIDIA CUDA driver is present here (``core.training.service.gpu_available``)."""
    from core.training.service import gpu_available as found

    return found()


__all__ += [
    "ALGORITHMS", "DEFAULT_METRIC", "METRICS", "AttributeFairness", "BaselineScore", "Baselines", "Calibration",
    "CrossValidation", "Evidence", "EvidenceItem", "EvidenceKind", "Explanation", "FeatureCost", "FeatureImportance",
    "HoldoutMetrics", "Inclusion", "ModelComparison", "PermutationImportance", "ReproducibilityResult", "Residuals",
    "SearchTable", "SliceMetric", "SliceReport", "SmokeResult", "Staleness", "gpu_available",
]

# Rubric values and the shipped catalogue (light), for the desktop and the CLI.
if TYPE_CHECKING:
    from core.rubric.catalogue import Catalogue as RubricCatalogue
_LAZY["RubricCatalogue"] = ("core.rubric.catalogue", "Catalogue")
if TYPE_CHECKING:
    from core.rubric.catalogue import load_catalogue as load_rubric_catalogue
_LAZY["load_rubric_catalogue"] = ("core.rubric.catalogue", "load_catalogue")
if TYPE_CHECKING:
    from core.rubric.models import (
        Attestation,
        NextStep,
        RubricComparison,
        RubricPolicy,
        RubricResult,
        RubricScore,
        RubricTest,
        Section,
        SectionScore,
        TestDifference,
        TestOutcome,
        TestResult,
        TestStatus,
    )
_lazy(
    "core.rubric.models",
    "Attestation", "NextStep", "RubricComparison", "RubricPolicy", "RubricResult", "RubricScore", "RubricTest",
    "Section", "SectionScore", "TestDifference", "TestOutcome", "TestResult", "TestStatus",
)

__all__ += [
    "Attestation", "NextStep", "RubricCatalogue", "RubricComparison", "RubricPolicy", "RubricResult", "RubricScore",
    "RubricTest", "Section", "SectionScore", "TestDifference", "TestOutcome", "TestResult", "TestStatus",
    "load_rubric_catalogue",
]
__all__ += ["RubricService"]

# Signing keys (issue 13), for the CLI's `airlock keys …` and the desktop: the values are light;
# the key store and its errors import cryptography and securesystemslib, so they resolve lazily.
if TYPE_CHECKING:
    from core.promotion.models import KeyStorage, PublicKey, SigningKeyInfo
_lazy("core.promotion.models", "KeyStorage", "PublicKey", "SigningKeyInfo")
if TYPE_CHECKING:
    from core.promotion.models import fingerprint as key_fingerprint
_LAZY["key_fingerprint"] = ("core.promotion.models", "fingerprint")

if TYPE_CHECKING:
    from core.promotion.envelopes import EnvelopeInvalid, KeyRefused, SignatureInvalid
    from core.promotion.keys import (
        ENV_SIGNING_PASSPHRASE,
        KeyStore,
        PassphraseRequired,
        SigningKeyNotFound,
        SigningKeyUnavailable,
        WrongSigningPassphrase,
    )

_LAZY.update({
    name: ("core.promotion.keys", name) for name in (
        "ENV_SIGNING_PASSPHRASE", "KeyStore", "PassphraseRequired", "SigningKeyNotFound", "SigningKeyUnavailable",
        "WrongSigningPassphrase",
    )
})
_LAZY.update({name: ("core.promotion.envelopes", name) for name in ("EnvelopeInvalid", "KeyRefused", "SignatureInvalid")})

__all__ += [
    "ENV_SIGNING_PASSPHRASE", "EnvelopeInvalid", "KeyRefused", "KeyStorage", "KeyStore", "PassphraseRequired",
    "PublicKey", "SignatureInvalid", "SigningKeyInfo", "SigningKeyNotFound", "SigningKeyUnavailable",
    "WrongSigningPassphrase", "key_fingerprint",
]

# Promotion (issue 13): packages, approvals, the trust policy, admission, the registry. The values are
# light; the service, its errors and the policy-file helpers resolve lazily.
if TYPE_CHECKING:
    from core.promotion.models import (
        AdmissionCheck,
        AdmissionReport,
        AdmissionStep,
        AdmittedVersion,
        Approval,
        Decision,
        Environment,
        EnvironmentRule,
        InstalledPolicy,
        KeyRole,
        Manifest,
        PackageFile,
        PackageSummary,
        PolicyKey,
        RegistryAction,
        RegistryEvent,
        StepStatus,
        StoredPolicy,
        TrustPolicy,
    )
_lazy(
    "core.promotion.models",
    "AdmissionCheck", "AdmissionReport", "AdmissionStep", "AdmittedVersion", "Approval", "Decision", "Environment",
    "EnvironmentRule", "InstalledPolicy", "KeyRole", "Manifest", "PackageFile", "PackageSummary", "PolicyKey",
    "RegistryAction", "RegistryEvent", "StepStatus", "StoredPolicy", "TrustPolicy",
)

if TYPE_CHECKING:
    from core.promotion.admission import AdmissionRefused
    from core.promotion.archive import PackageUnsafe
    from core.promotion.authoring import draft as policy_draft_template
    from core.promotion.authoring import sign_file as sign_policy_file
    from core.promotion.policy import PolicyDraftError, PolicyRefused
    from core.promotion.review import review_with_my_keys as review_package
    from core.promotion.service import PolicyMissing

_LAZY.update({
    "AdmissionRefused": ("core.promotion.admission", "AdmissionRefused"),
    "PackageUnsafe": ("core.promotion.archive", "PackageUnsafe"),
    "policy_draft_template": ("core.promotion.authoring", "draft"),
    "sign_policy_file": ("core.promotion.authoring", "sign_file"),
    "PolicyDraftError": ("core.promotion.policy", "PolicyDraftError"),
    "PolicyRefused": ("core.promotion.policy", "PolicyRefused"),
    "PolicyMissing": ("core.promotion.service", "PolicyMissing"),
    "review_package": ("core.promotion.review", "review_with_my_keys"),
    "PromotionService": ("core.promotion.service", "PromotionService"),
})

__all__ += [
    "AdmissionCheck", "AdmissionRefused", "AdmissionReport", "AdmissionStep", "AdmittedVersion", "Approval",
    "Decision", "Environment", "EnvironmentRule", "InstalledPolicy", "KeyRole", "Manifest", "PackageFile",
    "PackageSummary", "PackageUnsafe", "PolicyDraftError", "PolicyKey", "PolicyMissing", "PolicyRefused",
    "PromotionService", "RegistryAction", "RegistryEvent", "StepStatus", "StoredPolicy", "TrustPolicy",
    "policy_draft_template", "review_package", "sign_policy_file",
]
