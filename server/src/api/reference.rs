//! The OpenAPI document (`/api/v1/openapi.json`) and its reference page (`/api/v1/docs`),
//! Swagger UI served from this binary (`server/assets/swagger-ui/`, from npm): no CDN.

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

const BUNDLE: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

/// Starts Swagger UI on the document; a file of its own, so the page needs no inline script.
const INIT: &str = r##"window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    validatorUrl: null,
    persistAuthorization: false,
  });
};
"##;

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Data Streaming API</title>
  <link rel="stylesheet" href="/api/v1/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/v1/docs/swagger-ui-bundle.js"></script>
  <script src="/api/v1/docs/init.js"></script>
</body>
</html>
"#;

/// Only this server's scripts; Swagger UI sets inline styles.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The document (as JSON) and the reference page's routes.
pub fn router<S: Clone + Send + Sync + 'static>(document: &serde_json::Value) -> Router<S> {
    let json = document.to_string();
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], json) }),
        )
        .route(
            "/api/v1/docs",
            get(|| async { ([(header::CONTENT_SECURITY_POLICY, POLICY)], Html(PAGE)) }),
        )
        .route(
            "/api/v1/docs/init.js",
            get(|| async { script(INIT.as_bytes()) }),
        )
        .route(
            "/api/v1/docs/swagger-ui-bundle.js",
            get(|| async { script(BUNDLE) }),
        )
        .route(
            "/api/v1/docs/swagger-ui.css",
            get(|| async { ([(header::CONTENT_TYPE, "text/css")], CSS) }),
        )
}

fn script(body: &'static [u8]) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        body,
    )
}
