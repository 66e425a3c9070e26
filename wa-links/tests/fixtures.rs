//! Table-driven fixtures for building and parsing links (`tests/data/*.json`).

use serde_json::Value;
use wa_links::{Error, Link, Target, parse};
use wa_validate::{Phone, Username};

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn link_for(case: &Value) -> Link {
    let link = if let Some(p) = case.get("phone").and_then(Value::as_str) {
        let phone = match case.get("region").and_then(Value::as_str) {
            Some(r) => Phone::parse_with_region(p, r).unwrap(),
            None => Phone::parse(p).unwrap(),
        };
        Link::phone(&phone)
    } else if let Some(u) = case.get("username").and_then(Value::as_str) {
        Link::username(&Username::parse(u).unwrap())
    } else {
        Link::share()
    };
    match case.get("text").and_then(Value::as_str) {
        Some(t) => link.text(t),
        None => link,
    }
}

fn check(case: &Value, key: &str, got: Result<String, Error>) {
    if let Some(want) = case.get(key).and_then(Value::as_str) {
        let built = got.unwrap_or_else(|e| panic!("{case}: {}", e.code()));
        assert_eq!(built, want, "{case}");
        // Every built link parses back to the same link.
        let parsed = parse(&built).unwrap_or_else(|e| panic!("{built}: {e}"));
        let original = link_for(case);
        assert_eq!(parsed.target.as_ref(), Some(original.target()), "{built}");
        assert_eq!(parsed.text.as_deref(), original.prefilled_text(), "{built}");
    } else if let Some(code) = case.get(format!("{key}_error")).and_then(Value::as_str) {
        assert_eq!(got.map_err(|e| e.code()), Err(code), "{case}");
    }
}

#[test]
fn build() {
    for case in load("build.json") {
        let link = link_for(&case);
        check(&case, "wa_me", Ok(link.wa_me()));
        check(&case, "api", link.api());
        check(&case, "deep_link", link.deep_link());
        check(&case, "sms", link.sms());
        if let Some([base, want]) = case
            .get("short")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            assert_eq!(
                link.short_link(base.as_str().unwrap()).unwrap(),
                want.as_str().unwrap(),
                "{case}"
            );
        }
        if let Some([base, code]) = case
            .get("short_error")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            assert_eq!(
                link.short_link(base.as_str().unwrap()).unwrap_err().code(),
                code.as_str().unwrap(),
                "{case}"
            );
        }
    }
}

#[test]
fn parse_links() {
    let mut seen = Vec::new();
    for case in load("parse.json") {
        let input = case["input"].as_str().unwrap();
        let got = parse(input);
        if let Some(code) = case.get("error").and_then(Value::as_str) {
            let err = got.expect_err(input);
            assert_eq!(err.code(), code, "{input}: {err}");
            seen.push(code.to_owned());
            continue;
        }
        let p = got.unwrap_or_else(|e| panic!("{input}: {} {e}", e.code()));
        assert_eq!(p.kind.as_str(), case["kind"], "{input}");
        assert_eq!(
            p.text.as_deref(),
            case.get("text").and_then(Value::as_str),
            "{input}"
        );
        assert_eq!(
            p.code.as_deref(),
            case.get("code").and_then(Value::as_str),
            "{input}"
        );
        match (
            &p.target,
            case.get("phone"),
            case.get("username"),
            case.get("share"),
        ) {
            (Some(Target::Phone(ph)), Some(want), None, None) => {
                assert_eq!(ph.digits(), want, "{input}")
            }
            (Some(Target::Username(u)), None, Some(want), None) => {
                assert_eq!(u.as_str(), want, "{input}")
            }
            (Some(Target::Share), None, None, Some(_)) => {}
            (None, None, None, None) => {}
            (t, ..) => panic!("{input}: unexpected target {t:?}"),
        }
    }
    seen.push("link_unsupported_target".into()); // covered by build.json
    seen.push("link_invalid_base_url".into()); // covered by build.json
    for (code, _) in Error::ALL_CODES {
        assert!(seen.iter().any(|s| s == code), "no fixture for {code}");
    }
}
