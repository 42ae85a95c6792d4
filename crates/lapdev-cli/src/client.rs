//! The typed client of the Lapdev REST API (`/api/v1`): one method per
//! endpoint, lapdev-api types in and out, and one error type that turns every
//! failure (transport, HTTP status, `ErrorBody`) into a sentence for the user.
//!
//! The token is sent only as `Authorization: Bearer` and never appears in an
//! error, a `Debug` output or a log line.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use lapdev_api::{
    API_PREFIX, AddMember, AddedMember, ApiToken, ApiTokenId, AuditEvent, ChangePassword,
    CreateOrganization, CreateToken, CreatedToken, ErrorBody, ErrorCode, LoginRequest,
    LoginResponse, Me, Member, Organization, OrganizationName, Page, PageQuery, UpdateMember,
    UserId,
};
use reqwest::{Method, RequestBuilder, StatusCode, Url, header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod catalogs;
mod clusters;
mod environments;

pub(crate) use environments::MAX_WAIT;

/// Time allowed to open a TCP (and TLS) connection.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a whole request, body included.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response body read; a bigger one is refused, not buffered.
pub(crate) const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// The base URL of a Lapdev server: `http` or `https`, a host, no query.
/// Displayed without a trailing slash.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct ServerUrl(Url);

impl ServerUrl {
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// Whether credentials sent to this server cross the network in clear text.
    pub(crate) fn is_insecure(&self) -> bool {
        let host = self.0.host_str().unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        self.0.scheme() == "http" && !loopback
    }

    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.0.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{API_PREFIX}{path}"));
        url
    }
}

impl FromStr for ServerUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.contains("://") {
            return Err(format!(
                "{s:?} has no scheme: write http://{s} or https://{s}"
            ));
        }
        let url = Url::parse(s).map_err(|e| format!("{s:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{s:?} must start with http:// or https://"));
        }
        if url.host().is_none() {
            return Err(format!("{s:?} has no host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the server URL must not contain credentials".into());
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("{s:?} must not have a query or a fragment"));
        }
        Ok(Self(url))
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServerUrl({})", self.as_str())
    }
}

impl Serialize for ServerUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServerUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A personal API token secret. `Debug` never shows it; only
/// [`Token::expose`] does, for the `Authorization` header and the config file.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Token(String);

impl Token {
    pub(crate) fn new(secret: String) -> Self {
        Self(secret)
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Token {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err("the token is empty");
        }
        Ok(Self(s.to_owned()))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Everything that can go wrong talking to the server, worded for the user.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("cannot reach the Lapdev server at {server}: {reason} — is it running? check --server")]
    Unreachable { server: ServerUrl, reason: String },
    #[error(
        "the Lapdev server at {server} did not answer within {} s — is it overloaded? try again",
        REQUEST_TIMEOUT.as_secs()
    )]
    Timeout { server: ServerUrl },
    #[error("the request to {server} failed: {reason}")]
    Transport { server: ServerUrl, reason: String },
    #[error("your token was rejected (revoked or expired): run `lapdev login`")]
    TokenRejected,
    /// A 401 to a request without a token, e.g. a wrong password at login.
    #[error("{message}")]
    Unauthenticated { message: String },
    #[error("you need the admin role in organization {org} to do this")]
    NeedAdmin { org: OrganizationName },
    #[error("permission denied: {message}")]
    Forbidden { message: String },
    #[error("there is no organization {org} that you are a member of: see `lapdev org list`")]
    NoSuchOrg { org: OrganizationName },
    #[error("{message}{}", org.as_ref().map_or(String::new(), |o| format!(" (in organization {o})")))]
    NotFound {
        message: String,
        org: Option<OrganizationName>,
    },
    #[error("{message}")]
    Conflict { message: String },
    #[error("invalid {}: {message}", field.as_deref().map_or("request".to_owned(), |f| format!("`{f}`")))]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("rate limited: {message}{}", retry_after.map_or(String::new(), |s| format!(" (retry in {s} s)")))]
    RateLimited {
        message: String,
        retry_after: Option<u64>,
    },
    #[error("the server refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the server failed ({status}): {message}")]
    ServerFault { status: u16, message: String },
    #[error(
        "the response from {server} is larger than {} MiB; refusing to read it",
        MAX_RESPONSE_BYTES / (1024 * 1024)
    )]
    ResponseTooLarge { server: ServerUrl },
    #[error(
        "unexpected response from {server} (HTTP {status}): {detail} — is this a Lapdev server of a matching version?"
    )]
    UnexpectedResponse {
        server: ServerUrl,
        status: u16,
        detail: String,
    },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl ClientError {
    /// Whether the server could not be reached at all (as opposed to answering
    /// with an error).
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. }
                | ClientError::Timeout { .. }
                | ClientError::Transport { .. }
        )
    }

    /// Whether the fix is to sign in (again).
    pub(crate) fn is_auth(&self) -> bool {
        matches!(self, ClientError::TokenRejected)
    }
}

/// Which organization a request acts in, to word a 403.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Global,
    Org(&'a OrganizationName),
}

/// A connection to one Lapdev server, with or without a token.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    server: ServerUrl,
    token: Option<Token>,
}

impl Client {
    pub(crate) fn new(server: ServerUrl, token: Option<Token>) -> Result<Self, ClientError> {
        install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // The API never redirects; following one could carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("lapdev-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::Setup(innermost(&e)))?;
        Ok(Self {
            http,
            server,
            token,
        })
    }

    pub(crate) fn server(&self) -> &ServerUrl {
        &self.server
    }

    pub(crate) fn token(&self) -> Option<&Token> {
        self.token.as_ref()
    }

    pub(crate) fn with_token(&self, token: Token) -> Self {
        Self {
            http: self.http.clone(),
            server: self.server.clone(),
            token: Some(token),
        }
    }

    // --- auth and identity

    /// `POST /auth/login`: exchange a password for a personal API token.
    pub(crate) async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, ClientError> {
        let req = self
            .request(Method::POST, "/auth/login", None)
            .json(request);
        self.send_json(req, Scope::Global).await
    }

    /// `GET /me`.
    pub(crate) async fn me(&self) -> Result<Me, ClientError> {
        let req = self.request(Method::GET, "/me", None);
        self.send_json(req, Scope::Global).await
    }

    /// `PUT /me/password`. API tokens stay valid.
    pub(crate) async fn change_password(
        &self,
        request: &ChangePassword,
    ) -> Result<(), ClientError> {
        let req = self
            .request(Method::PUT, "/me/password", None)
            .json(request);
        self.send(req, Scope::Global).await.map(drop)
    }

    // --- organizations

    /// `GET /orgs`: the caller's organizations.
    pub(crate) async fn list_orgs(
        &self,
        page: &PageQuery,
    ) -> Result<Page<lapdev_api::OrganizationMembership>, ClientError> {
        let req = self.request(Method::GET, "/orgs", Some(page));
        self.send_json(req, Scope::Global).await
    }

    /// `POST /orgs`.
    pub(crate) async fn create_org(
        &self,
        request: &CreateOrganization,
    ) -> Result<Organization, ClientError> {
        let req = self.request(Method::POST, "/orgs", None).json(request);
        self.send_json(req, Scope::Global).await
    }

    /// `GET /orgs/{org}/members`.
    pub(crate) async fn list_members(
        &self,
        org: &OrganizationName,
        page: &PageQuery,
    ) -> Result<Page<Member>, ClientError> {
        let req = self.request(Method::GET, &format!("/orgs/{org}/members"), Some(page));
        self.send_json(req, Scope::Org(org)).await
    }

    /// `POST /orgs/{org}/members`.
    pub(crate) async fn add_member(
        &self,
        org: &OrganizationName,
        request: &AddMember,
    ) -> Result<AddedMember, ClientError> {
        let req = self
            .request(Method::POST, &format!("/orgs/{org}/members"), None)
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `PATCH /orgs/{org}/members/{user_id}`.
    pub(crate) async fn update_member(
        &self,
        org: &OrganizationName,
        user: UserId,
        request: &UpdateMember,
    ) -> Result<Member, ClientError> {
        let req = self
            .request(Method::PATCH, &format!("/orgs/{org}/members/{user}"), None)
            .json(request);
        self.send_json(req, Scope::Org(org)).await
    }

    /// `DELETE /orgs/{org}/members/{user_id}`.
    pub(crate) async fn remove_member(
        &self,
        org: &OrganizationName,
        user: UserId,
    ) -> Result<(), ClientError> {
        let req = self.request(Method::DELETE, &format!("/orgs/{org}/members/{user}"), None);
        self.send(req, Scope::Org(org)).await.map(drop)
    }

    /// `GET /orgs/{org}/audit`, newest first.
    pub(crate) async fn list_audit(
        &self,
        org: &OrganizationName,
        page: &PageQuery,
    ) -> Result<Page<AuditEvent>, ClientError> {
        let req = self.request(Method::GET, &format!("/orgs/{org}/audit"), Some(page));
        self.send_json(req, Scope::Org(org)).await
    }

    // --- personal API tokens

    /// `POST /tokens`.
    pub(crate) async fn create_token(
        &self,
        request: &CreateToken,
    ) -> Result<CreatedToken, ClientError> {
        let req = self.request(Method::POST, "/tokens", None).json(request);
        self.send_json(req, Scope::Global).await
    }

    /// `GET /tokens`: the caller's own tokens.
    pub(crate) async fn list_tokens(
        &self,
        page: &PageQuery,
    ) -> Result<Page<ApiToken>, ClientError> {
        let req = self.request(Method::GET, "/tokens", Some(page));
        self.send_json(req, Scope::Global).await
    }

    /// `DELETE /tokens/{id}`.
    pub(crate) async fn revoke_token(&self, id: ApiTokenId) -> Result<(), ClientError> {
        let req = self.request(Method::DELETE, &format!("/tokens/{id}"), None);
        self.send(req, Scope::Global).await.map(drop)
    }

    /// `DELETE /tokens/current`: revoke the token this client sends.
    pub(crate) async fn revoke_current_token(&self) -> Result<(), ClientError> {
        let req = self.request(Method::DELETE, "/tokens/current", None);
        self.send(req, Scope::Global).await.map(drop)
    }

    // --- plumbing

    fn request(&self, method: Method, path: &str, page: Option<&PageQuery>) -> RequestBuilder {
        let url = with_query(
            self.server.endpoint(path),
            page.into_iter().flat_map(page_pairs),
        );
        self.request_url(method, url)
    }

    /// A request to a full URL (built with [`ServerUrl::endpoint`], and
    /// [`with_query`] for a query).
    fn request_url(&self, method: Method, url: Url) -> RequestBuilder {
        let req = self
            .http
            .request(method, url)
            .header(header::ACCEPT, "application/json");
        match &self.token {
            Some(token) => req.bearer_auth(token.expose()),
            None => req,
        }
    }

    async fn send_json<T: DeserializeOwned>(
        &self,
        req: RequestBuilder,
        scope: Scope<'_>,
    ) -> Result<T, ClientError> {
        let (status, body) = self.send(req, scope).await?;
        serde_json::from_slice(&body).map_err(|e| ClientError::UnexpectedResponse {
            server: self.server.clone(),
            status: status.as_u16(),
            detail: format!("invalid JSON: {e}"),
        })
    }

    async fn send(
        &self,
        req: RequestBuilder,
        scope: Scope<'_>,
    ) -> Result<(StatusCode, Vec<u8>), ClientError> {
        let mut response = req.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = self.read_capped(&mut response).await?;
        if status.is_success() {
            return Ok((status, body));
        }
        Err(self.status_error(status, retry_after, &body, scope))
    }

    async fn read_capped(&self, response: &mut reqwest::Response) -> Result<Vec<u8>, ClientError> {
        let too_large = || ClientError::ResponseTooLarge {
            server: self.server.clone(),
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&e))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, err: &reqwest::Error) -> ClientError {
        let server = self.server.clone();
        if err.is_connect() {
            let reason = if err.is_timeout() {
                format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())
            } else {
                connect_reason(err)
            };
            ClientError::Unreachable { server, reason }
        } else if err.is_timeout() {
            ClientError::Timeout { server }
        } else {
            ClientError::Transport {
                server,
                reason: innermost(err),
            }
        }
    }

    fn status_error(
        &self,
        status: StatusCode,
        retry_after: Option<u64>,
        body: &[u8],
        scope: Scope<'_>,
    ) -> ClientError {
        let Ok(error) = serde_json::from_slice::<ErrorBody>(body) else {
            return ClientError::UnexpectedResponse {
                server: self.server.clone(),
                status: status.as_u16(),
                detail: "the error body is not a Lapdev error".into(),
            };
        };
        let message = error.message;
        match error.code {
            ErrorCode::Unauthenticated if self.token.is_some() => ClientError::TokenRejected,
            ErrorCode::Unauthenticated => ClientError::Unauthenticated { message },
            ErrorCode::Forbidden => match scope {
                Scope::Org(org) => ClientError::NeedAdmin { org: org.clone() },
                Scope::Global => ClientError::Forbidden { message },
            },
            ErrorCode::NotFound => match scope {
                // The server hides organizations the caller is not in behind a
                // 404, and marks it with `field: "org"`.
                Scope::Org(org) if error.field.as_deref() == Some("org") => {
                    ClientError::NoSuchOrg { org: org.clone() }
                }
                Scope::Org(org) => ClientError::NotFound {
                    message,
                    org: Some(org.clone()),
                },
                Scope::Global => ClientError::NotFound { message, org: None },
            },
            ErrorCode::Conflict => ClientError::Conflict { message },
            ErrorCode::Invalid => ClientError::Invalid {
                field: error.field,
                message,
            },
            ErrorCode::RateLimited => ClientError::RateLimited {
                message,
                retry_after,
            },
            ErrorCode::BadRequest
            | ErrorCode::PayloadTooLarge
            | ErrorCode::UnsupportedMediaType => ClientError::Rejected {
                status: status.as_u16(),
                message,
            },
            ErrorCode::Internal | ErrorCode::Unavailable => ClientError::ServerFault {
                status: status.as_u16(),
                message,
            },
        }
    }
}

/// `url` with the query pairs whose value is given, in order; no `?` when
/// none is.
fn with_query(
    mut url: Url,
    pairs: impl IntoIterator<Item = (&'static str, Option<String>)>,
) -> Url {
    let mut given = pairs
        .into_iter()
        .filter_map(|(key, value)| Some((key, value?)))
        .peekable();
    if given.peek().is_some() {
        url.query_pairs_mut().extend_pairs(given);
    }
    url
}

/// The `limit` and `cursor` query pairs of a list request.
fn page_pairs(page: &PageQuery) -> [(&'static str, Option<String>); 2] {
    [
        ("limit", page.limit.map(|limit| limit.to_string())),
        ("cursor", page.cursor.clone()),
    ]
}

/// reqwest is built without a default TLS provider: this binary uses ring.
/// Idempotent; `main` calls it first thing.
pub(crate) fn install_crypto_provider() {
    // Err means a provider is installed already, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Why a connection failed, in a few words: "connection refused", or the
/// innermost cause (DNS, TLS) otherwise.
fn connect_reason(err: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::TimedOut => return "connection timed out".into(),
                _ => {}
            }
        }
        source = e.source();
    }
    innermost(err)
}

/// The message of the deepest cause, which for reqwest is the useful one
/// (the outer ones repeat the URL).
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_url(input: &str, expect: expect_test::Expect) {
        let got = match input.parse::<ServerUrl>() {
            Ok(url) => format!(
                "ok {url} -> {} (insecure: {})",
                url.endpoint("/me"),
                url.is_insecure()
            ),
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&got);
    }

    #[test]
    fn server_urls() {
        use expect_test::expect;
        check_url(
            "http://127.0.0.1:8080",
            expect![
                "ok http://127.0.0.1:8080 -> http://127.0.0.1:8080/api/v1/me (insecure: false)"
            ],
        );
        check_url(
            "https://lapdev.example.com/",
            expect![
                "ok https://lapdev.example.com -> https://lapdev.example.com/api/v1/me (insecure: false)"
            ],
        );
        check_url(
            "https://example.com/lapdev/",
            expect![
                "ok https://example.com/lapdev -> https://example.com/lapdev/api/v1/me (insecure: false)"
            ],
        );
        check_url(
            "http://lapdev.internal:8080",
            expect![
                "ok http://lapdev.internal:8080 -> http://lapdev.internal:8080/api/v1/me (insecure: true)"
            ],
        );
        check_url(
            "localhost:8080",
            expect![[
                r#"error: "localhost:8080" has no scheme: write http://localhost:8080 or https://localhost:8080"#
            ]],
        );
        check_url(
            "ftp://x",
            expect![[r#"error: "ftp://x" must start with http:// or https://"#]],
        );
        check_url(
            "https://u:p@x",
            expect!["error: the server URL must not contain credentials"],
        );
    }

    #[test]
    fn tokens_never_show_in_debug() {
        let token: Token = "lpd_secret".parse().unwrap();
        assert_eq!(format!("{token:?}"), "Token(<redacted>)");
    }
}
