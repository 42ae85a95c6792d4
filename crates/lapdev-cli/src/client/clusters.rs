//! The cluster endpoints of the typed client (`/orgs/{org}/clusters`).

use lapdev_api::{
    Cluster, ClusterCredentials, ClusterName, CreateCluster, OrganizationName, Page, PageQuery,
    UpdateCluster,
};
use reqwest::{Method, header};

use super::{Client, ClientError, Scope};

impl Client {
    /// `GET /orgs/{org}/clusters`.
    pub(crate) async fn list_clusters(
        &self,
        org: &OrganizationName,
        page: &PageQuery,
    ) -> Result<Page<Cluster>, ClientError> {
        let req = self.request(Method::GET, &format!("/orgs/{org}/clusters"), Some(page));
        self.send_json(req, Scope::Org(org)).await
    }

    /// `POST /orgs/{org}/clusters`.
    pub(crate) async fn create_cluster(
        &self,
        org: &OrganizationName,
        request: &CreateCluster,
    ) -> Result<ClusterCredentials, ClientError> {
        let req = self
            .request(Method::POST, &format!("/orgs/{org}/clusters"), None)
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `GET /orgs/{org}/clusters/{cluster}`.
    pub(crate) async fn get_cluster(
        &self,
        org: &OrganizationName,
        cluster: &ClusterName,
    ) -> Result<Cluster, ClientError> {
        let req = self.request(
            Method::GET,
            &format!("/orgs/{org}/clusters/{cluster}"),
            None,
        );
        self.send_json(req, Scope::Org(org)).await
    }

    /// `PATCH /orgs/{org}/clusters/{cluster}`.
    pub(crate) async fn update_cluster(
        &self,
        org: &OrganizationName,
        cluster: &ClusterName,
        request: &UpdateCluster,
    ) -> Result<Cluster, ClientError> {
        let req = self
            .request(
                Method::PATCH,
                &format!("/orgs/{org}/clusters/{cluster}"),
                None,
            )
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `DELETE /orgs/{org}/clusters/{cluster}`.
    pub(crate) async fn delete_cluster(
        &self,
        org: &OrganizationName,
        cluster: &ClusterName,
    ) -> Result<(), ClientError> {
        let req = self.request(
            Method::DELETE,
            &format!("/orgs/{org}/clusters/{cluster}"),
            None,
        );
        self.send(req, Scope::Org(org)).await.map(drop)
    }

    /// `POST /orgs/{org}/clusters/{cluster}/token`: rotate.
    pub(crate) async fn rotate_cluster_token(
        &self,
        org: &OrganizationName,
        cluster: &ClusterName,
    ) -> Result<ClusterCredentials, ClientError> {
        let path = format!("/orgs/{org}/clusters/{cluster}/token");
        let req = self.request(Method::POST, &path, None);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `DELETE /orgs/{org}/clusters/{cluster}/token`: revoke.
    pub(crate) async fn revoke_cluster_token(
        &self,
        org: &OrganizationName,
        cluster: &ClusterName,
    ) -> Result<Cluster, ClientError> {
        let path = format!("/orgs/{org}/clusters/{cluster}/token");
        let req = self.request(Method::DELETE, &path, None);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `GET /orgs/{org}/clusters/{cluster}/install-manifest`: YAML text.
    pub(crate) async fn install_manifest(
        &self,
        org: &OrganizationName,
        cluster: &ClusterName,
        namespaces: &[String],
    ) -> Result<String, ClientError> {
        let mut url = self
            .server
            .endpoint(&format!("/orgs/{org}/clusters/{cluster}/install-manifest"));
        if !namespaces.is_empty() {
            url.query_pairs_mut()
                .append_pair("namespaces", &namespaces.join(","));
        }
        let mut req = self
            .http
            .get(url)
            .header(header::ACCEPT, lapdev_api::MANIFEST_CONTENT_TYPE);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token.expose());
        }
        let (status, body) = self.send(req, Scope::Org(org)).await?;
        String::from_utf8(body).map_err(|_| ClientError::UnexpectedResponse {
            server: self.server.clone(),
            status: status.as_u16(),
            detail: "the manifest is not UTF-8".into(),
        })
    }
}
