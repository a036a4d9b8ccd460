//! SSRF rules for webhook destinations (CONTRACT §5, anchors §2.2).
//!
//! [`check_url`] runs when an endpoint is registered and again before every delivery; the
//! transport then resolves the host and refuses the delivery when **any** resolved address is
//! [`is_forbidden`], and connects only to validated addresses (no redirects are followed).
//!
//! URL rules (`allow_private_networks = false`, the production default):
//! - scheme `https` only (`http` too when private networks are allowed);
//! - no userinfo (`user:pass@`), no empty host, no backslashes, whitespace or control characters;
//! - any port 1–65535 is accepted (receivers legitimately use 8443 etc.; the address checks are
//!   what protects internal services); port 0 is refused;
//! - hosts are ASCII (IDNs must be given in punycode `xn--…`), compared case-insensitively, a
//!   trailing dot ignored;
//! - hosts whose last label is numeric are IPv4 literals and are parsed like browsers do (WHATWG
//!   URL): `2130706433`, `0x7f.1`, `017700000001` and `127.1` are all `127.0.0.1`;
//! - literal addresses are checked immediately; names that can only be local (`localhost`,
//!   `*.localhost`, `*.local`, `*.internal`, `*.home.arpa`, …) are refused without resolving.
//!
//! With `allow_private_networks = true` (development and tests) only the URL syntax is checked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether a destination address must never receive webhooks.
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_forbidden_v4(v4),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn in_v4(ip: u32, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    ip & mask == u32::from_be_bytes(net) & mask
}

/// IPv4 ranges that are not publicly routable unicast destinations.
const FORBIDDEN_V4: &[([u8; 4], u32)] = &[
    ([0, 0, 0, 0], 8),       // "this network", 0.0.0.0
    ([10, 0, 0, 0], 8),      // private
    ([100, 64, 0, 0], 10),   // CGNAT shared address space
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, incl. cloud metadata 169.254.169.254
    ([172, 16, 0, 0], 12),   // private
    ([192, 0, 0, 0], 24),    // IETF protocol assignments
    ([192, 0, 2, 0], 24),    // documentation TEST-NET-1
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
    ([192, 168, 0, 0], 16),  // private
    ([198, 18, 0, 0], 15),   // benchmarking
    ([198, 51, 100, 0], 24), // documentation TEST-NET-2
    ([203, 0, 113, 0], 24),  // documentation TEST-NET-3
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, incl. broadcast 255.255.255.255
];

/// Whether an IPv4 destination is forbidden.
pub fn is_forbidden_v4(ip: Ipv4Addr) -> bool {
    let n = u32::from(ip);
    FORBIDDEN_V4
        .iter()
        .any(|(net, prefix)| in_v4(n, *net, *prefix))
}

fn in_v6(ip: u128, net: u128, prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    ip & mask == net & mask
}

/// IPv6 ranges that are forbidden outright.
const FORBIDDEN_V6: &[(u128, u32)] = &[
    (0, 128),                                        // :: unspecified
    (1, 128),                                        // ::1 loopback
    (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48), // local-use NAT64
    (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // discard-only
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 32), // Teredo (embeds an obfuscated IPv4)
    (0x2001_0002_0000_0000_0000_0000_0000_0000, 48), // benchmarking
    (0x2001_0010_0000_0000_0000_0000_0000_0000, 28), // ORCHID (deprecated)
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // documentation
    (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20), // documentation (RFC 9637)
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // unique local
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // link-local
    (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10), // site-local (deprecated)
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8),  // multicast
];

/// The IPv4 address embedded in an IPv6 address by a translation scheme, if any:
/// IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4
/// `2002:AABB:CCDD::/48`.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let n = u128::from(ip);
    let low32 = Ipv4Addr::from((n & 0xffff_ffff) as u32);
    if in_v6(n, 0xffff_0000_0000, 96) || in_v6(n, 0, 96) {
        return Some(low32);
    }
    if in_v6(n, 0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96) {
        return Some(low32);
    }
    if in_v6(n, 0x2002_0000_0000_0000_0000_0000_0000_0000, 16) {
        return Some(Ipv4Addr::from(((n >> 80) & 0xffff_ffff) as u32));
    }
    None
}

/// Whether an IPv6 destination is forbidden (including translations of forbidden IPv4).
pub fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let n = u128::from(ip);
    if FORBIDDEN_V6
        .iter()
        .any(|(net, prefix)| in_v6(n, *net, *prefix))
    {
        return true;
    }
    embedded_ipv4(ip).is_some_and(is_forbidden_v4)
}

/// URL scheme of a webhook destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `https` (default port 443).
    Https,
    /// `http` (default port 80; only with private networks allowed).
    Http,
}

impl Scheme {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }

    /// Default port.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Https => 443,
            Scheme::Http => 80,
        }
    }
}

/// The host of a destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A literal address (IPv4 in any browser-accepted spelling, or bracketed IPv6).
    Ip(IpAddr),
    /// A DNS name, lower-case, without trailing dot.
    Domain(String),
}

/// A syntactically valid destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTarget {
    /// Scheme.
    pub scheme: Scheme,
    /// Host.
    pub host: Host,
    /// Explicit port or the scheme's default.
    pub port: u16,
}

impl ParsedTarget {
    /// The host as it must be resolved (domain) or connected to (IP).
    pub fn host_str(&self) -> String {
        match &self.host {
            Host::Ip(ip) => ip.to_string(),
            Host::Domain(d) => d.clone(),
        }
    }
}

/// Why a destination URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SsrfError {
    /// Not an absolute `scheme://host…` URL, or it contains whitespace, control characters or
    /// backslashes.
    #[error("invalid URL")]
    InvalidUrl,
    /// Neither http nor https.
    #[error("unsupported URL scheme '{0}'")]
    UnsupportedScheme(String),
    /// `http` without private networks allowed.
    #[error("webhook URLs must use https")]
    HttpsRequired,
    /// `user:pass@host`.
    #[error("URLs with credentials are not allowed")]
    UserInfo,
    /// `https:///path`.
    #[error("URL has no host")]
    EmptyHost,
    /// A port that is not a number in 1..=65535.
    #[error("invalid port")]
    InvalidPort,
    /// Host with characters outside a DNS name, or a malformed IP literal.
    #[error("invalid host")]
    InvalidHost,
    /// A literal or resolved address in a forbidden range.
    #[error("destination address {0} is not allowed")]
    ForbiddenAddress(IpAddr),
    /// A name that can only designate a local or internal machine.
    #[error("destination host {0} is not allowed")]
    ForbiddenHost(String),
}

/// Names that can only be local. Suffixes apply to the name itself and all its subdomains.
const FORBIDDEN_NAMES: &[&str] = &[
    "localhost",
    "localhost.localdomain",
    "ip6-localhost",
    "ip6-loopback",
    "local",
    "internal",
    "home.arpa",
    "localdomain",
    "in-addr.arpa",
    "ip6.arpa",
];

fn is_forbidden_name(host: &str) -> bool {
    FORBIDDEN_NAMES
        .iter()
        .any(|n| host == *n || host.strip_suffix(n).is_some_and(|rest| rest.ends_with('.')))
}

/// Parses one IPv4 part as browsers do: `0x`/`0X` hex, leading-`0` octal, else decimal.
fn parse_ipv4_number(part: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (h, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (part.get(1..)?, 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        // "0x" alone is 0 in the WHATWG parser.
        return if radix == 16 { Some(0) } else { None };
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = u64::from(c.to_digit(radix)?);
        value = value.checked_mul(u64::from(radix))?.checked_add(d)?;
        if value > u64::from(u32::MAX) {
            return None;
        }
    }
    Some(value)
}

/// Whether the WHATWG "ends in a number" check treats `host` as an IPv4 literal.
fn ends_in_number(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let last = host.rsplit('.').next().unwrap_or(host);
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    last.strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Parses an IPv4 host the way browsers do (1–4 parts, each decimal, octal or hex; the last part
/// fills the remaining bytes). `None` when it is not a valid IPv4 spelling.
pub fn parse_ipv4_lenient(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    let parts: Vec<&str> = host.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = parts
        .iter()
        .map(|p| parse_ipv4_number(p))
        .collect::<Option<_>>()?;
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) {
        return None;
    }
    let remaining_bytes = u32::try_from(5 - numbers.len()).ok()?;
    if *last >= 256u64.checked_pow(remaining_bytes)? {
        return None;
    }
    let mut value = *last;
    for (i, n) in init.iter().enumerate() {
        let shift = 8 * (3 - u32::try_from(i).ok()?);
        value = value.checked_add(n.checked_shl(shift)?)?;
    }
    Some(Ipv4Addr::from(u32::try_from(value).ok()?))
}

fn parse_host(raw: &str) -> Result<Host, SsrfError> {
    if let Some(inner) = raw.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or(SsrfError::InvalidHost)?;
        // Zone identifiers (`%eth0`) are refused by the parser.
        return inner
            .parse::<Ipv6Addr>()
            .map(|ip| Host::Ip(IpAddr::V6(ip)))
            .map_err(|_| SsrfError::InvalidHost);
    }
    if raw.is_empty() {
        return Err(SsrfError::EmptyHost);
    }
    if !raw.is_ascii() {
        return Err(SsrfError::InvalidHost);
    }
    let lower = raw.to_ascii_lowercase();
    if ends_in_number(&lower) {
        return parse_ipv4_lenient(&lower)
            .map(|ip| Host::Ip(IpAddr::V4(ip)))
            .ok_or(SsrfError::InvalidHost);
    }
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    let labels_ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if !labels_ok {
        return Err(SsrfError::InvalidHost);
    }
    Ok(Host::Domain(name.to_owned()))
}

/// Validates a webhook destination URL (see the module docs for the rules).
pub fn check_url(url: &str, allow_private_networks: bool) -> Result<ParsedTarget, SsrfError> {
    if url.is_empty()
        || url.len() > 2048
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err(SsrfError::InvalidUrl);
    }
    let (scheme_raw, rest) = url.split_once("://").ok_or(SsrfError::InvalidUrl)?;
    let scheme = match scheme_raw.to_ascii_lowercase().as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        "" => return Err(SsrfError::InvalidUrl),
        other => return Err(SsrfError::UnsupportedScheme(other.to_owned())),
    };
    if scheme == Scheme::Http && !allow_private_networks {
        return Err(SsrfError::HttpsRequired);
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).ok_or(SsrfError::InvalidUrl)?;
    if authority.contains('@') {
        return Err(SsrfError::UserInfo);
    }
    let (host_raw, port_raw) = if authority.starts_with('[') {
        let close = authority.find(']').ok_or(SsrfError::InvalidHost)?;
        let host = authority.get(..=close).ok_or(SsrfError::InvalidHost)?;
        let after = authority.get(close + 1..).ok_or(SsrfError::InvalidHost)?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(SsrfError::InvalidPort)?),
        };
        (host, port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port_raw {
        None | Some("") => scheme.default_port(),
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(SsrfError::InvalidPort),
                Ok(n) => n,
            }
        }
        Some(_) => return Err(SsrfError::InvalidPort),
    };
    let host = parse_host(host_raw)?;
    if !allow_private_networks {
        match &host {
            Host::Ip(ip) if is_forbidden(*ip) => return Err(SsrfError::ForbiddenAddress(*ip)),
            Host::Domain(d) if is_forbidden_name(d) => {
                return Err(SsrfError::ForbiddenHost(d.clone()));
            }
            _ => {}
        }
    }
    Ok(ParsedTarget { scheme, host, port })
}

/// Checks the addresses a host resolved to: the first forbidden one, if any, as an error.
/// An empty list is refused too (nothing safe to connect to).
pub fn check_resolved(addresses: &[IpAddr], allow_private_networks: bool) -> Result<(), SsrfError> {
    if allow_private_networks {
        return Ok(());
    }
    match addresses.iter().find(|ip| is_forbidden(**ip)) {
        Some(ip) => Err(SsrfError::ForbiddenAddress(*ip)),
        None if addresses.is_empty() => Err(SsrfError::InvalidHost),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forbidden_addresses() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.255",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "2001:db8::1",
            "3fff::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::10.1.2.3",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "2002:a9fe:a9fe::",
        ] {
            assert!(is_forbidden(ip(s)), "{s} should be forbidden");
        }
    }

    #[test]
    fn public_addresses() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "169.253.255.255",
            "192.167.255.255",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "11.0.0.1",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2a00:1450:4001::1",
        ] {
            assert!(!is_forbidden(ip(s)), "{s} should be allowed");
        }
    }

    #[test]
    fn lenient_ipv4_spellings_are_normalised() {
        for (host, expected) in [
            ("2130706433", "127.0.0.1"),
            ("0x7f.1", "127.0.0.1"),
            ("017700000001", "127.0.0.1"),
            ("127.1", "127.0.0.1"),
            ("127.0.1", "127.0.0.1"),
            ("0x7f000001", "127.0.0.1"),
            ("0177.0.0.01", "127.0.0.1"),
            ("0xA9.0xFE.0xA9.0xFE", "169.254.169.254"),
            ("0", "0.0.0.0"),
            ("0x", "0.0.0.0"),
            ("10.0.0.1.", "10.0.0.1"),
            ("8.8.8.8", "8.8.8.8"),
            ("4294967295", "255.255.255.255"),
        ] {
            assert_eq!(
                parse_ipv4_lenient(host),
                Some(expected.parse().unwrap()),
                "{host}"
            );
        }
        for host in [
            "4294967296",
            "256.0.0.1",
            "1.2.3.4.5",
            "1.256.3",
            "08",
            "0x1g",
            "1..2",
            "",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_ipv4_lenient(host), None, "{host}");
        }
    }

    #[test]
    fn hostile_urls_are_refused() {
        use SsrfError::*;
        let cases: Vec<(&str, SsrfError)> = vec![
            ("http://example.com/hook", HttpsRequired),
            ("ftp://example.com/", UnsupportedScheme("ftp".into())),
            ("file:///etc/passwd", UnsupportedScheme("file".into())),
            (
                "gopher://127.0.0.1:6379/_",
                UnsupportedScheme("gopher".into()),
            ),
            ("example.com/hook", InvalidUrl),
            ("://example.com", InvalidUrl),
            ("", InvalidUrl),
            ("https://exa mple.com/", InvalidUrl),
            ("https://example.com\\@127.0.0.1/", InvalidUrl),
            ("https://example.com/\n", InvalidUrl),
            ("https://user:pass@example.com/", UserInfo),
            ("https://example.com@127.0.0.1/", UserInfo),
            ("https:///path", EmptyHost),
            ("https://", EmptyHost),
            ("https://:443/", EmptyHost),
            ("https://example.com:0/", InvalidPort),
            ("https://example.com:65536/", InvalidPort),
            ("https://example.com:44a/", InvalidPort),
            ("https://example.com:-1/", InvalidPort),
            ("https://[::1/", InvalidHost),
            ("https://[::1]x/", InvalidPort),
            ("https://[fe80::1%25eth0]/", InvalidHost),
            ("https://exa$mple.com/", InvalidHost),
            ("https://bücher.example/", InvalidHost),
            ("https://1.2.3.4.5/", InvalidHost),
            ("https://999.1.1.1/", InvalidHost),
            ("https://127.0.0.1/", ForbiddenAddress(ip("127.0.0.1"))),
            (
                "https://127.0.0.1:8443/hook",
                ForbiddenAddress(ip("127.0.0.1")),
            ),
            ("https://2130706433/", ForbiddenAddress(ip("127.0.0.1"))),
            ("https://0x7f.1/", ForbiddenAddress(ip("127.0.0.1"))),
            ("https://017700000001/", ForbiddenAddress(ip("127.0.0.1"))),
            ("https://127.1/", ForbiddenAddress(ip("127.0.0.1"))),
            ("https://0/", ForbiddenAddress(ip("0.0.0.0"))),
            (
                "https://169.254.169.254/latest/meta-data/",
                ForbiddenAddress(ip("169.254.169.254")),
            ),
            (
                "https://0xA9FEA9FE/",
                ForbiddenAddress(ip("169.254.169.254")),
            ),
            ("https://10.0.0.1/", ForbiddenAddress(ip("10.0.0.1"))),
            ("https://172.16.5.4/", ForbiddenAddress(ip("172.16.5.4"))),
            ("https://192.168.0.1/", ForbiddenAddress(ip("192.168.0.1"))),
            ("https://100.64.1.1/", ForbiddenAddress(ip("100.64.1.1"))),
            ("https://[::1]/", ForbiddenAddress(ip("::1"))),
            ("https://[::]/", ForbiddenAddress(ip("::"))),
            (
                "https://[::ffff:127.0.0.1]/",
                ForbiddenAddress(ip("::ffff:127.0.0.1")),
            ),
            (
                "https://[::ffff:7f00:1]/",
                ForbiddenAddress(ip("::ffff:127.0.0.1")),
            ),
            (
                "https://[64:ff9b::a9fe:a9fe]/",
                ForbiddenAddress(ip("64:ff9b::a9fe:a9fe")),
            ),
            ("https://[fd00::1]:8443/", ForbiddenAddress(ip("fd00::1"))),
            ("https://[fe80::1]/", ForbiddenAddress(ip("fe80::1"))),
            ("https://localhost/", ForbiddenHost("localhost".into())),
            ("https://LOCALHOST./", ForbiddenHost("localhost".into())),
            (
                "https://api.localhost/",
                ForbiddenHost("api.localhost".into()),
            ),
            (
                "https://printer.local/",
                ForbiddenHost("printer.local".into()),
            ),
            (
                "https://metadata.google.internal/",
                ForbiddenHost("metadata.google.internal".into()),
            ),
            (
                "https://router.home.arpa/",
                ForbiddenHost("router.home.arpa".into()),
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(check_url(url, false), Err(expected), "{url}");
        }
    }

    #[test]
    fn good_urls_are_parsed() {
        let t = check_url("https://Hooks.Example.com./verifa?x=1#f", false).unwrap();
        assert_eq!(t.scheme, Scheme::Https);
        assert_eq!(t.host, Host::Domain("hooks.example.com".into()));
        assert_eq!(t.port, 443);
        let t = check_url("HTTPS://example.com:8443", false).unwrap();
        assert_eq!(t.port, 8443);
        let t = check_url("https://example.com:/x", false).unwrap();
        assert_eq!(t.port, 443);
        let t = check_url("https://8.8.8.8/x", false).unwrap();
        assert_eq!(t.host, Host::Ip(ip("8.8.8.8")));
        let t = check_url("https://[2606:4700:4700::1111]:444/", false).unwrap();
        assert_eq!(t.host, Host::Ip(ip("2606:4700:4700::1111")));
        assert_eq!(t.port, 444);
        assert_eq!(t.host_str(), "2606:4700:4700::1111");
        assert!(check_url("https://xn--bcher-kva.example/", false).is_ok());
        assert!(check_url("https://localhost-checker.example.com/", false).is_ok());
        assert!(check_url("https://notlocal/", false).is_ok());
    }

    #[test]
    fn private_networks_allowed_for_development() {
        let t = check_url("http://127.0.0.1:8080/hook", true).unwrap();
        assert_eq!(t.scheme, Scheme::Http);
        assert_eq!(t.host, Host::Ip(ip("127.0.0.1")));
        assert_eq!(t.port, 8080);
        assert_eq!(check_url("http://localhost/", true).unwrap().port, 80);
        assert!(check_url("http://2130706433/", true).is_ok());
        // Syntax rules still apply.
        assert_eq!(
            check_url("http://u@localhost/", true),
            Err(SsrfError::UserInfo)
        );
        assert_eq!(
            check_url("ftp://localhost/", true),
            Err(SsrfError::UnsupportedScheme("ftp".into()))
        );
    }

    #[test]
    fn resolved_addresses() {
        assert!(check_resolved(&[ip("8.8.8.8"), ip("2001:4860:4860::8888")], false).is_ok());
        assert_eq!(
            check_resolved(&[ip("8.8.8.8"), ip("10.0.0.1")], false),
            Err(SsrfError::ForbiddenAddress(ip("10.0.0.1")))
        );
        assert!(check_resolved(&[], false).is_err());
        assert!(check_resolved(&[ip("10.0.0.1")], true).is_ok());
        assert_eq!(
            SsrfError::ForbiddenAddress(ip("10.0.0.1")).to_string(),
            "destination address 10.0.0.1 is not allowed"
        );
    }
}
