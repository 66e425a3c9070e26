//! The pages embedded in the binary: the link generator at `/`, the API docs at `/docs`
//! (Redoc, vendored from the npm registry, served from this server), and `/llms.txt`.
//! Nothing is fetched from another host at run time.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

const INDEX: &str = include_str!("../../assets/index.html");
const LLMS: &str = include_str!("../../assets/llms.txt");
const REDOC: &str = include_str!("../../assets/redoc.standalone.js");
/// The one external URL in the Redoc bundle (the "API docs by Redocly" logo), replaced by
/// an empty inline image so the docs page loads nothing from another host.
const REDOC_LOGO: &str = "https://cdn.redoc.ly/redoc/logo-mini.svg";
const EMPTY_SVG: &str =
    "data:image/svg+xml,%3Csvg%20xmlns%3D%27http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%27%2F%3E";
static REDOC_LOCAL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| REDOC.replace(REDOC_LOGO, EMPTY_SVG));
const DOCS: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wa-kit API</title>
<style>body { margin: 0; }</style>
</head>
<body>
<div id="redoc"></div>
<script src="/docs/redoc.standalone.js"></script>
<script>
Redoc.init("/api/v1/openapi.json", { hideHostname: false, expandResponses: "200,202" }, document.getElementById("redoc"));
</script>
</body>
</html>
"#;

/// Pages may only load scripts, styles and images from this server.
const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; worker-src 'self' blob:; font-src 'self' data:";

fn page(body: &'static [u8], content_type: &'static str, cache: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// `GET /`: the link and QR generator.
pub async fn index() -> Response {
    page(
        INDEX.as_bytes(),
        "text/html; charset=utf-8",
        "public, max-age=300",
    )
}

/// `GET /docs`: the OpenAPI document rendered by Redoc.
pub async fn docs() -> Response {
    page(
        DOCS.as_bytes(),
        "text/html; charset=utf-8",
        "public, max-age=300",
    )
}

/// `GET /docs/redoc.standalone.js`: Redoc 2.5.1 (MIT), as published on npm.
pub async fn redoc() -> Response {
    page(
        REDOC_LOCAL.as_bytes(),
        "text/javascript; charset=utf-8",
        "public, max-age=86400",
    )
}

/// `GET /llms.txt`: the three APIs described for language models.
pub async fn llms() -> Response {
    page(
        LLMS.as_bytes(),
        "text/plain; charset=utf-8",
        "public, max-age=300",
    )
}
