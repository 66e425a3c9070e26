//! CORS, ETags and 304s, and QR codes that decode and are cached.

use super::*;

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

#[tokio::test]
async fn a_value_holding_another_parameter_is_not_that_parameters_cache_entry() {
    // `data=hello%26format%3Dsvg` is a PNG of the text "hello&format=svg"; once cached it
    // must not answer `data=hello&format=svg`, an SVG of "hello".
    let r = router(state(config(&["--rate-limit-qr", "100000"])).await);
    let png = get(&r, "/api/v1/qr?data=hello%26format%3Dsvg").await;
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(png.headers()[header::CONTENT_TYPE], "image/png");
    let svg = get(&r, "/api/v1/qr?data=hello&format=svg").await;
    assert_eq!(svg.headers()["x-cache"], "miss");
    assert_eq!(svg.headers()[header::CONTENT_TYPE], "image/svg+xml");
    let again = get(&r, "/api/v1/qr?data=hello%26format%3Dsvg").await;
    assert_eq!(again.headers()["x-cache"], "hit");
    assert_eq!(again.headers()[header::CONTENT_TYPE], "image/png");
}
