//! Every error code of whatsapp-facts.md §3.4 maps to its documented class.

use wa_send::{DeliveryError, ErrorClass, RateLimitScope, classify_meta_code};

use ErrorClass::*;

const TABLE: &[(i64, ErrorClass)] = &[
    (0, Auth),
    (1, Transient),
    (2, Transient),
    (3, Permanent),
    (4, RateLimited),
    (10, Auth),
    (100, Permanent),
    (190, Auth),
    (200, Auth),
    (230, Auth),
    (299, Auth),
    (368, Permanent),
    (80007, RateLimited),
    (130403, Undeliverable),
    (130429, RateLimited),
    (130472, Permanent),
    (130501, Permanent),
    (131000, Transient),
    (131005, Auth),
    (131008, Permanent),
    (131009, Permanent),
    (131016, Transient),
    (131021, Permanent),
    (131026, Undeliverable),
    (131031, Permanent),
    (131042, Permanent),
    (131045, Permanent),
    (131047, WindowClosed),
    (131048, RateLimited),
    (131049, Undeliverable),
    (131050, Undeliverable),
    (131051, Permanent),
    (131052, Transient),
    (131053, Transient),
    (131056, RateLimited),
    (131057, Transient),
    (131064, RateLimited),
    (132000, Permanent),
    (132001, Permanent),
    (132005, Permanent),
    (132007, Permanent),
    (132012, Permanent),
    (132015, Permanent),
    (132018, Permanent),
    (133000, Permanent),
    (133004, Permanent),
    (133010, Permanent),
    (133016, Permanent),
    (134101, Transient),
    (137000, Permanent),
    (139100, Permanent),
    (139103, Permanent),
    (147005, Permanent),
];

#[test]
fn every_documented_code_has_its_class() {
    for &(code, class) in TABLE {
        let (got, scope, hint) = classify_meta_code(code);
        assert_eq!(got, class, "code {code}");
        assert_eq!(scope.is_some(), class == RateLimited, "scope for {code}");
        if class == RateLimited {
            assert!(
                hint.is_some_and(|d| d.as_secs() >= 1),
                "rate-limited {code} needs a retry hint"
            );
        }
        // The HTTP status never changes the class when a code is present.
        for status in [200, 400, 403, 429, 500] {
            assert_eq!(
                DeliveryError::from_meta("cloud_api", status, code, "m", None).class(),
                class,
                "code {code} status {status}"
            );
        }
    }
}

#[test]
fn pair_limit_is_per_recipient() {
    let e = DeliveryError::from_meta("cloud_api", 400, 131056, "pair", None);
    assert_eq!(e.rate_limit_scope(), Some(RateLimitScope::Recipient));
    assert_eq!(e.code(), "delivery_pair_rate_limited");
    let e = DeliveryError::from_meta("cloud_api", 400, 130429, "throughput", None);
    assert_eq!(e.rate_limit_scope(), Some(RateLimitScope::Account));
    assert_eq!(e.code(), "delivery_rate_limited");
}

#[test]
fn provider_retry_after_wins_over_policy() {
    let e = DeliveryError::from_meta(
        "cloud_api",
        429,
        130429,
        "slow down",
        Some(std::time::Duration::from_secs(42)),
    );
    assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(42)));
}

#[test]
fn codes_of_each_class() {
    let code = |c: i64| DeliveryError::from_meta("cloud_api", 400, c, "m", None).code();
    assert_eq!(code(131000), "delivery_transient");
    assert_eq!(code(190), "delivery_auth");
    assert_eq!(code(131047), "delivery_window_closed");
    assert_eq!(code(131026), "delivery_undeliverable");
    assert_eq!(code(100), "delivery_rejected");
}

#[test]
fn http_status_fallback_without_code() {
    for (status, class) in [
        (500, Transient),
        (503, Transient),
        (408, Transient),
        (429, RateLimited),
        (401, Auth),
        (403, Auth),
        (400, Permanent),
        (404, Permanent),
    ] {
        assert_eq!(
            DeliveryError::from_http_status("wsapi", status, "m", None).class(),
            class,
            "status {status}"
        );
    }
}
