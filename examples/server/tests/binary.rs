//! Starts the real binary on a free loopback port and talks to it with a real HTTP client.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;
use common::free_port;

struct Server {
    child: Child,
    base: String,
    // Each server gets its own database: servers started in parallel never share a file.
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(extra: &[&str]) -> Server {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_wa-server-example"))
        .args(["--bind", &bind])
        .arg("--database")
        .arg(dir.path().join("server.db"))
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let server = Server {
        child,
        base: format!("http://{bind}"),
        _dir: dir,
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
            && r.status().is_success()
        {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

#[tokio::test]
async fn real_binary_serves_the_link_api() {
    let server = start(&[
        "--rate-limit-json",
        "5",
        "--public-base-url",
        "https://wa.example",
    ])
    .await;
    let client = reqwest::Client::new();

    let r = client
        .get(format!(
            "{}/api/v1/phone-link?phone=%2B1%20415%20555%202671&text=hello%20world",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-ratelimit-limit"], "5");
    assert_eq!(r.headers()["x-ratelimit-remaining"], "4");
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["link"], "https://wa.me/14155552671?text=hello%20world");
    assert_eq!(v["shortLink"], "https://wa.example/14155552671");

    let r = client
        .get(format!(
            "{}/api/v1/phone-link?phone=%2B1%20415%20555%202671&text=hello%20world",
            server.base
        ))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);

    let r = client
        .get(format!(
            "{}/api/v1/qr?phone=%2B14155552671&format=svg",
            server.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");

    let r = client
        .get(format!("{}/api/v1/openapi.json", server.base))
        .send()
        .await
        .unwrap();
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    // Three more distinct JSON requests use up the allowance of 5 (the 304 above was
    // free).
    for i in 0..3 {
        assert_eq!(
            client
                .get(format!("{}/api/v1/validate/key?key=200{i}", server.base))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let r = client
        .get(format!("{}/api/v1/validate/key?key=2009", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limited");
}

/// On its defaults the public base is the bound address, and the short links the link API
/// hands out redirect to wa.me; reserved and invalid paths stay 404s.
#[tokio::test]
async fn short_links_redirect_on_the_default_public_base() {
    let server = start(&[]).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: String| client.get(format!("{}{path}", server.base)).send();
    let v: serde_json::Value = get("/api/v1/username-link?username=joao.silva".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let short = v["shortLink"].as_str().unwrap().to_owned();
    assert_eq!(short, format!("{}/joao.silva", server.base));
    let r = client.get(&short).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "https://wa.me/joao.silva");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let v: serde_json::Value = get("/api/v1/phone-link?phone=%2B14155552671".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["shortLink"], format!("{}/14155552671", server.base));
    let r = get("/14155552671?text=Ol%C3%A1".into()).await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(
        r.headers()["location"],
        "https://wa.me/14155552671?text=Ol%C3%A1"
    );
    for path in [
        "/api",
        "/auth",
        "/docs/x",
        "/webhooks",
        "/admin",
        "/favicon.ico",
        "/1234",
        "/whatsapp.team",
        "/a/b",
    ] {
        let r = get(path.into()).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "not_found", "{path}");
    }
    assert_eq!(get("/healthz".into()).await.unwrap().status(), 200);
    assert_eq!(get("/readyz".into()).await.unwrap().status(), 200);
    // The embedded pages: the generator, the docs UI with its own script, llms.txt.
    for (path, ty, needle) in [
        ("/", "text/html", "wa-kit link &amp; QR generator"),
        ("/docs", "text/html", "/docs/redoc.standalone.js"),
        ("/docs/redoc.standalone.js", "text/javascript", "Redoc"),
        ("/llms.txt", "text/plain", "## Send API"),
    ] {
        let r = get(path.into()).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ty)
        );
        assert!(r.headers().contains_key("content-security-policy"));
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
}

#[tokio::test]
async fn defaults_and_config_errors() {
    // Bad flags are refused before anything listens.
    let out = Command::new(env!("CARGO_BIN_EXE_wa-server-example"))
        .args(["--rate-limit-json", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = Command::new(env!("CARGO_BIN_EXE_wa-server-example"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("127.0.0.1:8080") && help.contains("WA_RATE_LIMIT_QR"),
        "{help}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn graceful_shutdown_on_sigterm() {
    let mut server = start(&[]).await;
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut exited = None;
    for _ in 0..100 {
        if let Some(status) = server.child.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exited.expect("exits after SIGTERM").success());
}

/// A client that never finishes its headers is disconnected after the header timeout; one
/// that never finishes its body gets 408 `request_timeout` after the request timeout; an
/// idle keep-alive connection is closed too. 300 such sockets do not stop the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start(&["--header-timeout-ms", "400", "--request-timeout-ms", "600"]).await;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let read_all = async |s: &mut tokio::net::TcpStream| {
        let mut out = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
            .await
            .expect("the server closed the connection")
            .map(|_| String::from_utf8_lossy(&out).into_owned())
            .unwrap_or_default()
    };

    let mut idle = Vec::new();
    for _ in 0..300 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        idle.push(s);
    }
    // The server still answers while 300 clients dawdle.
    let r = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for s in &mut idle {
        let answer = read_all(s).await;
        assert!(!answer.contains("200 OK"), "{answer}");
    }

    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(
        b"POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":",
    )
    .await
    .unwrap();
    let answer = read_all(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");

    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_all(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
