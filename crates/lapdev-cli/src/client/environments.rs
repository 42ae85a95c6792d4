//! The environment endpoints of the typed client (`/orgs/{org}/environments`),
//! including the long poll (`?after=REVISION`) that `--watch` and `--wait`
//! are built on.

use std::time::Duration;

use lapdev_api::{
    CreateEnvironment, Environment, EnvironmentEvent, EnvironmentKind, EnvironmentName,
    EnvironmentSummary, OrganizationName, Page, PageQuery,
};
use reqwest::Method;

use super::{Client, ClientError, REQUEST_TIMEOUT, Scope, page_pairs, with_query};

/// The longest wait the server grants one long poll (`wait_secs`).
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(60);

impl Client {
    /// `GET /orgs/{org}/environments`, optionally of one kind.
    pub(crate) async fn list_environments(
        &self,
        org: &OrganizationName,
        kind: Option<EnvironmentKind>,
        page: &PageQuery,
    ) -> Result<Page<EnvironmentSummary>, ClientError> {
        let kind = ("kind", kind.map(|kind| kind.as_str().to_string()));
        let url = with_query(
            self.server.endpoint(&format!("/orgs/{org}/environments")),
            std::iter::once(kind).chain(page_pairs(page)),
        );
        self.send_json(self.request_url(Method::GET, url), Scope::Org(org))
            .await
    }

    /// `POST /orgs/{org}/environments`.
    pub(crate) async fn create_environment(
        &self,
        org: &OrganizationName,
        request: &CreateEnvironment,
    ) -> Result<Environment, ClientError> {
        let req = self
            .request(Method::POST, &format!("/orgs/{org}/environments"), None)
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `GET /orgs/{org}/environments/{env}`.
    pub(crate) async fn get_environment(
        &self,
        org: &OrganizationName,
        env: &EnvironmentName,
    ) -> Result<Environment, ClientError> {
        let req = self.request(
            Method::GET,
            &format!("/orgs/{org}/environments/{env}"),
            None,
        );
        self.send_json(req, Scope::Org(org)).await
    }

    /// `GET /orgs/{org}/environments/{env}?after=REVISION&wait_secs=N`: the
    /// environment once its revision differs from `after`, or unchanged
    /// after `wait` (capped at [`MAX_WAIT`]). A deleted environment answers
    /// [`ClientError::NotFound`].
    ///
    /// The server holds the request for up to `wait`, so this request gets
    /// `wait` plus the usual [`REQUEST_TIMEOUT`] instead of the client's.
    pub(crate) async fn wait_environment(
        &self,
        org: &OrganizationName,
        env: &EnvironmentName,
        after: u64,
        wait: Duration,
    ) -> Result<Environment, ClientError> {
        let wait_secs = wait.min(MAX_WAIT).as_secs().max(1);
        let mut url = self
            .server
            .endpoint(&format!("/orgs/{org}/environments/{env}"));
        url.query_pairs_mut()
            .append_pair("after", &after.to_string())
            .append_pair("wait_secs", &wait_secs.to_string());
        let req = self
            .request_url(Method::GET, url)
            .timeout(Duration::from_secs(wait_secs) + REQUEST_TIMEOUT);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `DELETE /orgs/{org}/environments/{env}`: accepted (202), the
    /// environment is `deleting` until its namespace is gone.
    pub(crate) async fn delete_environment(
        &self,
        org: &OrganizationName,
        env: &EnvironmentName,
    ) -> Result<Environment, ClientError> {
        let req = self.request(
            Method::DELETE,
            &format!("/orgs/{org}/environments/{env}"),
            None,
        );
        self.send_json(req, Scope::Org(org)).await
    }

    /// `POST /orgs/{org}/environments/{env}/pause`.
    pub(crate) async fn pause_environment(
        &self,
        org: &OrganizationName,
        env: &EnvironmentName,
    ) -> Result<Environment, ClientError> {
        self.environment_action(org, env, "pause").await
    }

    /// `POST /orgs/{org}/environments/{env}/resume`.
    pub(crate) async fn resume_environment(
        &self,
        org: &OrganizationName,
        env: &EnvironmentName,
    ) -> Result<Environment, ClientError> {
        self.environment_action(org, env, "resume").await
    }

    async fn environment_action(
        &self,
        org: &OrganizationName,
        env: &EnvironmentName,
        action: &str,
    ) -> Result<Environment, ClientError> {
        let req = self.request(
            Method::POST,
            &format!("/orgs/{org}/environments/{env}/{action}"),
            None,
        );
        self.send_json(req, Scope::Org(org)).await
    }

    /// `GET /orgs/{org}/environments/{env}/events?limit=N`, newest first.
    pub(crate) async fn list_environment_events(
        &self,
        org: &OrganizationName,
        env: &EnvironmentName,
        limit: u32,
    ) -> Result<Page<EnvironmentEvent>, ClientError> {
        let page = PageQuery {
            limit: Some(limit),
            cursor: None,
        };
        let req = self.request(
            Method::GET,
            &format!("/orgs/{org}/environments/{env}/events"),
            Some(&page),
        );
        self.send_json(req, Scope::Org(org)).await
    }
}
