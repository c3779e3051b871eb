"""The tables both catalog backends share, as SQL in the backend's own names for a float and a boolean;
each backend's migrations build on these (their search tables are their own)."""

from __future__ import annotations


def core_tables(*, real: str, boolean: str) -> str:
    """Migration 1's dossiers, components and pages tables, in the backend's names for a float and a
    boolean (the logical schema of `base.py`)."""
    return f"""
    CREATE TABLE dossiers (
        id               TEXT PRIMARY KEY,
        status           TEXT NOT NULL CHECK (status IN ('done', 'failed')),
        error            TEXT,
        source_path      TEXT NOT NULL,
        source_sha256    TEXT NOT NULL,
        pages            INTEGER NOT NULL,
        settings_version TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        indexed_at       TEXT NOT NULL,
        manifest_json    TEXT NOT NULL
    );
    CREATE INDEX dossiers_status ON dossiers (status);
    CREATE INDEX dossiers_source_sha256 ON dossiers (source_sha256);

    CREATE TABLE components (
        id            TEXT PRIMARY KEY,
        dossier_id    TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
        seq           INTEGER NOT NULL,
        type          TEXT NOT NULL,
        type_name     TEXT NOT NULL,
        confidence    {real} NOT NULL,
        needs_review  {boolean} NOT NULL,
        pages_json    TEXT NOT NULL,
        metadata_json TEXT NOT NULL,
        object_uri    TEXT,
        sha256        TEXT,
        reused_from   TEXT,
        UNIQUE (dossier_id, seq)
    );
    CREATE INDEX components_type ON components (type);
    CREATE INDEX components_sha256 ON components (sha256);

    CREATE TABLE pages (
        dossier_id   TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
        n            INTEGER NOT NULL,
        component_id TEXT REFERENCES components (id) ON DELETE SET NULL,
        blank        {boolean} NOT NULL,
        text         TEXT NOT NULL,
        PRIMARY KEY (dossier_id, n)
    );
    CREATE INDEX pages_component ON pages (component_id);
"""


def owner_tables(*, ngay_from_json: str, table_options: str = "") -> str:
    """The migration that lists documents by owner and by date (`documents()`) and finds who points
    at a stored object (`references()`): metadata.ngay as an indexed column (`ngay_from_json`: the
    backend's expression for it), the CCCD numbers as rows. The backend adds the backfill of owners."""
    return f"""
    ALTER TABLE components ADD COLUMN ngay TEXT;
    UPDATE components SET ngay = {ngay_from_json};
    CREATE INDEX components_ngay ON components (ngay);
    CREATE INDEX components_object_uri ON components (object_uri);
    CREATE TABLE component_owners (
        cccd         TEXT NOT NULL,
        component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
        dossier_id   TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
        PRIMARY KEY (cccd, component_id)
    ){table_options};
    CREATE INDEX component_owners_dossier ON component_owners (dossier_id);
"""


def signature_tables(*, boolean: str, table_options: str = "") -> str:
    """The migration that keeps the digital signatures of components' source PDFs, one row each."""
    return f"""
    CREATE TABLE component_signatures (
        component_id      TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
        dossier_id        TEXT NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
        seq               INTEGER NOT NULL,
        file              TEXT NOT NULL,
        field             TEXT NOT NULL,
        signer            TEXT,
        organisation      TEXT,
        signed_at         TEXT,
        intact            {boolean} NOT NULL,
        valid             {boolean} NOT NULL,
        covers_whole_file {boolean} NOT NULL,
        later_changes     TEXT,
        stored_as         TEXT NOT NULL,
        PRIMARY KEY (component_id, seq)
    ){table_options};
    CREATE INDEX component_signatures_dossier ON component_signatures (dossier_id);
    CREATE INDEX component_signatures_signed_at ON component_signatures (signed_at);
"""


def account_tables(*, boolean: str, serial_key: str) -> str:
    """The web application's staff accounts, sessions and audit log (`pipeline.web.accounts`), and the
    review queue's order (least confident first) and the newest dossiers from an index."""
    return f"""
    CREATE TABLE users (
        name          TEXT PRIMARY KEY,
        role          TEXT NOT NULL CHECK (role IN ('viewer', 'reviewer', 'admin')),
        password_hash TEXT NOT NULL,
        active        {boolean} NOT NULL,
        created_at    TEXT NOT NULL,
        last_login_at TEXT
    );
    CREATE TABLE sessions (
        id         TEXT PRIMARY KEY,
        user_name  TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        csrf       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        seen_at    TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions (user_name);
    CREATE INDEX sessions_seen ON sessions (seen_at);
    CREATE TABLE audit (
        id           {serial_key},
        at           TEXT NOT NULL,
        user_name    TEXT NOT NULL,
        action       TEXT NOT NULL,
        dossier_id   TEXT,
        component_id TEXT,
        detail_json  TEXT NOT NULL
    );
    CREATE INDEX audit_dossier ON audit (dossier_id, id);
    CREATE INDEX components_review ON components (needs_review, confidence);
    CREATE INDEX dossiers_newest ON dossiers (created_at DESC, id);
"""
