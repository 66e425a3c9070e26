//! The placeholder server answers its health checks.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[tokio::test]
async fn healthz_and_readyz_answer() {
    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let res = wa_server_example::app()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(&bytes[..], body.as_bytes());
    }
}

#[tokio::test]
async fn unknown_path_is_404() {
    let res = wa_server_example::app()
        .oneshot(Request::get("/nope").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
