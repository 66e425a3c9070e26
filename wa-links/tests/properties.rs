//! Property tests: parsing never panics; every built link is a valid URL whose text
//! decodes back to the input exactly.

use proptest::prelude::*;
use wa_links::{Link, Target, parse};
use wa_validate::{Phone, Username};

fn text_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn parse_never_panics_on_link_shapes(
        prefix in prop::sample::select(vec!["https://wa.me/", "whatsapp://send?", "sms:", "https://api.whatsapp.com/send?phone=", "https://chat.whatsapp.com/"]),
        rest in any::<String>(),
    ) {
        let _ = parse(&format!("{prefix}{rest}"));
    }

    #[test]
    fn built_links_round_trip(text in any::<String>(), share in any::<bool>()) {
        let phone = Phone::parse("+351 912 345 678").unwrap();
        let link = if share { Link::share() } else { Link::phone(&phone) }.text(text.clone());
        let expected = if text.is_empty() { None } else { Some(text.clone()) };
        for (built, param) in [
            (link.wa_me(), "text"),
            (link.api().unwrap(), "text"),
            (link.deep_link().unwrap(), "text"),
            (link.sms().unwrap(), "body"),
        ] {
            // Only unreserved ASCII and %XX escapes appear after the `?`.
            let query = built.split_once('?').map(|(_, q)| q).unwrap_or("");
            prop_assert!(query.bytes().all(|b| b.is_ascii_graphic() && b != b'#' && b != b'+'), "{}", built);
            let url = url::Url::parse(&built).unwrap();
            prop_assert_eq!(text_param(&url, param).filter(|t| !t.is_empty()), expected.clone());
            let parsed = parse(&built).unwrap();
            prop_assert_eq!(parsed.text, expected.clone());
            let want = if share { Target::Share } else { Target::Phone(phone.clone()) };
            prop_assert_eq!(parsed.target, Some(want));
        }
    }

    /// Texts made of the pieces that confused the parser: `%`-sequences, `?text=`-like
    /// substrings, `&`, `#`, `+` and non-ASCII.
    #[test]
    fn tricky_texts_round_trip(parts in prop::collection::vec(prop::sample::select(vec![
        "%", "%25", "%1", "%EF%BF%BD", "?text=", "&text=", "?", "&", "=", "#", "+", " ", "\u{FFFD}", "é", "👍", "a", "\n",
    ]), 1..12)) {
        let text: String = parts.concat();
        let phone = Phone::parse("+14155552671").unwrap();
        let link = Link::phone(&phone).text(text.clone());
        for built in [link.wa_me(), link.api().unwrap(), link.deep_link().unwrap(), link.sms().unwrap()] {
            let parsed = parse(&built).unwrap();
            prop_assert_eq!(parsed.text.as_deref(), Some(text.as_str()), "{}", built);
            prop_assert_eq!(parsed.target, Some(Target::Phone(phone.clone())));
        }
    }

    #[test]
    fn username_links_round_trip(name in "[a-z][a-z0-9_]{2,20}", text in ".{0,40}") {
        if let Ok(u) = Username::parse(&name) {
            let built = Link::username(&u).text(text.clone()).wa_me();
            let parsed = parse(&built).unwrap();
            prop_assert_eq!(parsed.target, Some(Target::Username(u)));
            prop_assert_eq!(parsed.text, if text.is_empty() { None } else { Some(text) });
        }
    }
}
