//! Whom a request comes from, for the per-address rate limits. Behind a load balancer the TCP
//! peer is the balancer; its `X-Forwarded-For` is believed only when the peer is listed in
//! `TRUSTED_PROXIES`, since any client can send the header.

use std::net::IpAddr;

use axum::http::HeaderMap;
use birgemiz_schema::config::IpRange;

/// The TCP peer, or, when the peer is a trusted proxy, the nearest address in `X-Forwarded-For`
/// (read from the right, as each proxy appends what it saw) that is not itself a trusted proxy.
/// A malformed entry stops the walk at the last address a trusted hop vouched for.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpRange]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for value in headers.get_all("x-forwarded-for").iter().rev() {
        let Ok(value) = value.to_str() else {
            return client;
        };
        for entry in value.rsplit(',') {
            let Ok(ip) = entry.trim().parse::<IpAddr>() else {
                return client;
            };
            client = ip;
            if !is_trusted(ip) {
                return client;
            }
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let trusted = [IpRange::parse("10.0.0.0/8").unwrap()];
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(client_ip(ip("10.1.2.3"), &h, &trusted), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("10.1.2.3"), &h, &[]), ip("10.1.2.3"));
    }

    #[test]
    fn a_spoofed_left_part_is_ignored() {
        // The client sent "1.2.3.4" itself; the balancer appended the address it saw.
        let trusted = [IpRange::parse("10.0.0.0/8").unwrap()];
        let h = headers(&["1.2.3.4, 203.0.113.9"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
        // Two trusted hops, in one header or two.
        let h = headers(&["1.2.3.4, 203.0.113.9, 10.0.0.7"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
        let h = headers(&["1.2.3.4, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("203.0.113.9"));
    }

    #[test]
    fn garbage_stops_at_the_last_vouched_address() {
        let trusted = [IpRange::parse("10.0.0.0/8").unwrap()];
        let h = headers(&["unknown, 10.0.0.7"]);
        assert_eq!(client_ip(ip("10.0.0.5"), &h, &trusted), ip("10.0.0.7"));
    }

    #[test]
    fn ranges_match_by_prefix_and_family() {
        let r = IpRange::parse("192.168.0.0/16").unwrap();
        assert!(r.contains(ip("192.168.255.1")));
        assert!(!r.contains(ip("192.169.0.1")));
        assert!(r.contains(ip("::ffff:192.168.1.1")));
        assert!(!r.contains(ip("::1")));
        assert!(IpRange::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(IpRange::parse("::1").unwrap().contains(ip("::1")));
        assert!(IpRange::parse("fd00::/8").unwrap().contains(ip("fd12::1")));
        assert!(IpRange::parse("10.0.0.1/33").is_err());
        assert!(IpRange::parse("nonsense").is_err());
    }
}
