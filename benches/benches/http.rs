//! The link API's hot path through the real router (`tower::ServiceExt::oneshot`, every
//! middleware layer included), in the same run against two baselines: a trivial handler
//! behind exactly the link routes' stack (the shared layers and the JSON routes' per-IP
//! limit, `trivial_same_stack`), and the server's own `/healthz`, which skips the per-IP
//! limit (`trivial_healthz`). `GET /api/v1/phone-link` is measured with the response
//! cache off (every request parsed, validated, built and serialised) and on (a repeat
//! served from the cache).

use std::hint::black_box;
use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::Request;
use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;

/// The server's router and a trivial handler behind the same layers as its JSON routes.
fn router(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    cache_bytes: &str,
) -> (Router, Router) {
    let db = format!(
        "sqlite://{}",
        dir.join(format!("h{cache_bytes}.db")).display()
    );
    let config = wa_server_example::Config::parse_from([
        "wa-server-example",
        "--database",
        &db,
        "--rate-limit-json",
        "1000000000",
        "--cache-bytes",
        cache_bytes,
    ]);
    let server = rt.block_on(wa_server_example::build(config)).unwrap();
    let peer = MockConnectInfo(SocketAddr::from(([192, 0, 2, 9], 1)));
    let state = server.state.clone();
    let trivial = wa_server_example::json_limited(
        Router::new().route("/trivial", axum::routing::get(|| async { "ok" })),
        &state,
    )
    .with_state(state.clone());
    let trivial = wa_server_example::with_shared_layers(trivial, &state).layer(peer);
    (server.router().layer(peer), trivial)
}

fn call(rt: &tokio::runtime::Runtime, router: &Router, uri: &str) -> u16 {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let resp = rt.block_on(router.clone().oneshot(req)).unwrap();
    let status = resp.status().as_u16();
    let body = rt.block_on(axum::body::to_bytes(resp.into_body(), usize::MAX));
    black_box(body.unwrap());
    status
}

fn bench_link_api(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (uncached, trivial) = router(&rt, dir.path(), "0");
    let (cached, _) = router(&rt, dir.path(), "67108864");
    const LINK: &str =
        "/api/v1/phone-link?phone=%2B1%20(415)%20555-2671&text=Hello%20%26%20welcome%21";
    assert_eq!(call(&rt, &uncached, LINK), 200);
    assert_eq!(call(&rt, &uncached, "/healthz"), 200);
    assert_eq!(call(&rt, &trivial, "/trivial"), 200);
    let mut g = c.benchmark_group("link_api");
    g.bench_function("trivial_same_stack", |b| {
        b.iter(|| call(&rt, &trivial, "/trivial"))
    });
    g.bench_function("trivial_healthz", |b| {
        b.iter(|| call(&rt, &uncached, "/healthz"))
    });
    g.bench_function("phone_link_uncached", |b| {
        b.iter(|| call(&rt, &uncached, LINK))
    });
    g.bench_function("phone_link_cached", |b| b.iter(|| call(&rt, &cached, LINK)));
    g.bench_function("username_link_uncached", |b| {
        b.iter(|| {
            call(
                &rt,
                &uncached,
                "/api/v1/username-link?username=joao.silva&text=Ol%C3%A1",
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_link_api);
criterion_main!(benches);
