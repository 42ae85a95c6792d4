//! The dashboard's static files, embedded in the binary and served under
//! `/assets/<name>.<content hash>.<ext>` with a year-long immutable cache:
//! a changed file gets a new URL, so browsers never see a stale one.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    stem: &'static str,
    ext: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const FILES: [Asset; 3] = [
    Asset {
        stem: "app",
        ext: "css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/app.css"),
    },
    Asset {
        stem: "app",
        ext: "js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/app.js"),
    },
    Asset {
        stem: "logo",
        ext: "svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../../assets/logo.svg"),
    },
];

/// `file name → index into FILES`, names carrying the first 12 hex digits
/// of the SHA-256 of the content.
static NAMES: LazyLock<[String; 3]> = LazyLock::new(|| {
    FILES.each_ref().map(|a| {
        use sha2::Digest;
        let hash = hex::encode(sha2::Sha256::digest(a.body));
        format!("{}.{}.{}", a.stem, &hash[..12], a.ext)
    })
});

/// URLs of the assets, for the templates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AssetUrls {
    pub(crate) css: &'static str,
    pub(crate) js: &'static str,
    pub(crate) logo: &'static str,
}

static URLS: LazyLock<[String; 3]> =
    LazyLock::new(|| NAMES.each_ref().map(|n| format!("/assets/{n}")));

pub(crate) fn urls() -> AssetUrls {
    AssetUrls {
        css: &URLS[0],
        js: &URLS[1],
        logo: &URLS[2],
    }
}

pub(crate) async fn serve(Path(file): Path<String>) -> Response {
    let Some(i) = NAMES.iter().position(|n| *n == file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let asset = &FILES[i];
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_carry_a_content_hash() {
        let u = urls();
        assert!(u.css.starts_with("/assets/app.") && u.css.ends_with(".css"));
        assert_eq!(u.css.len(), "/assets/app.".len() + 12 + ".css".len());
        assert!(u.logo.ends_with(".svg"));
    }
}
