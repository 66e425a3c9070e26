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

    /// A national trunk zero after the country code is never kept in the E.164 form: the
    /// number is refused, or its E.164 form parses back to itself.
    #[test]
    fn trunk_zero_after_country_code(cc in prop::sample::select(vec!["49", "44", "33", "39", "61", "81", "7", "1"]), zeros in "0{1,2}", rest in "[0-9]{4,11}") {
        let input = format!("+{cc} {zeros} {rest}");
        if let Ok(p) = PhoneOptions::new().accept_possible(true).parse(&input) {
            let again = PhoneOptions::new().accept_possible(true).parse(p.e164()).unwrap();
            prop_assert_eq!(again.e164(), p.e164(), "{}", input);
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

/// The SSRF classifier against an independent transcription of the IANA IPv4 and IPv6
/// Special-Purpose Address Registries (CIDR strings, matched generically), plus wa-kit's
/// deliberate policy: everything outside IPv6 global unicast is refused, and so are the
/// whole of `192.0.0.0/24` and `2001::/23` (the registries mark a few anycast addresses in
/// them globally reachable; a webhook target never needs them), and IPv4 addresses
/// embedded in IPv6 (mapped, NAT64, 6to4) are judged by the IPv4 address.
mod ip_classifier {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;
    use wa_validate::net::is_public_ip;

    const V4_REFUSED: &[&str] = &[
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255/32",
    ];

    const V6_REFUSED: &[&str] = &[
        "::/128",
        "::1/128",
        "::/96",
        "64:ff9b:1::/48",
        "100::/64",
        "100:0:0:1::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    ];

    fn cidr(s: &str) -> (IpAddr, u32) {
        let (a, n) = s.split_once('/').unwrap();
        (a.parse().unwrap(), n.parse().unwrap())
    }

    fn in_cidr(ip: IpAddr, s: &str) -> bool {
        let (net, len) = cidr(s);
        match (ip, net) {
            (IpAddr::V4(a), IpAddr::V4(n)) => {
                let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
                u32::from(a) & mask == u32::from(n) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(n)) => {
                let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
                u128::from(a) & mask == u128::from(n) & mask
            }
            _ => false,
        }
    }

    /// The expected answer, from the tables alone.
    fn expected(ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(_) => !V4_REFUSED.iter().any(|c| in_cidr(ip, c)),
            IpAddr::V6(v6) => {
                let seg = v6.segments();
                let v4 = |hi: u16, lo: u16| {
                    IpAddr::V4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)))
                };
                if in_cidr(ip, "::ffff:0:0/96") || in_cidr(ip, "64:ff9b::/96") {
                    return expected(v4(seg[6], seg[7]));
                }
                if in_cidr(ip, "2002::/16") {
                    return expected(v4(seg[1], seg[2]));
                }
                in_cidr(ip, "2000::/3") && !V6_REFUSED.iter().any(|c| in_cidr(ip, c))
            }
        }
    }

    /// An address inside (or just outside) one of the listed ranges.
    fn near(tables: &'static [&'static str]) -> impl Strategy<Value = IpAddr> {
        (prop::sample::select(tables), any::<u128>(), -1i8..=1).prop_map(|(c, noise, edge)| {
            let (net, len) = cidr(c);
            match net {
                IpAddr::V4(n) => {
                    let host = u32::MAX.checked_shr(len).unwrap_or(0);
                    let base = u32::from(n) & !host;
                    let a = match edge {
                        -1 => base.wrapping_sub(1),
                        1 => base | host,
                        _ => base | (noise as u32 & host),
                    };
                    IpAddr::V4(Ipv4Addr::from(a))
                }
                IpAddr::V6(n) => {
                    let host = u128::MAX.checked_shr(len).unwrap_or(0);
                    let base = u128::from(n) & !host;
                    let a = match edge {
                        -1 => base.wrapping_sub(1),
                        1 => base | host,
                        _ => base | (noise & host),
                    };
                    IpAddr::V6(Ipv6Addr::from(a))
                }
            }
        })
    }

    /// An IPv4 address (often a special one) embedded in IPv6 the ways attackers use.
    fn embedded() -> impl Strategy<Value = IpAddr> {
        let v4 = prop_oneof![
            near(V4_REFUSED),
            any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a)))
        ];
        (v4, 0u8..5, any::<u64>()).prop_map(|(ip, form, noise)| {
            let IpAddr::V4(v4) = ip else { unreachable!() };
            let a = u128::from(u32::from(v4));
            let bits = match form {
                0 => (0xffff << 32) | a,                              // IPv4-mapped
                1 => a,                                               // IPv4-compatible
                2 => (0x2002 << 112) | (a << 80) | u128::from(noise), // 6to4
                3 => (0x0064_ff9b << 96) | a,                         // NAT64
                _ => (0x2001_0000 << 96) | u128::from(noise) << 32 | !a & 0xffff_ffff, // Teredo
            };
            IpAddr::V6(Ipv6Addr::from(bits))
        })
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
            // Global unicast IPv6, where the interesting exceptions live.
            any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from((a >> 3) | (1 << 125)))),
            near(V4_REFUSED),
            near(V6_REFUSED),
            embedded(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn agrees_with_the_registries(ip in any_ip()) {
            prop_assert_eq!(is_public_ip(ip), expected(ip), "{}", ip);
        }
    }
}

/// Fuzz findings whose E.164 form re-parsed as another number: `+49 00 1234 5678` (a
/// trunk zero left in) and `+860 12346 6 061129` (a "possible" number libphonenumber reads
/// back with a carrier prefix stripped). Both are refused now, with or without leniency.
#[test]
fn the_reported_round_trip_breakers_are_refused() {
    for input in ["+49 00 1234 5678", "+860 12346 6 061129 "] {
        for lenient in [false, true] {
            let r = PhoneOptions::new().accept_possible(lenient).parse(input);
            assert!(r.is_err(), "{input}: {r:?}");
        }
    }
}
