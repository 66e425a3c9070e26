//! The OpenAPI document: every route and code, no bare objects.

use super::*;

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
