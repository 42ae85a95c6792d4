-- App Catalogs: a blueprint of workloads read from a source cluster.
--
-- Same portable subset as 0001 (see the crate docs); JSON is TEXT. The
-- snapshot holds the cleaned manifests WITHOUT Secret values: every value
-- of a Secret's `data`/`stringData` is a row of `catalog_secret_values`,
-- encrypted by the server (XChaCha20-Poly1305, random nonce per value,
-- tagged with the id of the key that sealed it). The database never sees a
-- plaintext Secret value.

CREATE TABLE catalogs (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    -- NULL once the source cluster was deleted from Lapdev.
    source_cluster_id TEXT REFERENCES clusters (id) ON DELETE SET NULL,
    -- JSON: the selected workloads (namespace, kind, name).
    workloads TEXT NOT NULL,
    workload_count BIGINT NOT NULL,
    -- JSON: the Secret policy kube-manager applies in the cluster.
    secret_policy TEXT NOT NULL,
    -- JSON: objects (Secret values removed), dependencies, issues,
    -- excluded Secrets, required values.
    snapshot TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (organization_id, name)
);
CREATE INDEX catalogs_by_source_cluster ON catalogs (source_cluster_id);

-- One encrypted Secret value. `object` is `namespace/name` of the Secret,
-- `field` is `data` or `stringData`. nonce and ciphertext are base64.
CREATE TABLE catalog_secret_values (
    catalog_id TEXT NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    object TEXT NOT NULL,
    field TEXT NOT NULL,
    secret_key TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    ciphertext TEXT NOT NULL,
    PRIMARY KEY (catalog_id, object, field, secret_key)
);
CREATE INDEX catalog_secret_values_by_key_id ON catalog_secret_values (key_id);
