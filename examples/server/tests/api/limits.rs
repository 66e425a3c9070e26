//! Per-IP limits: cached answers do not count; forwarded addresses need a trusted proxy.

use super::*;

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
