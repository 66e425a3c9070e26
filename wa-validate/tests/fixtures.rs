//! Table-driven fixtures: every rule and error code of wa-validate, from `tests/data/*.json`.

use serde_json::Value;
use wa_validate::{
    Bsuid, Error, Jid, PhoneOptions, Recipient, Username, UsernameKey, UsernamePolicy,
};

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn input(case: &Value) -> &str {
    case["input"].as_str().expect("input")
}

/// Checks the error side of a case; returns true when the case expected an error.
fn check_error<T: std::fmt::Debug>(
    case: &Value,
    got: &Result<T, Error>,
    seen: &mut Vec<String>,
) -> bool {
    if let Some(code) = case.get("error").and_then(Value::as_str) {
        match got {
            Err(e) => {
                assert_eq!(e.code(), code, "{case}: {e}");
                assert!(!e.to_string().is_empty());
                seen.push(code.to_owned());
            }
            Ok(v) => panic!("{case}: expected {code}, got {v:?}"),
        }
        true
    } else {
        if let Err(e) = got {
            panic!("{case}: unexpected error {}: {e}", e.code());
        }
        false
    }
}

#[test]
fn phones() {
    let mut seen = Vec::new();
    for case in load("phones.json") {
        let mut opts = PhoneOptions::new();
        if let Some(r) = case.get("region").and_then(Value::as_str) {
            opts = opts.region(r);
        }
        if case.get("accept_possible").and_then(Value::as_bool) == Some(true) {
            opts = opts.accept_possible(true);
        }
        let got = opts.parse(input(&case));
        if check_error(&case, &got, &mut seen) {
            continue;
        }
        let p = got.unwrap();
        let ok = &case["ok"];
        assert_eq!(p.e164(), ok["e164"], "{case}");
        assert_eq!(p.digits(), &ok["e164"].as_str().unwrap()[1..], "{case}");
        assert_eq!(
            u64::from(p.country_code()),
            ok["country_code"].as_u64().unwrap(),
            "{case}"
        );
        assert_eq!(p.region(), ok["region"].as_str(), "{case}");
        assert_eq!(p.national_number(), ok["national"], "{case}");
        assert_eq!(p.number_type().as_str(), ok["type"], "{case}");
        assert_eq!(p.is_valid(), ok["valid"], "{case}");
        // Normalisation is idempotent: the E.164 form parses back to itself.
        let again = PhoneOptions::new()
            .accept_possible(true)
            .parse(p.e164())
            .unwrap();
        assert_eq!(again, p);
    }
    assert_codes_covered("phone_", &seen);
}

#[test]
fn usernames() {
    let mut seen = Vec::new();
    for case in load("usernames.json") {
        let policy = match case.get("policy").and_then(Value::as_str) {
            Some("business") => UsernamePolicy::Business,
            _ => UsernamePolicy::Client,
        };
        let got = Username::parse_with(input(&case), policy);
        if check_error(&case, &got, &mut seen) {
            continue;
        }
        let u = got.unwrap();
        assert_eq!(u.as_str(), case["ok"], "{case}");
        assert_eq!(Username::parse_with(u.as_str(), policy).unwrap(), u);
    }
    assert_codes_covered(
        "username_",
        &seen
            .iter()
            .filter(|c| !c.starts_with("username_key"))
            .cloned()
            .collect::<Vec<_>>(),
    );
}

#[test]
fn username_keys() {
    let mut seen = Vec::new();
    for case in load("keys.json") {
        let got = UsernameKey::parse(input(&case));
        if check_error(&case, &got, &mut seen) {
            continue;
        }
        let k = got.unwrap();
        assert_eq!(k.as_str(), case["ok"], "{case}");
        assert_eq!(k.is_whatsapp_format(), case["whatsapp_format"], "{case}");
    }
    assert_codes_covered("username_key_", &seen);
}

#[test]
fn jids() {
    let mut seen = Vec::new();
    for case in load("jids.json") {
        let got = Jid::parse(input(&case));
        if check_error(&case, &got, &mut seen) {
            continue;
        }
        let j = got.unwrap();
        assert_eq!(j.to_string(), case["ok"], "{case}");
        assert_eq!(j.server().as_str(), case["server"], "{case}");
        assert_eq!(
            j.device().map(u64::from),
            case.get("device").and_then(Value::as_u64),
            "{case}"
        );
        assert_eq!(Jid::parse(&j.to_string()).unwrap(), j);
    }
    assert_codes_covered("jid_", &seen);
}

#[test]
fn bsuids() {
    let mut seen = Vec::new();
    for case in load("bsuids.json") {
        let got = Bsuid::parse(input(&case));
        if check_error(&case, &got, &mut seen) {
            continue;
        }
        let b = got.unwrap();
        assert_eq!(b.as_str(), case["ok"], "{case}");
        assert_eq!(b.is_parent(), case["parent"], "{case}");
    }
    assert_codes_covered("bsuid_", &seen);
}

#[test]
fn recipients() {
    let mut seen = Vec::new();
    for case in load("recipients.json") {
        let got = Recipient::parse(input(&case));
        if check_error(&case, &got, &mut seen) {
            continue;
        }
        let r = got.unwrap();
        let kind = match &r {
            Recipient::Phone(_) => "phone",
            Recipient::Bsuid(_) => "bsuid",
            Recipient::Jid(_) => "jid",
            _ => "other",
        };
        assert_eq!(kind, case["kind"], "{case}");
        assert_eq!(r.to_string(), case["ok"], "{case}");
        assert_eq!(Recipient::parse(&r.to_string()).unwrap(), r);
    }
    assert_codes_covered("recipient_", &seen);
}

/// Every code with this prefix in the crate's table appears in the fixtures.
fn assert_codes_covered(prefix: &str, seen: &[String]) {
    for (code, _) in Error::ALL_CODES {
        let in_family = code.starts_with(prefix)
            && !(prefix == "username_" && code.starts_with("username_key"));
        if in_family {
            assert!(seen.iter().any(|s| s == code), "no fixture covers {code}");
        }
    }
}
