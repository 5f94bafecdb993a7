//! The destination check: a tenant must not reach the host's network through an endpoint.
//!
//! Every address a sink connects to passes [`DestinationPolicy::check`]: loopback,
//! private, link-local (the cloud metadata address among them), shared (CGNAT),
//! multicast, reserved and unspecified addresses are refused, and so is this server's own
//! listen address (no stream delivers into its own ingest), unless the operator allowed
//! them (`--allow-destinations`: CIDRs and host names). Names are resolved here and the
//! client connects to the addresses that passed: a name that resolved to a public address
//! when the stream was saved and resolves to a private one later is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The operator setting named in every refusal.
pub const ALLOW_SETTING: &str = "--allow-destinations";

/// One exception the operator opened: a network, or a host name (`*.corp.example` for
/// every name under it).
#[derive(Clone, Debug, PartialEq)]
pub enum Allowed {
    Net(ipnet::IpNet),
    Host(String),
}

impl std::str::FromStr for Allowed {
    type Err = String;

    fn from_str(text: &str) -> Result<Allowed, String> {
        let text = text.trim();
        if let Ok(net) = text.parse::<ipnet::IpNet>() {
            return Ok(Allowed::Net(net.trunc()));
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            return Ok(Allowed::Net(ipnet::IpNet::from(ip)));
        }
        let name = text.strip_prefix("*.").unwrap_or(text);
        let valid = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(format!(
                "{text:?} is neither a CIDR (10.0.0.0/8), an address, nor a host name"
            ));
        }
        Ok(Allowed::Host(text.to_ascii_lowercase()))
    }
}

/// Why a destination is refused, worded for the field it came from ("Endpoint URL: …").
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(String);

/// What resolving a destination can end in, besides addresses.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DestinationError {
    /// Will not change by retrying: the operator must allow it or the user change it.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The name has no address now (DNS down, name not yet created): may change.
    #[error("cannot resolve {host}: {reason}")]
    Unresolved { host: String, reason: String },
}

impl DestinationError {
    /// The destination error behind a client's error, if that is why it failed.
    pub fn find_in<'a>(
        error: &'a (dyn std::error::Error + 'static),
    ) -> Option<&'a DestinationError> {
        let mut current = Some(error);
        while let Some(e) = current {
            if let Some(found) = e.downcast_ref::<DestinationError>() {
                return Some(found);
            }
            current = e.source();
        }
        None
    }
}

/// How destination names are resolved.
pub enum Resolver {
    /// The system's resolver (`getaddrinfo`: `/etc/hosts`, then DNS).
    System,
    /// A DNS server of the operator's choice (`--destination-dns`).
    Dns(Box<hickory_resolver::TokioResolver>),
}

impl Resolver {
    /// A resolver asking only `server` (UDP, then TCP), caching nothing: each connection
    /// sees the current answer.
    pub fn dns_server(server: SocketAddr) -> Resolver {
        use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
        let servers = NameServerConfigGroup::from_ips_clear(&[server.ip()], server.port(), true);
        let config = ResolverConfig::from_parts(None, Vec::new(), servers);
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        options.timeout = std::time::Duration::from_secs(3);
        options.attempts = 1;
        let resolver = hickory_resolver::Resolver::builder_with_config(
            config,
            hickory_resolver::name_server::TokioConnectionProvider::default(),
        )
        .with_options(options)
        .build();
        Resolver::Dns(Box::new(resolver))
    }

    async fn lookup(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        match self {
            Resolver::System => tokio::net::lookup_host((host, port))
                .await
                .map(Iterator::collect)
                .map_err(|e| e.to_string()),
            Resolver::Dns(resolver) => resolver
                .lookup_ip(host)
                .await
                .map(|ips| ips.iter().map(|ip| SocketAddr::new(ip, port)).collect())
                .map_err(|e| e.to_string()),
        }
    }
}

/// The operator's exceptions, this server's own addresses, and the resolver.
pub struct DestinationPolicy {
    allowed: Vec<Allowed>,
    own: Vec<SocketAddr>,
    resolver: Resolver,
}

impl std::fmt::Debug for DestinationPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DestinationPolicy")
            .field("allowed", &self.allowed)
            .field("own", &self.own)
            .finish_non_exhaustive()
    }
}

impl DestinationPolicy {
    /// `own`: the addresses this server listens on (refused even when allowed).
    pub fn new(allowed: Vec<Allowed>, own: Vec<SocketAddr>, resolver: Resolver) -> Self {
        DestinationPolicy {
            allowed,
            own,
            resolver,
        }
    }

    /// Whether `addr`, reached under the name `host`, may be connected to. Port 0 means
    /// "not known here" (the S3 client resolves without the port).
    pub fn check(&self, host: &str, addr: SocketAddr) -> Result<(), Refusal> {
        let ip = canonical(addr.ip());
        if self.is_own(ip, addr.port()) {
            return Err(Refusal(format!(
                "{} is this server's own address: a stream cannot deliver into this server",
                SocketAddr::new(ip, addr.port())
            )));
        }
        if self.allows_name(host) || self.allows_ip(ip) {
            return Ok(());
        }
        match refused_kind(ip) {
            Some(kind) => Err(Refusal(format!(
                "{ip} is {kind}; the operator can allow it with {ALLOW_SETTING}"
            ))),
            None => Ok(()),
        }
    }

    /// The addresses of `host` that may be connected to, or why none may.
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Vec<SocketAddr>, DestinationError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = host.parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, port);
            self.check(host, addr)?;
            return Ok(vec![addr]);
        }
        let found = self.resolver.lookup(host, port).await.map_err(|reason| {
            DestinationError::Unresolved {
                host: host.to_string(),
                reason,
            }
        })?;
        let mut refused = None;
        let allowed: Vec<SocketAddr> = found
            .into_iter()
            .filter(|addr| match self.check(host, *addr) {
                Ok(()) => true,
                Err(refusal) => {
                    refused.get_or_insert(refusal);
                    false
                }
            })
            .collect();
        match refused {
            Some(refusal) if allowed.is_empty() => Err(refusal.into()),
            _ if allowed.is_empty() => Err(DestinationError::Unresolved {
                host: host.to_string(),
                reason: "no address".into(),
            }),
            _ => Ok(allowed),
        }
    }

    /// The check when a stream is saved or tested: refused addresses are refused; a name
    /// that does not resolve yet passes (it is checked at every connection).
    pub async fn check_destination(&self, host: &str, port: u16) -> Result<(), Refusal> {
        match self.resolve(host, port).await {
            Err(DestinationError::Refused(refusal)) => Err(refusal),
            _ => Ok(()),
        }
    }

    fn is_own(&self, ip: IpAddr, port: u16) -> bool {
        port != 0
            && self.own.iter().any(|own| {
                own.port() == port
                    && (canonical(own.ip()) == ip
                        || (own.ip().is_unspecified() && refused_kind(ip).is_some()))
            })
    }

    fn allows_name(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.allowed.iter().any(|allowed| match allowed {
            Allowed::Host(name) => match name.strip_prefix("*.") {
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|rest| rest.ends_with('.')),
                None => *name == host,
            },
            Allowed::Net(_) => false,
        })
    }

    fn allows_ip(&self, ip: IpAddr) -> bool {
        self.allowed.iter().any(|allowed| match allowed {
            Allowed::Net(net) => net.contains(&ip),
            Allowed::Host(_) => false,
        })
    }
}

/// IPv4 addresses written as IPv6 (`::ffff:10.0.0.1`, NAT64 `64:ff9b::10.0.0.1`) are
/// judged as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let [a, b, _, _, _, _, g, h] = v6.segments();
            if a == 0x64 && b == 0xff9b && v6.segments()[2..6].iter().all(|s| *s == 0) {
                return IpAddr::V4(Ipv4Addr::new(
                    (g >> 8) as u8,
                    g as u8,
                    (h >> 8) as u8,
                    h as u8,
                ));
            }
            IpAddr::V6(v6)
        }
        v4 => v4,
    }
}

/// What kind of non-public address `ip` is, worded to follow "… is".
fn refused_kind(ip: IpAddr) -> Option<&'static str> {
    match canonical(ip) {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b) {
        (0, _) => "an unspecified address",
        (127, _) => "a loopback address",
        (10, _) | (192, 168) => "a private address",
        (172, 16..=31) => "a private address",
        (169, 254) if ip == Ipv4Addr::new(169, 254, 169, 254) => {
            "the cloud metadata address (link-local)"
        }
        (169, 254) => "a link-local address",
        (100, 64..=127) => "a shared (CGNAT) address",
        (224..=239, _) => "a multicast address",
        (240..=255, _) => "a reserved address",
        (192, 0) if c == 0 => "a reserved address",
        (198, 18..=19) => "a reserved (benchmarking) address",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_unspecified() {
        "an unspecified address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        "a private address"
    } else if first & 0xffc0 == 0xfe80 {
        "a link-local address"
    } else if first & 0xff00 == 0xff00 {
        "a multicast address"
    } else {
        return None;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allowed: &[&str], own: &[&str]) -> DestinationPolicy {
        DestinationPolicy::new(
            allowed.iter().map(|a| a.parse().unwrap()).collect(),
            own.iter().map(|a| a.parse().unwrap()).collect(),
            Resolver::System,
        )
    }

    fn check(policy: &DestinationPolicy, host: &str, addr: &str) -> Result<(), String> {
        policy
            .check(host, addr.parse().unwrap())
            .map_err(|r| r.to_string())
    }

    #[test]
    fn the_host_network_is_refused_by_default() {
        let p = policy(&[], &[]);
        for (addr, kind) in [
            ("127.0.0.1:80", "a loopback address"),
            ("10.0.0.5:443", "a private address"),
            ("172.16.0.1:443", "a private address"),
            ("172.31.255.1:443", "a private address"),
            ("192.168.1.1:443", "a private address"),
            ("169.254.169.254:80", "the cloud metadata address"),
            ("169.254.1.1:80", "a link-local address"),
            ("100.64.0.1:80", "a shared (CGNAT) address"),
            ("224.0.0.1:80", "a multicast address"),
            ("0.0.0.0:80", "an unspecified address"),
            ("255.255.255.255:80", "a reserved address"),
            ("[::1]:80", "a loopback address"),
            ("[fd00::1]:80", "a private address"),
            ("[fe80::1]:80", "a link-local address"),
            ("[ff02::1]:80", "a multicast address"),
            ("[::]:80", "an unspecified address"),
            ("[::ffff:10.0.0.5]:80", "a private address"),
            ("[64:ff9b::a9fe:a9fe]:80", "the cloud metadata address"),
        ] {
            let refusal = check(&p, "name", addr).unwrap_err();
            assert!(refusal.contains(kind), "{addr}: {refusal}");
            assert!(
                refusal.contains("--allow-destinations"),
                "{addr}: {refusal}"
            );
        }
        let refusal = check(&p, "x", "10.0.0.5:443").unwrap_err();
        assert_eq!(
            refusal,
            "10.0.0.5 is a private address; the operator can allow it with --allow-destinations"
        );
        for addr in ["93.184.216.34:443", "172.32.0.1:443", "[2606:4700::1]:443"] {
            assert_eq!(check(&p, "name", addr), Ok(()), "{addr}");
        }
    }

    #[test]
    fn the_operator_opens_networks_and_names_but_never_the_server_itself() {
        let p = policy(
            &[
                "10.1.0.0/16",
                "127.0.0.1",
                "siem.internal",
                "*.corp.example",
            ],
            &["127.0.0.1:3000"],
        );
        assert_eq!(check(&p, "x", "10.1.2.3:443"), Ok(()));
        assert!(check(&p, "x", "10.2.0.1:443").is_err());
        assert_eq!(check(&p, "SIEM.internal", "10.9.9.9:443"), Ok(()));
        assert_eq!(check(&p, "a.b.corp.example", "192.168.0.9:443"), Ok(()));
        assert!(check(&p, "corp.example", "192.168.0.9:443").is_err());
        assert!(check(&p, "evilcorp.example", "192.168.0.9:443").is_err());
        assert_eq!(check(&p, "x", "127.0.0.1:9000"), Ok(()));
        let own = check(&p, "x", "127.0.0.1:3000").unwrap_err();
        assert!(own.contains("this server's own address"), "{own}");

        let any = policy(&["127.0.0.0/8"], &["0.0.0.0:3000"]);
        assert!(check(&any, "x", "127.0.0.2:3000").is_err());
        assert_eq!(check(&any, "x", "127.0.0.2:3001"), Ok(()));
    }

    #[test]
    fn exceptions_are_parsed_or_named() {
        assert_eq!(
            "10.0.0.0/8".parse::<Allowed>(),
            Ok(Allowed::Net("10.0.0.0/8".parse().unwrap()))
        );
        assert_eq!(
            "Siem.Example".parse::<Allowed>(),
            Ok(Allowed::Host("siem.example".into()))
        );
        let error = "10.0.0.0/99".parse::<Allowed>().unwrap_err();
        assert!(error.contains("neither a CIDR"), "{error}");
    }

    #[tokio::test]
    async fn a_name_is_checked_on_the_addresses_it_resolves_to() {
        let p = policy(&[], &[]);
        let refused = p.resolve("localhost", 80).await.unwrap_err();
        assert!(
            matches!(&refused, DestinationError::Refused(r) if r.to_string().contains("loopback")),
            "{refused:?}"
        );
        assert!(
            p.check_destination("no-such-name.invalid", 80)
                .await
                .is_ok()
        );
        let allowed = policy(&["localhost"], &[]);
        assert!(!allowed.resolve("localhost", 80).await.unwrap().is_empty());
    }
}
