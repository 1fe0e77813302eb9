//! The source address of a request behind trusted proxies (load balancers).
//!
//! Failed client authentication is throttled per source address. Behind a load balancer
//! the peer is the balancer, so every client would share one bucket and an attacker's
//! failures would hold back everyone. With `--trusted-proxies` the source is read from
//! `X-Forwarded-For`, but only when the peer is a trusted proxy, and it is the right-most
//! address that is not itself a trusted proxy: the entries to its left were written by
//! the client and prove nothing. Without trusted proxies the header is ignored, so a
//! client cannot escape its bucket by sending one.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// An address range, `10.0.0.0/8` or `2001:db8::/32`; a single address is a /32 (/128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    base: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Result<IpRange, String> {
        let bad = || format!("{s:?} is not an IP address or CIDR range");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let base: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(IpRange { base, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.base, ip) {
            (IpAddr::V4(b), IpAddr::V4(a)) => same_prefix(&b.octets(), &a.octets(), self.prefix),
            (IpAddr::V6(b), IpAddr::V6(a)) => same_prefix(&b.octets(), &a.octets(), self.prefix),
            _ => false,
        }
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, what a dual-stack listener
/// reports) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    a[..full] == b[..full] && (rest == 0 || (a[full] ^ b[full]) >> (8 - rest) == 0)
}

/// The request's source: the peer, or behind trusted proxies the right-most untrusted
/// `X-Forwarded-For` address. A malformed header leaves the peer as the source.
pub fn source(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if trusted.is_empty() || !is_trusted(peer) {
        return canonical(peer);
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else { return canonical(peer) };
        for hop in text.split(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(canonical(ip)),
                Err(_) => return canonical(peer),
            }
        }
    }
    // Right to left: the first hop no trusted proxy vouches for is the client; if every
    // hop is a trusted proxy, the left-most is as far as the chain can be followed.
    hops.iter().rev().copied().find(|ip| !is_trusted(*ip)).or(hops.first().copied()).unwrap_or(canonical(peer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn ranges_parse_and_match() {
        let r = IpRange::parse("10.1.0.0/16").unwrap();
        assert!(r.contains(ip("10.1.200.3")) && !r.contains(ip("10.2.0.1")));
        assert!(r.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped IPv6 is IPv4");
        assert!(IpRange::parse("192.168.0.7").unwrap().contains(ip("192.168.0.7")));
        assert!(IpRange::parse("2001:db8::/32").unwrap().contains(ip("2001:db8:1::5")));
        assert!(IpRange::parse("10.0.0.0/12").unwrap().contains(ip("10.15.255.255")));
        assert!(!IpRange::parse("10.0.0.0/12").unwrap().contains(ip("10.16.0.0")));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "::/129", "nope", "10.0.0/8", "1.2.3.4/x"] {
            assert!(IpRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_a_trusted_peer() {
        let lb = [IpRange::parse("10.0.0.0/8").unwrap()];
        let h = xff(&["203.0.113.7"]);
        assert_eq!(source(ip("10.0.0.2"), &h, &lb), ip("203.0.113.7"));
        // an untrusted peer's header is ignored, and so is everything without trust
        assert_eq!(source(ip("198.51.100.1"), &h, &lb), ip("198.51.100.1"));
        assert_eq!(source(ip("10.0.0.2"), &h, &[]), ip("10.0.0.2"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client_and_spoofed_hops_are_skipped() {
        let lb = [IpRange::parse("10.0.0.0/8").unwrap()];
        // the client wrote "1.1.1.1" itself; the balancer appended what it saw
        let h = xff(&["1.1.1.1, 203.0.113.7", "10.0.0.5"]);
        assert_eq!(source(ip("10.0.0.2"), &h, &lb), ip("203.0.113.7"));
        // only proxies in the chain: the left-most
        assert_eq!(source(ip("10.0.0.2"), &xff(&["10.0.0.9, 10.0.0.5"]), &lb), ip("10.0.0.9"));
        // no header, or a malformed one: the peer
        assert_eq!(source(ip("10.0.0.2"), &HeaderMap::new(), &lb), ip("10.0.0.2"));
        assert_eq!(source(ip("10.0.0.2"), &xff(&["203.0.113.7, junk"]), &lb), ip("10.0.0.2"));
    }
}
