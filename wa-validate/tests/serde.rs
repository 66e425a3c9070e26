//! With the `serde` feature, identities are strings on the wire and validated on the way in.
#![cfg(feature = "serde")]

use wa_validate::{Bsuid, Jid, Phone, Recipient, Username, UsernameKey};

#[test]
fn serialise_as_strings() {
    let p = Phone::parse("+1 (415) 555-2671").unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), r#""+14155552671""#);
    let u = Username::parse("@Shop").unwrap();
    assert_eq!(serde_json::to_string(&u).unwrap(), r#""shop""#);
    let r = Recipient::parse("120363041234567890@g.us").unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#""120363041234567890@g.us""#
    );
}

#[test]
fn deserialise_validates() {
    let p: Phone = serde_json::from_str(r#""00351912345678""#).unwrap();
    assert_eq!(p.e164(), "+351912345678");
    let err = serde_json::from_str::<Phone>(r#""+1 415""#).unwrap_err();
    assert!(err.to_string().starts_with("phone_too_short"), "{err}");
    let err = serde_json::from_str::<Username>(r#""shop.com""#).unwrap_err();
    assert!(
        err.to_string().starts_with("username_domain_suffix"),
        "{err}"
    );
    assert!(serde_json::from_str::<UsernameKey>(r#""1234""#).is_ok());
    assert!(serde_json::from_str::<Jid>(r#""x@g.us""#).is_err());
    assert!(serde_json::from_str::<Bsuid>(r#""US.1""#).is_ok());
    assert!(
        serde_json::from_str::<Phone>("14155552671").is_err(),
        "numbers are not strings"
    );
    let r: Recipient = serde_json::from_str(r#""US.ENT.42""#).unwrap();
    assert!(matches!(r, Recipient::Bsuid(b) if b.is_parent()));
}
