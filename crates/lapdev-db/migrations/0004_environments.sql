-- Personal and Shared environments: running instances of a catalog in a
-- target cluster.
--
-- Same portable subset as 0001 (see the crate docs). An environment row is
-- both what its owner asked for (`desired`, `generation`: written before
-- the API answers) and what the cluster last reported (`phase`,
-- `observed_generation`, `workloads`), so an accepted change survives a
-- server restart and the reconciler completes it when the cluster is
-- reachable. `revision` increases with every change of the row (watchers
-- wait for it to move).
--
-- The catalog's objects are copied at creation (`objects`, Secret values
-- removed); an environment is an instance of the catalog as it was, and a
-- later catalog change does not alter it. Secret values (copied from the
-- catalog, or given for redacted keys) are sealed by the server, as in
-- `catalog_secret_values`.

CREATE TABLE environments (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('personal', 'shared')),
    -- The creator (the owner of a Personal environment).
    owner_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    catalog_id TEXT REFERENCES catalogs (id) ON DELETE SET NULL,
    catalog_name TEXT NOT NULL,
    -- A cluster with environments cannot be deleted (the server refuses).
    cluster_id TEXT NOT NULL REFERENCES clusters (id),
    namespace TEXT NOT NULL,
    -- JSON: the replicas policy.
    replicas TEXT NOT NULL,
    -- JSON: the catalog's objects, Secret values removed.
    objects TEXT NOT NULL,
    desired TEXT NOT NULL CHECK (desired IN ('running', 'paused', 'deleted')),
    generation BIGINT NOT NULL,
    -- The last generation kube-manager applied (answered), or NULL.
    applied_generation BIGINT,
    -- Set when the cluster refused `failed_generation` for good (e.g.
    -- missing Secret values); cleared by the next change.
    failed_generation BIGINT,
    failure TEXT,
    -- JSON list of warnings from the last apply.
    warnings TEXT NOT NULL,
    -- What kube-manager last reported: phase, generation, workloads (JSON).
    phase TEXT NOT NULL,
    observed_generation BIGINT,
    workloads TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (organization_id, name),
    UNIQUE (cluster_id, namespace)
);
CREATE INDEX environments_by_cluster ON environments (cluster_id);
CREATE INDEX environments_by_owner ON environments (owner_id);

-- One sealed Secret value of an environment. For values copied from the
-- catalog, `object` is `namespace/name` of the source Secret and `field`
-- is `data` or `stringData`; for a value given for a redacted key,
-- `object` is the Secret's name and `field` is `provided`.
CREATE TABLE environment_secret_values (
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    object TEXT NOT NULL,
    field TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    PRIMARY KEY (environment_id, object, field, secret_key)
);
CREATE INDEX environment_secret_values_by_key_id ON environment_secret_values (key_id);

-- What happened to an environment, for its page (newest first).
CREATE TABLE environment_events (
    id TEXT PRIMARY KEY,
    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('info', 'warning')),
    message TEXT NOT NULL
);
CREATE INDEX environment_events_by_environment ON environment_events (environment_id, id);
