//! The REST API contract of Lapdev (`/api/v1`): request and response types
//! shared by the server, the CLI and the tests. No I/O.
//!
//! These are wire types: the server maps database rows and domain values into
//! them explicitly, so a schema change here is a visible API change (see the
//! golden test of the OpenAPI document in the server crate).

mod audit;
mod auth;
mod catalogs;
mod clusters;
mod environments;
mod error;
mod organizations;
mod page;
mod tokens;

pub use audit::{AuditActor, AuditEvent};
pub use auth::{ChangePassword, LoginRequest, LoginResponse, Me, User};
pub use catalogs::{
    AddWorkloads, ApplyRefresh, Catalog, CatalogDependencies, CatalogObject, CatalogSummary,
    CatalogWarning, CreateCatalog, FieldChange, FieldValue, ObjectChange, ObjectDiff, ObjectRef,
    RefreshPreview, RequiredValue, SecretAction, SecretPolicy, SecretRule, Severity, UpdateCatalog,
    Workload, WorkloadKind, WorkloadList, WorkloadRef, WorkloadsQuery,
};
pub use clusters::{
    Cluster, ClusterCredentials, ClusterStatus, CreateCluster, InstallManifestQuery,
    MANIFEST_CONTENT_TYPE, TOKEN_PLACEHOLDER, UpdateCluster,
};
pub use environments::{
    CreateEnvironment, Environment, EnvironmentEvent, EnvironmentQuery, EnvironmentStatus,
    EnvironmentSummary, EnvironmentWorkload, EnvironmentsQuery, ReplicasPolicy, SecretValueInput,
};
pub use error::{ErrorBody, ErrorCode};
pub use organizations::{
    AddMember, AddedMember, CreateOrganization, Member, Organization, OrganizationMembership,
    UpdateMember,
};
pub use page::{Page, PageQuery};
pub use tokens::{ApiToken, CreateToken, CreatedToken};

// Re-exported so clients of the API need only this crate.
pub use lapdev_domain::{
    ApiTokenId, AuditEventId, CatalogId, CatalogName, ClusterId, ClusterName, ClusterPermission,
    ClusterRole, DesiredState, EnvironmentId, EnvironmentKind, EnvironmentName, OrganizationId,
    OrganizationName, Role, TokenName, UserId, Username,
};

/// Prefix of every REST route.
pub const API_PREFIX: &str = "/api/v1";

/// Largest accepted JSON request body, in bytes. Larger bodies get 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
