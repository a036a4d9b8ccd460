//! Host name resolution behind a trait, so the SSRF guard can be tested with scripted answers.

use async_trait::async_trait;
use std::io;
use std::net::IpAddr;

/// Resolves a host name to its addresses (A and AAAA).
#[async_trait]
pub trait HostResolver: Send + Sync + 'static {
    /// Every address of `host` (a DNS name, never an IP literal).
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver, through `tokio::net::lookup_host`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

#[async_trait]
impl HostResolver for SystemResolver {
    async fn resolve(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let addrs = tokio::net::lookup_host((host, 0)).await?;
        let mut ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
        ips.dedup();
        Ok(ips)
    }
}
