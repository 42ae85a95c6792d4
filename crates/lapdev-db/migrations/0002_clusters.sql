-- Connected Kubernetes clusters and their tokens.
--
-- Same portable subset as 0001 (see the crate docs). Flags are BIGINT 0/1
-- with a CHECK (there is no portable boolean in sqlx's Any driver).

CREATE TABLE clusters (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role_source BIGINT NOT NULL CHECK (role_source IN (0, 1)),
    role_target BIGINT NOT NULL CHECK (role_target IN (0, 1)),
    allow_personal BIGINT NOT NULL CHECK (allow_personal IN (0, 1)),
    allow_shared BIGINT NOT NULL CHECK (allow_shared IN (0, 1)),
    created_at BIGINT NOT NULL,
    -- Last heartbeat written (throttled); NULL: never connected (Pending).
    last_seen_at BIGINT,
    -- Facts of the last status report from kube-manager.
    kube_manager_version TEXT,
    kubernetes_version TEXT,
    node_count BIGINT,
    allocatable_cpu_millis BIGINT,
    allocatable_memory_bytes BIGINT,
    reported_at BIGINT,
    UNIQUE (organization_id, name)
);

-- A cluster's tokens: usually one; two during a rotation's grace period.
-- `retires_at` NULL is the current token; a rotated-out token keeps working
-- until `retires_at` (or until the new token connects). Only a SHA-256 hash
-- of the secret is stored, and lookup is by that hash.
CREATE TABLE cluster_tokens (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    retires_at BIGINT
);
CREATE INDEX cluster_tokens_by_cluster ON cluster_tokens (cluster_id);
