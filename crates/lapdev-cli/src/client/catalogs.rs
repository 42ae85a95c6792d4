//! The catalog endpoints of the typed client (`/orgs/{org}/catalogs`) and
//! workload discovery (`/orgs/{org}/clusters/{cluster}/workloads`).

use lapdev_api::{
    AddWorkloads, ApplyRefresh, Catalog, CatalogName, CatalogSummary, ClusterName, CreateCatalog,
    OrganizationName, Page, PageQuery, RefreshPreview, UpdateCatalog, WorkloadList, WorkloadRef,
    WorkloadsQuery,
};
use reqwest::Method;

use super::{Client, ClientError, Scope, with_query};

impl Client {
    /// `GET /orgs/{org}/clusters/{cluster}/workloads`.
    pub(crate) async fn list_workloads(
        &self,
        org: &OrganizationName,
        cluster: &ClusterName,
        query: &WorkloadsQuery,
    ) -> Result<WorkloadList, ClientError> {
        let url = with_query(
            self.server
                .endpoint(&format!("/orgs/{org}/clusters/{cluster}/workloads")),
            [
                ("namespace", query.namespace.clone()),
                ("kind", query.kind.clone()),
                ("name", query.name.clone()),
                (
                    "include_system",
                    query.include_system.then(|| "true".into()),
                ),
            ],
        );
        self.send_json(self.request_url(Method::GET, url), Scope::Org(org))
            .await
    }

    /// `GET /orgs/{org}/catalogs`.
    pub(crate) async fn list_catalogs(
        &self,
        org: &OrganizationName,
        page: &PageQuery,
    ) -> Result<Page<CatalogSummary>, ClientError> {
        let req = self.request(Method::GET, &format!("/orgs/{org}/catalogs"), Some(page));
        self.send_json(req, Scope::Org(org)).await
    }

    /// `POST /orgs/{org}/catalogs`.
    pub(crate) async fn create_catalog(
        &self,
        org: &OrganizationName,
        request: &CreateCatalog,
    ) -> Result<Catalog, ClientError> {
        let req = self
            .request(Method::POST, &format!("/orgs/{org}/catalogs"), None)
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `GET /orgs/{org}/catalogs/{catalog}`.
    pub(crate) async fn get_catalog(
        &self,
        org: &OrganizationName,
        catalog: &CatalogName,
    ) -> Result<Catalog, ClientError> {
        let req = self.request(
            Method::GET,
            &format!("/orgs/{org}/catalogs/{catalog}"),
            None,
        );
        self.send_json(req, Scope::Org(org)).await
    }

    /// `PATCH /orgs/{org}/catalogs/{catalog}`.
    pub(crate) async fn update_catalog(
        &self,
        org: &OrganizationName,
        catalog: &CatalogName,
        request: &UpdateCatalog,
    ) -> Result<Catalog, ClientError> {
        let req = self
            .request(
                Method::PATCH,
                &format!("/orgs/{org}/catalogs/{catalog}"),
                None,
            )
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `DELETE /orgs/{org}/catalogs/{catalog}`.
    pub(crate) async fn delete_catalog(
        &self,
        org: &OrganizationName,
        catalog: &CatalogName,
    ) -> Result<(), ClientError> {
        let req = self.request(
            Method::DELETE,
            &format!("/orgs/{org}/catalogs/{catalog}"),
            None,
        );
        self.send(req, Scope::Org(org)).await.map(drop)
    }

    /// `POST /orgs/{org}/catalogs/{catalog}/workloads`.
    pub(crate) async fn add_catalog_workloads(
        &self,
        org: &OrganizationName,
        catalog: &CatalogName,
        request: &AddWorkloads,
    ) -> Result<Catalog, ClientError> {
        let req = self
            .request(
                Method::POST,
                &format!("/orgs/{org}/catalogs/{catalog}/workloads"),
                None,
            )
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `DELETE /orgs/{org}/catalogs/{catalog}/workloads/{namespace}/{kind}/{name}`.
    pub(crate) async fn remove_catalog_workload(
        &self,
        org: &OrganizationName,
        catalog: &CatalogName,
        workload: &WorkloadRef,
    ) -> Result<Catalog, ClientError> {
        let mut url = self
            .server
            .endpoint(&format!("/orgs/{org}/catalogs/{catalog}"));
        url.path_segments_mut()
            .map_err(|()| ClientError::UnexpectedResponse {
                server: self.server.clone(),
                status: 0,
                detail: "the server URL cannot hold a path".into(),
            })?
            .extend([
                "workloads",
                workload.namespace.as_str(),
                workload.kind.as_str(),
                workload.name.as_str(),
            ]);
        let req = self.request_url(Method::DELETE, url);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `POST /orgs/{org}/catalogs/{catalog}/refresh`.
    pub(crate) async fn preview_catalog_refresh(
        &self,
        org: &OrganizationName,
        catalog: &CatalogName,
    ) -> Result<RefreshPreview, ClientError> {
        let req = self.request(
            Method::POST,
            &format!("/orgs/{org}/catalogs/{catalog}/refresh"),
            None,
        );
        self.send_json(req, Scope::Org(org)).await
    }

    /// `POST /orgs/{org}/catalogs/{catalog}/refresh/apply`.
    pub(crate) async fn apply_catalog_refresh(
        &self,
        org: &OrganizationName,
        catalog: &CatalogName,
        request: &ApplyRefresh,
    ) -> Result<Catalog, ClientError> {
        let req = self
            .request(
                Method::POST,
                &format!("/orgs/{org}/catalogs/{catalog}/refresh/apply"),
                None,
            )
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }
}
