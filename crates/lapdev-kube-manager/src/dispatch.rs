//! Runs the server's requests: at most `max_concurrent_requests` at once,
//! each with a timeout, each answered with the same request id and either a
//! [`Response`] or a typed [`TunnelError`].

use std::sync::Arc;
use std::time::Duration;

use lapdev_tunnel_proto::{ErrorCode, Request, Response, TunnelError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::environment::{self, ServiceAccountRef};
use crate::source::{SourceReader, SourceScope};
use crate::{catalog, discovery, guard, namespaces, status};

/// How long one request may take before it is answered `timeout`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Executes requests; cheap to clone (one per session shares the limit).
#[derive(Clone)]
pub struct Dispatcher {
    client: kube::Client,
    permits: Arc<Semaphore>,
    max: u32,
    source_scope: SourceScope,
    service_account: ServiceAccountRef,
}

impl Dispatcher {
    pub fn new(client: kube::Client, max_concurrent_requests: u32) -> Self {
        Dispatcher {
            client,
            permits: Arc::new(Semaphore::new(max_concurrent_requests as usize)),
            max: max_concurrent_requests,
            source_scope: SourceScope::Cluster,
            service_account: ServiceAccountRef::default(),
        }
    }

    /// The ServiceAccount environment namespaces bind (default
    /// `lapdev/lapdev-kube-manager`).
    pub fn with_service_account(mut self, service_account: ServiceAccountRef) -> Self {
        self.service_account = service_account;
        self
    }

    /// Catalog requests read only within `scope` (default: every namespace).
    pub fn with_source_scope(mut self, scope: SourceScope) -> Self {
        self.source_scope = scope;
        self
    }

    /// The read-only handle catalog requests get.
    fn reader(&self) -> SourceReader {
        SourceReader::scoped(self.client.clone(), self.source_scope.clone())
    }

    /// A slot for one request, or the `overloaded` error to answer with.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, TunnelError> {
        self.permits.clone().try_acquire_owned().map_err(|_| {
            TunnelError::new(
                ErrorCode::Overloaded,
                format!(
                    "kube-manager is already running {} requests; retry later",
                    self.max
                ),
            )
        })
    }

    /// Runs one request to its answer.
    pub async fn handle(&self, request: Request) -> Result<Response, TunnelError> {
        let kind = request.kind();
        match tokio::time::timeout(REQUEST_TIMEOUT, self.run(request)).await {
            Ok(result) => result,
            Err(_) => Err(TunnelError::new(
                ErrorCode::Timeout,
                format!(
                    "the {kind} request did not finish within {}s",
                    REQUEST_TIMEOUT.as_secs()
                ),
            )),
        }
    }

    async fn run(&self, request: Request) -> Result<Response, TunnelError> {
        match request {
            Request::Ping => Ok(Response::Pong),
            Request::GetClusterStatus => status::collect(&self.client)
                .await
                .map(Response::ClusterStatus)
                .map_err(kube_error),
            Request::DeleteNamespace { namespace } => {
                let ns = guard::managed_namespace(&namespace)?;
                namespaces::delete(&self.client, &ns).await?;
                Ok(Response::Deleted)
            }
            // Catalog requests only get a read-only handle.
            Request::ListWorkloads(list) => discovery::list_workloads(&self.reader(), &list)
                .await
                .map(Response::Workloads),
            Request::SnapshotCatalog(request) => catalog::snapshot(&self.reader(), &request)
                .await
                .map(Response::CatalogSnapshot),
            Request::RefreshCatalog(request) => catalog::refresh(&self.reader(), &request)
                .await
                .map(Response::CatalogRefresh),
            // Environment writes: every one takes a guarded namespace.
            Request::ApplyEnvironment(request) => {
                environment::reconcile(&self.client, &self.service_account, &request)
                    .await
                    .map(Response::EnvironmentApplied)
            }
            Request::GetEnvironmentStatus(request) => {
                let ns = guard::managed_namespace(&request.namespace)?;
                environment::observe::collect(&self.client, &ns)
                    .await
                    .map(Response::EnvironmentStatus)
            }
        }
    }
}

/// A Kubernetes client error as a tunnel error: API statuses keep their
/// code (404 → `not_found`), anything else is `internal`.
pub fn kube_error(e: kube::Error) -> TunnelError {
    match e {
        kube::Error::Api(status) if status.code == 404 => {
            TunnelError::not_found(format!("Kubernetes: {}", status.message))
        }
        kube::Error::Api(status) => TunnelError::new(
            ErrorCode::Kubernetes {
                status: status.code,
            },
            format!("Kubernetes: {} ({})", status.message, status.reason),
        ),
        other => TunnelError::internal(format!("Kubernetes API call failed: {other}")),
    }
}
