//! The SSRF classifier never panics and is consistent: an IPv4 address and its
//! IPv4-mapped IPv6 form are classified the same.
#![no_main]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use wa_validate::net::is_public_ip;

fuzz_target!(|bytes: [u8; 16]| {
    let v6 = Ipv6Addr::from(bytes);
    let _ = is_public_ip(IpAddr::V6(v6));
    let v4 = Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]);
    assert_eq!(
        is_public_ip(IpAddr::V4(v4)),
        is_public_ip(IpAddr::V6(v4.to_ipv6_mapped())),
        "{v4}"
    );
});
