//! Property tests: no validator panics on any input, normalisation is idempotent and
//! accepted values round-trip through their string form.

use proptest::prelude::*;
use wa_validate::{
    Bsuid, Jid, Phone, PhoneOptions, Recipient, Username, UsernameKey, UsernamePolicy,
};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn nothing_panics(s in any::<String>()) {
        let _ = Phone::parse(&s);
        let _ = PhoneOptions::new().region("BR").accept_possible(true).parse(&s);
        let _ = Username::parse(&s);
        let _ = Username::parse_with(&s, UsernamePolicy::Business);
        let _ = UsernameKey::parse(&s);
        let _ = Jid::parse(&s);
        let _ = Bsuid::parse(&s);
        let _ = Recipient::parse(&s);
    }

    #[test]
    fn phone_like_inputs_never_panic(s in "[+0-9 ()\\-.]{0,30}", region in "[A-Z]{2}") {
        if let Ok(p) = PhoneOptions::new().region(region).accept_possible(true).parse(&s) {
            // the E.164 form is a fixed point
            let again = PhoneOptions::new().accept_possible(true).parse(p.e164()).unwrap();
            prop_assert_eq!(again.e164(), p.e164());
            prop_assert!(p.digits().len() <= 15);
        }
    }

    #[test]
    fn username_normalisation_is_idempotent(s in "@?[A-Za-z0-9._]{0,40}") {
        if let Ok(u) = Username::parse(&s) {
            prop_assert_eq!(Username::parse(u.as_str()).unwrap(), u.clone());
            prop_assert_eq!(u.to_string().parse::<Username>().unwrap(), u);
        }
    }

    #[test]
    fn jid_round_trips(user in "[0-9]{5,15}", dev in proptest::option::of(0u16..100), server in prop::sample::select(vec!["s.whatsapp.net", "lid", "c.us", "g.us"])) {
        let s = match (dev, server) {
            (Some(d), "s.whatsapp.net" | "lid") => format!("{user}:{d}@{server}"),
            _ => format!("{user}@{server}"),
        };
        let j = Jid::parse(&s).unwrap();
        prop_assert_eq!(j.to_string(), s);
    }

    #[test]
    fn bsuid_round_trips(cc in "[A-Z]{2}", ent in any::<bool>(), id in "[A-Za-z0-9]{1,128}") {
        let s = if ent { format!("{cc}.ENT.{id}") } else { format!("{cc}.{id}") };
        let b = Bsuid::parse(&s).unwrap();
        prop_assert_eq!(b.to_string(), s.clone());
        prop_assert_eq!(Recipient::parse(&s).unwrap(), Recipient::Bsuid(b));
    }
}
