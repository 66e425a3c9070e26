//! Every endpoint and every error code, through `oneshot` on the real router.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use clap::Parser;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wa_server_example::{AppState, Config, app};

mod limits;
mod openapi;
mod responses;

fn config(extra: &[&str]) -> Config {
    let db = wa_send::queue::testing::temp_sqlite_url();
    let mut args = vec![
        "wa-server-example",
        "--public-base-url",
        "https://wa.example",
        "--database",
        &db,
    ];
    args.extend_from_slice(extra);
    Config::parse_from(args)
}

/// The state of a built server whose background work (the dispatcher) runs, so `/readyz`
/// is ready.
async fn state(config: Config) -> AppState {
    let mut server = wa_server_example::build(config).await.unwrap();
    let state = server.state.clone();
    tokio::spawn(async move { server.run_background(std::future::pending()).await });
    while wa_server_example::metrics::not_ready(&state)
        .await
        .is_some()
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    state
}

fn router(state: AppState) -> Router {
    app(state).layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 1], 5555))))
}

async fn get_with(router: &Router, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn get(router: &Router, uri: &str) -> Response {
    get_with(router, uri, &[]).await
}

async fn body(resp: Response) -> Vec<u8> {
    resp.into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

async fn json(resp: Response) -> Value {
    serde_json::from_slice(&body(resp).await).unwrap()
}

async fn default_router() -> Router {
    router(
        state(config(&[
            "--rate-limit-json",
            "100000",
            "--rate-limit-qr",
            "100000",
        ]))
        .await,
    )
}

#[tokio::test]
async fn success_bodies() {
    let r = default_router().await;
    let cases = [
        (
            "phone_link",
            "/api/v1/phone-link?phone=%2B1%20(415)%20555-2671&text=Hi%20%26%20bye%3F",
        ),
        (
            "phone_link_region",
            "/api/v1/phone-link?phone=07400%20123456&region=GB",
        ),
        (
            "username_link",
            "/api/v1/username-link?username=%40Joao.Silva&text=ol%C3%A1",
        ),
        (
            "username_link_key",
            "/api/v1/username-link?username=joao.silva&key=1234",
        ),
        (
            "username_link_long_key",
            "/api/v1/username-link?username=joao.silva&key=ab12cd",
        ),
        (
            "validate_username_ok",
            "/api/v1/validate/username?username=%40Maria_123",
        ),
        (
            "validate_username_bad",
            "/api/v1/validate/username?username=ab",
        ),
        ("validate_key_ok", "/api/v1/validate/key?key=0042"),
        ("validate_key_bad", "/api/v1/validate/key?key=12"),
        (
            "validate_phone_ok",
            "/api/v1/validate/phone?phone=%2B351%20912%20345%20678",
        ),
        ("validate_phone_bad", "/api/v1/validate/phone?phone=12ab"),
    ];
    for (name, uri) in cases {
        let resp = get(&r, uri).await;
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
        insta::assert_json_snapshot!(name, json(resp).await);
    }
    for (path, text) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let resp = get(&r, path).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(body(resp).await, text.as_bytes());
    }
}

#[tokio::test]
async fn every_error_code() {
    let r = default_router().await;
    let long = format!("/api/v1/phone-link?phone=1&text={}", "a".repeat(5000));
    let too_big = format!("/api/v1/qr?data={}&ecl=H", "x".repeat(1300));
    let cases: Vec<(&str, &str, &str, u16)> = vec![
        (
            "query_unknown_parameter",
            "query_unknown_parameter",
            "/api/v1/phone-link?phone=1&foo=bar",
            400,
        ),
        (
            "query_repeated_parameter",
            "query_repeated_parameter",
            "/api/v1/phone-link?phone=1&phone=2",
            400,
        ),
        (
            "query_invalid_encoding",
            "query_invalid_encoding",
            "/api/v1/phone-link?phone=%FF",
            400,
        ),
        ("query_too_long", "query_too_long", &long, 414),
        (
            "query_missing_parameter",
            "query_missing_parameter",
            "/api/v1/phone-link",
            400,
        ),
        (
            "query_missing_parameter_empty",
            "query_missing_parameter",
            "/api/v1/validate/username?username=",
            400,
        ),
        (
            "query_invalid_parameter",
            "query_invalid_parameter",
            "/api/v1/qr?data=x&format=gif",
            400,
        ),
        (
            "query_invalid_parameter_size",
            "query_invalid_parameter",
            "/api/v1/qr?data=x&size=big",
            400,
        ),
        (
            "query_conflicting_parameters",
            "query_conflicting_parameters",
            "/api/v1/qr?username=joao&phone=14155552671",
            400,
        ),
        (
            "query_conflicting_data_text",
            "query_conflicting_parameters",
            "/api/v1/qr?data=x&text=y",
            400,
        ),
        ("not_found", "not_found", "/api/v2/nothing", 404),
        (
            "phone_too_short",
            "phone_too_short",
            "/api/v1/phone-link?phone=%2B1%20415",
            400,
        ),
        (
            "phone_region",
            "phone_unknown_region",
            "/api/v1/phone-link?phone=0740&region=XX",
            400,
        ),
        (
            "username_length",
            "username_length",
            "/api/v1/username-link?username=ab",
            400,
        ),
        (
            "username_key_length",
            "username_key_length",
            "/api/v1/username-link?username=joao.silva&key=12",
            400,
        ),
        (
            "qr_size_out_of_range",
            "qr_size_out_of_range",
            "/api/v1/qr?data=x&size=10",
            400,
        ),
        (
            "qr_margin_out_of_range",
            "qr_margin_out_of_range",
            "/api/v1/qr?data=x&margin=99",
            400,
        ),
        (
            "qr_invalid_color",
            "qr_invalid_color",
            "/api/v1/qr?data=x&color=notacolor",
            400,
        ),
        (
            "qr_low_contrast",
            "qr_low_contrast",
            "/api/v1/qr?data=x&color=%23777777&bg=%23888888",
            400,
        ),
        (
            "qr_invalid_ecl",
            "qr_invalid_ecl",
            "/api/v1/qr?data=x&ecl=Z",
            400,
        ),
        ("qr_payload_too_long", "qr_payload_too_long", &too_big, 400),
    ];
    for (name, code, uri, status) in cases {
        let resp = get(&r, uri).await;
        assert_eq!(resp.status().as_u16(), status, "{name}: {uri}");
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store", "{name}");
        let v = json(resp).await;
        assert_eq!(v["error"]["code"], code, "{name}: {v}");
        insta::assert_json_snapshot!(format!("error_{name}"), v);
    }
    let resp = r
        .clone()
        .oneshot(Request::post("/api/v1/qr").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json(resp).await["error"]["code"], "method_not_allowed");
}

#[tokio::test]
async fn rate_limits_per_ip_with_headers() {
    let r = router(state(config(&["--rate-limit-json", "3", "--rate-limit-qr", "2"])).await);
    // Distinct requests: identical ones are answered from the cache, for free.
    for i in 0..3u32 {
        let resp = get(&r, &format!("/api/v1/validate/key?key=123{i}")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["x-ratelimit-limit"], "3");
        assert_eq!(
            resp.headers()["x-ratelimit-remaining"],
            (2 - i).to_string().as_str()
        );
        assert!(resp.headers().contains_key("x-ratelimit-reset"));
    }
    let resp = get(&r, "/api/v1/validate/key?key=1239").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry), "one request every 20 s: {retry}");
    assert_eq!(resp.headers()["x-ratelimit-remaining"], "0");
    let mut v = json(resp).await;
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 requests per minute")
    );
    v["error"]["message"] = "[message]".into();
    insta::assert_json_snapshot!("error_rate_limited", v);
    // The QR class has its own allowance.
    for data in ["a", "b"] {
        let uri = format!("/api/v1/qr?data={data}");
        assert_eq!(get(&r, &uri).await.status(), StatusCode::OK);
    }
    let resp = get(&r, "/api/v1/qr?data=c").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["x-ratelimit-limit"], "2");
    // Probes are never limited.
    assert_eq!(get(&r, "/healthz").await.status(), StatusCode::OK);
}

/// One table for the whole workspace: every crate's codes and the server's, each with the
/// HTTP status the server answers it with. Codes are never renamed, so this snapshot only
/// ever grows; a code in two tables is a bug.
#[test]
fn every_code_of_the_workspace_with_its_status() {
    let all = wa_server_example::error::all_codes();
    let mut seen = std::collections::HashSet::new();
    for (code, _, _) in &all {
        assert!(seen.insert(*code), "{code} is declared twice");
    }
    let mut rows: Vec<String> = all
        .iter()
        .map(|(code, status, meaning)| format!("{code} {} {meaning}", status.as_u16()))
        .collect();
    rows.sort();
    insta::assert_snapshot!("workspace_error_codes", rows.join("\n"));
}
