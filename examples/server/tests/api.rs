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

/// Identical requests within the answer's max-age, and `304`s, are served without using
/// the per-IP allowance (the reference's "served from the CDN cache and don't count").
#[tokio::test]
async fn cached_answers_do_not_count() {
    let state = state(config(&["--rate-limit-json", "2", "--rate-limit-qr", "1"])).await;
    let r = router(state.clone());
    let first = get(&r, "/api/v1/username-link?username=joao.silva").await;
    assert_eq!(first.headers()["x-ratelimit-remaining"], "1");
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    for _ in 0..10 {
        // The same query, written differently, is the same answer.
        let again = get(&r, "/api/v1/username-link?username=joao%2Esilva").await;
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(again.headers()["x-cache"], "hit");
        assert_eq!(again.headers()["x-ratelimit-remaining"], "1", "not counted");
        assert_eq!(again.headers()[header::ETAG].to_str().unwrap(), etag);
    }
    // A 304 is free too, even for an answer the cache does not hold.
    let other = get(&r, "/api/v1/validate/username?username=maria").await;
    assert_eq!(other.headers()["x-ratelimit-remaining"], "0");
    let tag = other.headers()[header::ETAG].to_str().unwrap().to_owned();
    let not_modified = get_with(
        &r,
        "/api/v1/validate/username?username=maria",
        &[("if-none-match", &tag)],
    )
    .await;
    assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
    // The allowance is spent: a new request is refused, a cached one still answered.
    assert_eq!(
        get(&r, "/api/v1/validate/username?username=ana.paula")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        get(&r, "/api/v1/username-link?username=joao.silva")
            .await
            .status(),
        StatusCode::OK
    );
    // QR images: rendered once, then served from the cache however often asked.
    let uri = "/api/v1/qr?username=joao.silva&format=svg&color=25d366";
    for _ in 0..5 {
        assert_eq!(get(&r, uri).await.status(), StatusCode::OK);
    }
    assert_eq!(state.qr_render_count(), 1);
}

#[tokio::test]
async fn forwarded_for_needs_a_trusted_proxy() {
    let untrusted = router(state(config(&["--rate-limit-json", "1"])).await);
    assert_eq!(
        get_with(
            &untrusted,
            "/api/v1/validate/key?key=1234",
            &[("x-forwarded-for", "203.0.113.1")]
        )
        .await
        .status(),
        StatusCode::OK
    );
    // A new X-Forwarded-For does not buy a new allowance: the socket address counts.
    assert_eq!(
        get_with(
            &untrusted,
            "/api/v1/validate/key?key=1235",
            &[("x-forwarded-for", "203.0.113.2")]
        )
        .await
        .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let trusted = router(
        state(config(&[
            "--rate-limit-json",
            "1",
            "--trusted-proxies",
            "1",
        ]))
        .await,
    );
    for ip in ["203.0.113.1", "203.0.113.2"] {
        assert_eq!(
            get_with(
                &trusted,
                &format!("/api/v1/validate/key?key=100{}", &ip[10..]),
                &[("x-forwarded-for", ip)]
            )
            .await
            .status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        get_with(
            &trusted,
            "/api/v1/validate/key?key=9999",
            &[("x-forwarded-for", "203.0.113.1")]
        )
        .await
        .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn cors_everywhere() {
    let r = default_router().await;
    for uri in [
        "/api/v1/phone-link?phone=%2B14155552671",
        "/api/v1/qr?data=x",
        "/api/v1/phone-link?bad=1",
        "/api/v1/openapi.json",
    ] {
        let resp = get_with(&r, uri, &[("origin", "https://site.example")]).await;
        assert_eq!(
            resp.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "*",
            "{uri}"
        );
        let exposed = resp.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            exposed.contains("x-ratelimit-remaining") && exposed.contains("retry-after"),
            "{exposed}"
        );
        assert!(resp.headers().contains_key("x-request-id"));
        assert!(resp.headers().contains_key("x-ratelimit-limit"), "{uri}");
    }
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/api/v1/qr")
        .header("origin", "https://site.example")
        .header("access-control-request-method", "GET")
        .body(Body::empty())
        .unwrap();
    let resp = r.clone().oneshot(preflight).await.unwrap();
    assert!(resp.status().is_success());
    assert_eq!(resp.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

#[tokio::test]
async fn etag_and_304() {
    let r = default_router().await;
    for uri in [
        "/api/v1/phone-link?phone=%2B14155552671",
        "/api/v1/qr?data=hello",
        "/api/v1/openapi.json",
    ] {
        let first = get(&r, uri).await;
        assert_eq!(first.status(), StatusCode::OK);
        let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(
            first.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .starts_with("public, max-age=")
        );
        let again = get_with(&r, uri, &[("if-none-match", &etag)]).await;
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{uri}");
        assert_eq!(again.headers()[header::ETAG].to_str().unwrap(), etag);
        assert!(body(again).await.is_empty());
        let other = get_with(&r, uri, &[("if-none-match", "\"something-else\"")]).await;
        assert_eq!(other.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn qr_renders_decode_and_are_cached() {
    let state = state(config(&["--rate-limit-qr", "100000"])).await;
    let r = router(state.clone());
    let uri = "/api/v1/qr?username=joao.silva&text=Ol%C3%A1%20%F0%9F%98%80&size=300&color=%23075E54&style=rounded";
    let first = get(&r, uri).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(first.headers()["x-cache"], "miss");
    let png = body(first).await;
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    assert_eq!(img.dimensions(), (300, 300));
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(
        content,
        "https://wa.me/joao.silva?text=Ol%C3%A1%20%F0%9F%98%80"
    );

    let second = get(&r, uri).await;
    assert_eq!(second.headers()["x-cache"], "hit");
    assert_eq!(body(second).await, png);
    assert_eq!(
        state.qr_render_count(),
        1,
        "identical requests are not re-rendered"
    );

    // The reference's "WhatsApp-green QR code as SVG" example renders, and decodes (the
    // PNG of the same request is decoded here; wa-qr's tests decode the SVG itself).
    let green = get(&r, "/api/v1/qr?username=joao.silva&format=svg&color=25d366").await;
    assert_eq!(green.status(), StatusCode::OK);
    assert_eq!(green.headers()[header::CONTENT_TYPE], "image/svg+xml");
    assert!(
        String::from_utf8(body(green).await)
            .unwrap()
            .contains("#25d366")
    );
    let png = body(get(&r, "/api/v1/qr?username=joao.silva&color=25d366").await).await;
    let mut prepared =
        rqrr::PreparedImage::prepare(image::load_from_memory(&png).unwrap().to_luma8());
    assert_eq!(
        prepared.detect_grids()[0].decode().unwrap().1,
        "https://wa.me/joao.silva"
    );
    let svg = get(&r, "/api/v1/qr?phone=%2B14155552671&format=svg").await;
    assert_eq!(svg.headers()[header::CONTENT_TYPE], "image/svg+xml");
    assert!(
        String::from_utf8(body(svg).await)
            .unwrap()
            .starts_with("<svg")
    );
    assert_eq!(state.qr_render_count(), 4);
}

fn find_bare_objects(node: &Value, path: String, out: &mut Vec<String>) {
    match node {
        Value::Object(m) => {
            let shaped = [
                "properties",
                "additionalProperties",
                "oneOf",
                "anyOf",
                "allOf",
                "$ref",
            ];
            if m.get("type") == Some(&Value::from("object"))
                && !shaped.iter().any(|k| m.contains_key(*k))
            {
                out.push(path.clone());
            }
            for (k, v) in m {
                find_bare_objects(v, format!("{path}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find_bare_objects(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn openapi_documents_every_route_and_code() {
    let r = default_router().await;
    let doc = json(get(&r, "/api/v1/openapi.json").await).await;
    assert_eq!(doc["openapi"], "3.1.0");
    // Every body has a real schema: no object without properties, items or a map type.
    let mut bare = Vec::new();
    find_bare_objects(&doc, String::new(), &mut bare);
    assert!(bare.is_empty(), "bare objects: {bare:#?}");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/username-link",
        "/api/v1/phone-link",
        "/api/v1/validate/username",
        "/api/v1/validate/key",
        "/api/v1/validate/phone",
        "/api/v1/qr",
        "/api/v1/openapi.json",
        "/healthz",
        "/readyz",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    for p in [
        "/auth/register",
        "/auth/me",
        "/auth/me/rotate-key",
        "/auth/me/credentials",
        "/auth/me/credentials/verify",
        "/auth/me/webhook",
        "/send-message",
        "/messages/bulk",
        "/messages",
        "/messages/{id}",
        "/messages/{id}/cancel",
        "/webhooks/whatsapp",
        "/api/v1/verification_code",
        "/api/v1/verification_code/{id}",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    // Every operation documents its errors; rate-limited ones their 429.
    for (p, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            if p.starts_with("/api/")
                || p.starts_with("/auth/")
                || p.starts_with("/messages")
                || p == "/send-message"
            {
                assert!(responses.contains_key("429"), "{method} {p} lacks 429");
            }
            if !matches!(p.as_str(), "/healthz" | "/readyz" | "/metrics") {
                assert!(
                    responses.keys().any(|k| k.starts_with('4')),
                    "{method} {p} documents no 4xx"
                );
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    let qr_params: Vec<&str> = paths["/api/v1/qr"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        qr_params,
        [
            "username", "phone", "data", "text", "region", "format", "size", "color", "bg",
            "margin", "ecl", "style"
        ]
    );
    let description = doc["info"]["description"].as_str().unwrap();
    let codes = wa_server_example::error::SERVER_CODES
        .iter()
        .map(|(c, _)| *c)
        .chain(wa_validate::Error::ALL_CODES.iter().map(|(c, _)| *c))
        .chain(wa_links::Error::ALL_CODES.iter().map(|(c, _)| *c))
        .chain(wa_qr::Error::ALL_CODES.iter().map(|(c, _)| *c))
        .chain(wa_send::SendError::ALL_CODES.iter().map(|(c, _)| *c))
        .chain(wa_send::DeliveryError::ALL_CODES.iter().map(|(c, _)| *c))
        .chain(wa_verify::Error::ALL_CODES.iter().map(|(c, _)| *c));
    for code in codes {
        assert!(
            description.contains(&format!("`{code}`")),
            "{code} not documented"
        );
    }
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
