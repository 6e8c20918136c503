"""The store's tables, as SQLAlchemy Core objects (the migrations create them).

Instants are stored as integer microseconds since the Unix epoch, UTC
(`*_us` columns), and birth dates as days since 1970-01-01: exact, cheap to
index and compare, and identical on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

__all__ = [
    "EPOCH",
    "audit_log",
    "build_canaries",
    "build_canary_sets",
    "build_deletion_checks",
    "build_member_chunks",
    "build_member_index",
    "builds",
    "case_assignments",
    "consent_events",
    "date_to_day",
    "day_to_date",
    "flashes",
    "ledger_head",
    "member_image",
    "member_languages",
    "members",
    "metadata",
    "model_audits",
    "model_builds",
    "model_obligation_waivers",
    "models",
    "objection_case_purposes",
    "objection_cases",
    "pipeline_secrets",
    "policy_versions",
    "rate_limits",
    "sessions",
    "staff_accounts",
    "staff_keys",
    "store_counters",
    "to_us",
    "us_to_dt",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1)
_ONE_US = timedelta(microseconds=1)

#: An INTEGER PRIMARY KEY on SQLite (the rowid), BIGINT elsewhere.
_EventId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

members = Table(
    "members",
    metadata,
    Column("member_id", String(255), primary_key=True),
    Column("country", String(2), nullable=True),
    Column("birth_day", Integer, nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("closed_us", BigInteger, nullable=True),
    # The members generation of the row's last change (see member_image).
    Column("changed_gen", BigInteger, nullable=False, server_default=text("0")),
    Index("ix_members_changed_gen", "changed_gen"),
)

consent_events = Table(
    "consent_events",
    metadata,
    Column("event_id", _EventId, primary_key=True, autoincrement=False),
    Column("member_id", String(255), ForeignKey("members.member_id"), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("choice", String(8), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("recorded_us", BigInteger, nullable=False),
    Column("source", String(32), nullable=False),
    Column("actor", String(255), nullable=True),
    Column("policy_version", String(64), nullable=True),
    Column("idempotency_key", String(255), nullable=True, unique=True),
    Column("case_id", String(64), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # The one secondary index (each costs appends): snapshots range-scan one
    # purpose in (member, at, id) order reading the index alone (it covers
    # choice and source); state() and a member's history seek (purpose, member).
    Index(
        "ix_consent_events_purpose_member_at",
        "purpose",
        "member_id",
        "at_us",
        "event_id",
        "choice",
        "source",
    ),
)

#: One row (id = 1): the chain's length and last hash. Appends lock it, and
#: `verify()` checks that the chain ends where it says.
ledger_head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("events", BigInteger, nullable=False),
    Column("last_event_id", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

#: Named counters; "members" moves on with every change to the members table,
#: in the same transaction, so a reader can tell whether its cached copy is current;
#: "member_image" is the row writers of the member image lock (its value is unused).
store_counters = Table(
    "store_counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

#: The members table as of one members generation, in Arrow IPC parts (consentry.store.member_image).
member_image = Table(
    "member_image",
    metadata,
    Column("part", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

objection_cases = Table(
    "objection_cases",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("member_id", String(255), ForeignKey("members.member_id"), nullable=False),
    Column("received_us", BigInteger, nullable=False),
    Column("due_us", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("text", Text, nullable=True),
    Column("policy_version", String(64), nullable=True),
    Column("extended_us", BigInteger, nullable=True),
    Column("extension_reasons", Text, nullable=True),
    Column("decided_us", BigInteger, nullable=True),
    Column("grounds", Text, nullable=True),
    Column("decided_by", String(255), nullable=True),
    Index("ix_objection_cases_member", "member_id", "received_us"),
    Index("ix_objection_cases_status_due", "status", "due_us"),
)

objection_case_purposes = Table(
    "objection_case_purposes",
    metadata,
    Column("case_id", String(64), ForeignKey("objection_cases.case_id"), primary_key=True),
    Column("purpose", String(64), primary_key=True),
    Index("ix_objection_case_purposes_purpose", "purpose", "case_id"),
)

policy_versions = Table(
    "policy_versions",
    metadata,
    Column("policy", String(255), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("published_us", BigInteger, nullable=False),
    Column("effective_us", BigInteger, nullable=False),
    Column("stored_us", BigInteger, nullable=False),
    Column("canonical_json", Text, nullable=False),
)

#: Secrets the store keeps for other layers, by name (the pipeline's pseudonym key).
pipeline_secrets = Table(
    "pipeline_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

#: Named staff accounts: signed in through OpenID Connect (issuer + subject) or holding API keys.
staff_accounts = Table(
    "service_staff_accounts",
    metadata,
    Column("account_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("issuer", String(255), nullable=True),
    Column("subject", String(255), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("signed_in_us", BigInteger, nullable=True),
    Column("disabled_us", BigInteger, nullable=True),
    UniqueConstraint("issuer", "subject", name="uq_service_staff_accounts_subject"),
)

#: Staff API keys: only the SHA-256 of each secret is stored; each key acts for one account.
staff_keys = Table(
    "service_staff_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_sha256", String(64), nullable=False, unique=True),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
    Column("account_id", String(32), nullable=True),
)

#: What staff did: ids and outcomes only, never personal data.
audit_log = Table(
    "service_audit_log",
    metadata,
    Column("audit_id", Integer, primary_key=True, autoincrement=True),
    Column("at_us", BigInteger, nullable=False),
    Column("key_id", String(32), nullable=True),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("detail", Text, nullable=True),
    Column("account_id", String(32), nullable=True),
    Index("ix_service_audit_log_at", "at_us"),
)

#: Every build: registered *pending* before its output is renamed into place, *complete* after.
builds = Table(
    "builds",
    metadata,
    Column("build_id", String(64), primary_key=True),
    Column("purpose", String(64), nullable=False),
    Column("as_of_us", BigInteger, nullable=False),
    Column("decided_us", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("out_dir", Text, nullable=False),
    Column("engine", String(32), nullable=False),
    Column("scrub", Boolean, nullable=False),
    Column("sources", Text, nullable=False),
    Column("counts", Text, nullable=False),
    Column("manifest_sha256", String(64), nullable=True),
    Column("members", BigInteger, nullable=False),
    Column("predecessor", String(64), nullable=True),
    # The ledger as the build saw it (migration 0010; NULL for older builds): `builds stale` checks that
    # the chain still holds that prefix, so a truncated or rewritten ledger cannot hide withdrawals.
    Column("ledger_events", BigInteger, nullable=True),
    Column("ledger_head", String(64), nullable=True),
    # Cohort shards of the output (migration 0013; 1 for unsharded and older builds).
    Column("shards", Integer, nullable=False, server_default="1"),
    Index("ix_builds_purpose", "purpose"),
)

#: A build's member set, sorted by member id and cut into chunks (consentry.store.member_sets).
build_member_chunks = Table(
    "build_member_chunks",
    metadata,
    Column("build_id", String(64), ForeignKey("builds.build_id", ondelete="CASCADE"), primary_key=True),
    Column("first_member_id", String(255), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

#: A build's member index (migration 0019; consentry.store.member_index): its members as sorted 64-bit
#: codes with their records, in parts of at most INDEX_PART_BYTES; written with the member set, or on first use.
build_member_index = Table(
    "build_member_index",
    metadata,
    Column("build_id", String(64), ForeignKey("builds.build_id", ondelete="CASCADE"), primary_key=True),
    Column("part", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)

#: The last check of a build's records against its sources: when, and how many were deleted by then
#: (NULL members and records: the sources or the output could not be read).
build_deletion_checks = Table(
    "build_deletion_checks",
    metadata,
    Column("build_id", String(64), ForeignKey("builds.build_id", ondelete="CASCADE"), primary_key=True),
    Column("checked_us", BigInteger, nullable=False),
    Column("members", BigInteger, nullable=True),
    Column("records", BigInteger, nullable=True),
)

#: Per build planted with canaries (migration 0020): the secret seed they were drawn from, the salt of
#: the commitment in the manifest, the commitment, and how many were planted. Never leaves the store.
build_canary_sets = Table(
    "build_canary_sets",
    metadata,
    Column("build_id", String(64), ForeignKey("builds.build_id", ondelete="CASCADE"), primary_key=True),
    Column("seed", String(128), nullable=False),
    Column("salt", String(128), nullable=False),
    Column("commitment", String(64), nullable=False),
    Column("planted", Integer, nullable=False),
)

#: A build's canaries (migration 0020): planted ones with the member, shard and records they went
#: into (record_ids: a JSON list), and controls (planted false, no member) never put in any build.
build_canaries = Table(
    "build_canaries",
    metadata,
    Column("build_id", String(64), ForeignKey("builds.build_id", ondelete="CASCADE"), primary_key=True),
    Column("canary_id", String(64), primary_key=True),
    Column("planted", Boolean, nullable=False),
    Column("member_id", String(255), nullable=True),
    Column("shard", Integer, nullable=True),
    Column("text", Text, nullable=False),
    Column("repeats", Integer, nullable=False),
    Column("record_ids", Text, nullable=False),
    Index("ix_build_canaries_member", "member_id"),
)

#: Model versions trained on registered builds (migration 0011): one row per name and version.
models = Table(
    "models",
    metadata,
    Column("model_id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("version", String(64), nullable=False),
    Column("trained_us", BigInteger, nullable=False),
    Column("registered_us", BigInteger, nullable=False),
    Column("uri", Text, nullable=True),
    Column("source", String(32), nullable=False),
    Index("ux_models_name_version", "name", "version", unique=True),
)

#: The builds each model version was trained on (migration 0011).
model_builds = Table(
    "model_builds",
    metadata,
    Column("model_id", String(64), ForeignKey("models.model_id", ondelete="CASCADE"), primary_key=True),
    Column("build_id", String(64), ForeignKey("builds.build_id"), primary_key=True),
    Index("ix_model_builds_build", "build_id"),
)

#: Forgetting obligations waived by staff, with their grounds and the members the waiver covers
#: (migration 0012). Obligations themselves are computed, never stored.
model_obligation_waivers = Table(
    "model_obligation_waivers",
    metadata,
    Column("obligation_id", String(64), primary_key=True),
    Column("model_id", String(64), ForeignKey("models.model_id", ondelete="CASCADE"), nullable=False),
    Column("waived_us", BigInteger, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("grounds", Text, nullable=False),
    Column("members", Text, nullable=False),
    Index("ix_model_obligation_waivers_model", "model_id"),
)

#: Audit reports stored against model versions (migration 0021): memorisation and forgetting
#: audits, the thresholds applied, whether the model passed, and the whole JSON report.
model_audits = Table(
    "model_audits",
    metadata,
    Column("audit_id", String(64), primary_key=True),
    Column("model_id", String(64), ForeignKey("models.model_id", ondelete="CASCADE"), nullable=False),
    Column("baseline_model_id", String(64), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("policy_version", String(64), nullable=True),
    Column("thresholds", Text, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("report", Text, nullable=False),
    Index("ix_model_audits_model", "model_id", "kind", "created_us"),
)

#: Rate limits shared by every worker: per key (e.g. "ip:203.0.113.9"), the theoretical arrival
#: time of the next action (GCRA), in microseconds since the epoch. A row whose time has passed
#: is the same as no row, and may be deleted.
rate_limits = Table(
    "service_rate_limits",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("tat_us", BigInteger, nullable=False),
    Index("ix_service_rate_limits_tat", "tat_us"),
)

#: Sign-in sessions (member pages, staff console), by the SHA-256 of their token: the token
#: itself lives only in the visitor's cookie. Ending one sets `ended_us`.
sessions = Table(
    "service_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("seen_us", BigInteger, nullable=False),
    Column("ended_us", BigInteger, nullable=True),
    Index("ix_service_sessions_subject", "kind", "subject"),
    Index("ix_service_sessions_seen", "seen_us"),
)

#: The language a member chose for the member pages (overrides their browser's Accept-Language).
member_languages = Table(
    "member_languages",
    metadata,
    Column("member_id", String(255), primary_key=True),
    Column("language", String(16), nullable=False),
    Column("set_us", BigInteger, nullable=False),
)

#: One-time confirmations waiting for the next page of a session (by the session token's digest).
flashes = Table(
    "service_flashes",
    metadata,
    Column("id", _EventId, primary_key=True, autoincrement=True),
    Column("session_sha256", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_service_flashes_session", "session_sha256"),
)

#: Who on the privacy staff handles an open objection case (a staff name or id, free text).
case_assignments = Table(
    "objection_case_assignments",
    metadata,
    Column("case_id", String(64), primary_key=True),
    Column("assignee", String(255), nullable=False),
    Column("assigned_us", BigInteger, nullable=False),
    Column("assigned_by", String(255), nullable=False),
    Index("ix_objection_case_assignments_assignee", "assignee"),
)


def to_us(t: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact, no float)."""
    if t.tzinfo is None:
        raise ValueError("naive datetime: give a time zone")
    return (t - EPOCH) // _ONE_US


def us_to_dt(us: int) -> datetime:
    """The aware UTC datetime of `us` microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=us)


def date_to_day(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - _EPOCH_DAY).days


def day_to_date(day: int) -> date:
    """The date `day` days after 1970-01-01."""
    return _EPOCH_DAY + timedelta(days=day)
