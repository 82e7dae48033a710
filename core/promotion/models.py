"""Value types of the promotion area: signing keys, packages, approvals, trust policies, admission, registry.

Everything here is a frozen dataclass or a StrEnum that the services return, the CLI prints and
pages display. Nothing here touches the store, Qt, the file system, a key store or a crypto
library: the store, the desktop and child processes import this module, and it must stay light.

Identifiers: a signing key is named by its **key id**, securesystemslib's keyid for the key (the
SHA-256 of the canonical JSON of its public part, 64 hex digits); people read it out to each
other as a **fingerprint** (:func:`fingerprint`). A package is named by its **package digest**,
the SHA-256 root digest that its author's OpenSSF model-signing statement carries as its subject
(a digest over every signed file's digest, in name order), so an approval bound to it covers
every file of the package and nothing else.

Records that are stored or travel (policies, approvals, manifests) are registered kinds of
:mod:`core.formats` at the bottom of this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core import formats

#: Layout versions of the records that leave a workspace or are stored in one.
PACKAGE_FORMAT_VERSION = 1
MANIFEST_FORMAT_VERSION = 1
APPROVAL_FORMAT_VERSION = 1
POLICY_FORMAT_VERSION = 1
ATTESTATION_FORMAT_VERSION = 1
ADMISSION_FORMAT_VERSION = 1

#: in-toto predicate types of Airlock's own statements (the author's is model-signing's own).
APPROVAL_PREDICATE = "https://airlock.dev/promotion/approval/v1"
POLICY_PREDICATE = "https://airlock.dev/promotion/trust-policy/v1"
SITE_ATTESTATION_PREDICATE = "https://airlock.dev/promotion/site-admission/v1"
IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v1"
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


# --- kinds ---------------------------------------------------------------------------------


class Environment(StrEnum):
    """Where a package is promoted to (a development workspace builds; these admit)."""

    QA = "qa"
    PROD = "prod"


class Decision(StrEnum):
    """What a reviewer decided. A rejection is signed too, and blocks admission while it is valid."""

    APPROVE = "approve"
    REJECT = "reject"


class KeyRole(StrEnum):
    """What a key listed in a trust policy may sign (one key may hold several roles)."""

    AUTHOR = "author"  # signs packages in a development workspace
    QA_REVIEWER = "qa-reviewer"  # approves packages for QA
    PROD_APPROVER = "prod-approver"  # approves packages for production
    SITE = "site"  # a QA site's own key: signs "admitted and canaried here" attestations


class KeyStorage(StrEnum):
    """Where a private signing key lives (never inside a workspace)."""

    KEYRING = "keyring"  # the OS keyring (Secret Service, Keychain, Credential Manager)
    FILE = "file"  # a PKCS#8 PEM file encrypted under the owner's passphrase


class AdmissionCheck(StrEnum):
    """The admission steps, in the order they run; the first failure stops the rest."""

    UNPACK = "unpack"  # safe unpacking: no path outside staging, no links, size and count limits
    AUTHOR_SIGNATURE = "author-signature"  # the author's bundle, trusted author key, every file's digest
    MANIFEST = "manifest"  # the signed manifest reads, formats allowed, newer than what was admitted
    LINEAGE = "lineage"  # the development audit head only grew since the last package from there
    APPROVALS = "approvals"  # each approval against the policy; enough distinct people
    QA_ATTESTATION = "qa-attestation"  # production: the QA site's signed admission, when required
    RUBRIC = "rubric"  # the minimum score and the required tests
    CANARY = "canary"  # load the verified bytes in a child, score the canary batch, compare


class StepStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_REACHED = "not-reached"  # an earlier step failed
    NOT_REQUIRED = "not-required"  # the policy does not ask for it


class RegistryAction(StrEnum):
    """What changed the champion of a model in a QA or production workspace."""

    ADMIT = "admit"  # admitted (does not change the champion by itself)
    PROMOTE = "promote"  # made champion
    ROLLBACK = "rollback"  # the previous champion made current again


# --- keys ----------------------------------------------------------------------------------


def fingerprint(keyid: str) -> str:
    """The key id as people read it out at a key ceremony: 16 groups of 4 upper-case hex digits."""
    text = keyid.upper()
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public signing key (ECDSA P-256), as exported to and imported from a ``.pub`` file."""

    keyid: str
    pem: str  # SubjectPublicKeyInfo PEM
    owner: str  # the person's name as they gave it when generating the key
    created_at: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.keyid)


@dataclass(frozen=True, slots=True)
class SigningKeyInfo:
    """A key known on this machine: one of mine (private part available) or one imported."""

    public: PublicKey
    mine: bool
    storage: KeyStorage | None  # where the private part is; None for an imported public key


# --- the package ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackageFile:
    """One file of the signed set: its path inside the package's content folder and its SHA-256."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class ArtefactEntry:
    """A model artefact in the package and its format (the policy lists the formats it allows)."""

    path: str  # e.g. "model/pipeline.joblib"
    format: str  # "joblib" (runs code when loaded) or "xgboost-ubj" (carries no code)


@dataclass(frozen=True, slots=True)
class Lineage:
    dataset: str
    dataset_version_id: str
    dataset_sha256: str
    spec_hash: str
    training_run_id: str


@dataclass(frozen=True, slots=True)
class RubricSummary:
    """The rubric result the package carries (the full result is ``rubric/result.json``)."""

    result_id: str
    score: float
    band: str
    passed: tuple[str, ...]  # test ids whose outcome was "passed"
    failed: tuple[str, ...]
    not_done: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CanarySpec:
    """The canary batch (ML Test Score Infra 6): rows and the development predictions for them."""

    rows_path: str  # a Parquet file of feature rows, no target, no identifier columns
    predictions_path: str  # JSON list of the development pipeline's predictions for those rows
    tolerance: float  # absolute tolerance for numeric predictions; labels must be equal
    rows: int


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the package says about itself; inside the author-signed set (``manifest.json``)."""

    package_format: int
    model: str
    version: int
    model_version_id: str
    task: str
    algorithm: str
    metric: str
    holdout: float
    created_at: str  # when the model version was trained (no build time: the package is deterministic)
    author: str  # the printed name on the author's key
    author_keyid: str
    source_workspace_id: str
    source_workspace_name: str
    audit_seq: int  # the development workspace's audit head when the package was built
    audit_hash: str
    lineage: Lineage
    environment: tuple[tuple[str, str], ...]  # python, platform and pinned packages, by name
    artefacts: tuple[ArtefactEntry, ...]
    rubric: RubricSummary | None
    canary: CanarySpec | None
    format_version: int = MANIFEST_FORMAT_VERSION

    @property
    def label(self) -> str:
        return f"{self.model}@{self.version}"


@dataclass(frozen=True, slots=True)
class PackageSummary:
    """What a reviewer sees of a package before signing anything about it."""

    path: str
    package_digest: str
    manifest: Manifest
    files: tuple[PackageFile, ...]
    author_verified: bool  # the author's signature checked out against the author's public key
    model_card_markdown: str


# --- approvals -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Approval:
    """The predicate of a reviewer's signed approval statement (its subject is the package digest).

    ``meaning`` is the sentence the reviewer signed (21 CFR Part 11: the meaning of the signature),
    e.g. "Approved for production at site Clinic-North under trust policy 3".
    """

    package_digest: str
    model: str
    version: int
    environment: Environment
    site: str
    decision: Decision
    meaning: str
    policy_version: int
    reviewer: str  # the printed name on the reviewer's key
    reviewer_keyid: str
    signed_at: str  # ISO 8601 UTC
    expires_at: str
    nonce: str  # 32 random hex digits; a site accepts each nonce once
    comment: str
    format_version: int = APPROVAL_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class SignedApproval:
    """An approval as read from its file: the statement, the key that signed it and the raw envelope."""

    approval: Approval
    signer_keyid: str
    envelope: bytes  # the DSSE envelope JSON, exactly as read
    source: str  # where it was read from (file path), for messages


# --- the trust policy ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PolicyKey:
    """A key the policy trusts, for whom and for what, and for how long."""

    keyid: str
    pem: str
    person: str  # one person may hold several keys; they count once
    roles: tuple[KeyRole, ...]
    valid_from: str  # ISO 8601 UTC
    valid_until: str


@dataclass(frozen=True, slots=True)
class EnvironmentRule:
    """What one environment demands before a package is admitted there."""

    environment: Environment
    approvals_required: int  # distinct people holding ``approver_role``; the author never counts
    approver_role: KeyRole
    min_rubric_score: float
    required_tests: tuple[str, ...]  # ML Test Score ids that must have passed (e.g. "Infra 1")
    approvers_differ_from_qa: bool = False  # production: nobody who approved for QA counts here
    require_qa_attestation: bool = False  # production: the QA site's signed admission must come along


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """A site's trust policy: signed by its administrators, versioned, expiring.

    A new version needs the threshold of the current administrators and of its own (TUF's root
    rotation); an older or equal version is refused; an expired one admits nothing.
    """

    version: int
    site: str
    environment: Environment  # the environment of the workspace that holds it
    issued_at: str
    expires_at: str
    administrators: tuple[PolicyKey, ...]
    admin_threshold: int
    keys: tuple[PolicyKey, ...]  # authors, reviewers, approvers, site keys
    revoked: tuple[str, ...]  # key ids never to trust again, whatever else the policy says
    rules: tuple[EnvironmentRule, ...]
    allowed_formats: tuple[str, ...]
    format_version: int = POLICY_FORMAT_VERSION

    def rule(self, environment: Environment) -> EnvironmentRule | None:
        return next((r for r in self.rules if r.environment == environment), None)


@dataclass(frozen=True, slots=True)
class InstalledPolicy:
    """The policy a workspace trusts now, as stored: the document and who installed it when."""

    policy: TrustPolicy
    envelope: bytes  # the signed DSSE envelope, exactly as installed
    installed_at: str
    installed_by: str
    recovered: bool  # installed by an explicit administrator recovery, not by rotation


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """A trust policy version as the store keeps it: the signed envelope, re-verified when read."""

    version: int
    site: str
    environment: Environment
    expires_at: str
    envelope: bytes
    installed_at: str
    installed_by: str
    recovered: bool


# --- admission and the registry ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteAttestation:
    """The predicate of a QA site's signed statement that it admitted and canaried a package."""

    package_digest: str
    model: str
    version: int
    site: str
    environment: Environment
    admitted_at: str
    canary_rows: int
    canary_max_difference: float
    policy_version: int
    site_keyid: str
    approver_keyids: tuple[str, ...] = ()  # the keys whose QA approvals counted there
    format_version: int = ATTESTATION_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class AdmissionStep:
    check: AdmissionCheck
    status: StepStatus
    detail: str  # what was checked, or what failed and why


@dataclass(frozen=True, slots=True)
class AdmissionReport:
    """Every admission step and how it ended. Nothing is stored unless ``admitted``."""

    package: str
    package_digest: str | None
    label: str | None
    steps: tuple[AdmissionStep, ...]
    admitted: bool

    @property
    def failure(self) -> AdmissionStep | None:
        return next((s for s in self.steps if s.status == StepStatus.FAILED), None)


@dataclass(frozen=True, slots=True)
class AdmissionRecord:
    """What a workspace keeps of an admission: the signed manifest, the signed statements that
    counted, and what the canary measured. Its files are stored beside it (``content/…``,
    ``author.sig``), so a rollback re-checks everything against the policy of the day."""

    id: str
    package_digest: str
    manifest: Manifest
    author_keyid: str
    approvals: tuple[str, ...]  # the DSSE envelopes (JSON text) of the approvals that counted
    qa_attestation: str | None  # the QA site's signed attestation (JSON text), when it came along
    approvers: tuple[str, ...]  # people, by the name the policy gives them
    policy_version: int
    canary_rows: int
    canary_max_difference: float
    admitted_at: str
    admitted_by: str
    format_version: int = ADMISSION_FORMAT_VERSION


@dataclass(frozen=True, slots=True)
class AdmittedVersion:
    """A package admitted into this workspace."""

    model: str
    version: int
    package_digest: str
    author: str
    admitted_at: str
    admitted_by: str
    policy_version: int
    approvers: tuple[str, ...]  # people, by printed name
    canary_rows: int
    canary_max_difference: float
    champion: bool

    @property
    def label(self) -> str:
        return f"{self.model}@{self.version}"


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """One change of a model's registry: who did it, when, why, and (rollback) how long it took."""

    seq: int
    model: str
    action: RegistryAction
    version: int
    previous: int | None  # the champion before, if any
    reason: str
    actor: str
    at: str
    duration_seconds: float | None  # a rollback's measured duration (ML Test Score Infra 7)


# --- formats -------------------------------------------------------------------------------

formats.register(formats.RecordKind(
    "airlock.package_manifest", Manifest, MANIFEST_FORMAT_VERSION, "package manifest",
    "build the package again with this Airlock (airlock package build)",
))
formats.register(formats.RecordKind(
    "airlock.approval", Approval, APPROVAL_FORMAT_VERSION, "approval",
    "ask the reviewer to approve again with this Airlock",
))
formats.register(formats.RecordKind(
    "airlock.trust_policy", TrustPolicy, POLICY_FORMAT_VERSION, "trust policy",
    "have the administrators sign the policy again with this Airlock",
))
formats.register(formats.RecordKind(
    "airlock.site_attestation", SiteAttestation, ATTESTATION_FORMAT_VERSION, "site attestation",
    "admit the package at the QA site again",
))
formats.register(formats.RecordKind(
    "airlock.admission_record", AdmissionRecord, ADMISSION_FORMAT_VERSION, "admission record",
    "admit the package again",
))


__all__ = [
    "ADMISSION_FORMAT_VERSION", "APPROVAL_FORMAT_VERSION", "AdmissionRecord", "StoredPolicy", "APPROVAL_PREDICATE",
    "ATTESTATION_FORMAT_VERSION", "IN_TOTO_PAYLOAD_TYPE",
    "IN_TOTO_STATEMENT", "MANIFEST_FORMAT_VERSION", "PACKAGE_FORMAT_VERSION", "POLICY_FORMAT_VERSION",
    "POLICY_PREDICATE", "SITE_ATTESTATION_PREDICATE", "AdmissionCheck", "AdmissionReport", "AdmissionStep",
    "AdmittedVersion", "Approval", "ArtefactEntry", "CanarySpec", "Decision", "Environment", "EnvironmentRule",
    "InstalledPolicy", "KeyRole", "KeyStorage", "Lineage", "Manifest", "PackageFile", "PackageSummary", "PolicyKey",
    "PublicKey", "RegistryAction", "RegistryEvent", "RubricSummary", "SignedApproval", "SigningKeyInfo",
    "SiteAttestation", "StepStatus", "TrustPolicy", "fingerprint",
]
