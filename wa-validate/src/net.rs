//! Which IP addresses a server may connect to on a customer's behalf: the one classifier the
//! workspace's SSRF guards share (status webhooks, verification callbacks).
//!
//! [`is_public_ip`] is `true` only for globally reachable unicast addresses. It refuses every
//! special-purpose range of the IANA IPv4 and IPv6 Special-Purpose Address Registries
//! (loopback, private, shared/CGNAT, link-local, "this network", IETF protocol assignments,
//! documentation, benchmarking, reserved, broadcast, multicast, discard, ULA, site-local,
//! `2001::/23`, SRv6), everything outside IPv6 global unicast (`2000::/3`), and judges IPv4
//! addresses embedded in IPv6 (IPv4-mapped `::ffff:0:0/96`, the deprecated IPv4-compatible
//! `::/96`, 6to4 `2002::/16`, NAT64 `64:ff9b::/96`) by the IPv4 address they carry.
//!
//! # Examples
//! ```
//! use wa_validate::net::is_public_ip;
//! assert!(is_public_ip("8.8.8.8".parse().unwrap()));
//! for internal in ["127.0.0.1", "169.254.169.254", "::ffff:10.0.0.1", "2002:7f00:1::1", "::7f00:1"] {
//!     assert!(!is_public_ip(internal.parse().unwrap()), "{internal}");
//! }
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `true` when `ip` is a globally reachable unicast address (see the module docs).
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// Non-global IPv4 ranges as (network, prefix length), from the IANA registry plus
/// multicast, reserved and broadcast.
const V4_SPECIAL: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0a00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space (CGNAT)
    (0x7f00_0000, 8),  // 127.0.0.0/8 loopback
    (0xa9fe_0000, 16), // 169.254.0.0/16 link-local (cloud metadata)
    (0xac10_0000, 12), // 172.16.0.0/12 private
    (0xc000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xc000_0200, 24), // 192.0.2.0/24 TEST-NET-1
    (0xc058_6300, 24), // 192.88.99.0/24 deprecated 6to4 relay anycast
    (0xc0a8_0000, 16), // 192.168.0.0/16 private
    (0xc612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xc633_6400, 24), // 198.51.100.0/24 TEST-NET-2
    (0xcb00_7100, 24), // 203.0.113.0/24 TEST-NET-3
    (0xe000_0000, 4),  // 224.0.0.0/4 multicast
    (0xf000_0000, 4),  // 240.0.0.0/4 reserved, and 255.255.255.255 broadcast
];

fn in_v4(addr: u32, (net, len): (u32, u8)) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    addr & mask == net
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let a = u32::from(ip);
    !V4_SPECIAL.iter().any(|&r| in_v4(a, r))
}

fn embedded_v4(bits: u128, shift: u32) -> Ipv4Addr {
    Ipv4Addr::from((bits >> shift) as u32)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let b = u128::from(ip);
    let top = |len: u32| b >> (128 - len);
    // IPv4-mapped ::ffff:a.b.c.d: the IPv4 address decides.
    if b >> 32 == 0xffff {
        return is_public_v4(embedded_v4(b, 0));
    }
    // NAT64 64:ff9b::a.b.c.d (well-known prefix): the IPv4 address decides.
    if top(96) == 0x0064_ff9b_0000_0000_0000_0000 {
        return is_public_v4(embedded_v4(b, 0));
    }
    // 6to4 2002:aabb:ccdd::/48: the IPv4 address in bits 16..48 decides, and the relay
    // anycast range itself (192.88.99.0/24) is refused by the IPv4 table.
    if top(16) == 0x2002 {
        return is_public_v4(embedded_v4(b, 80));
    }
    // Everything else must be global unicast 2000::/3 (this also refuses ::/96, including
    // the unspecified address, loopback and IPv4-compatible addresses, 64:ff9b:1::/48,
    // 100::/64, 5f00::/16, ULA fc00::/7, link-local fe80::/10, site-local fec0::/10 and
    // multicast ff00::/8) ...
    if top(3) != 0b001 {
        return false;
    }
    // ... outside its special-purpose blocks.
    let special = top(23) == 0x2001 << 7 // 2001::/23 IETF protocol assignments (Teredo, ORCHID, ...)
        || top(32) == 0x2001_0db8 // 2001:db8::/32 documentation
        || top(20) == 0x3fff0; // 3fff::/20 documentation
    !special
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "100.127.255.255",
            "198.18.0.1",
            "198.19.255.255",
            "192.88.99.1",
            "192.0.0.8",
            "192.0.2.1",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::7f00:1",
            "::10.0.0.1",
            "::8.8.8.8",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:1ff::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:0a00:0001::1",
            "2002:c058:6301::1",
            "3fff::1",
            "5f00::1",
            "fc00::1",
            "fd00::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!is_public_ip(ip.parse().unwrap()), "{ip} must be refused");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "100.63.255.255",
            "100.128.0.0",
            "172.32.0.1",
            "198.20.0.1",
            "192.0.3.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2001:200::1",
            "2a00:1450:4001::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert!(is_public_ip(ip.parse().unwrap()), "{ip} must be allowed");
        }
    }
}
