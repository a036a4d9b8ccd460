//! The DNS resolver installed in the HTTP client: every name the client connects to is resolved
//! here, and the answer is refused unless every address passes the SSRF rules. The connector
//! only ever sees validated addresses, which pins connections to them and defeats DNS rebinding.

use crate::resolver::HostResolver;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use verifa_domain::webhooks::ssrf::{SsrfError, check_resolved};

/// Refusal raised inside the HTTP client when a resolved address is not allowed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GuardRefusal(pub SsrfError);

/// Validating resolver for reqwest.
pub struct GuardedDns {
    inner: Arc<dyn HostResolver>,
    allow_private_networks: bool,
}

impl GuardedDns {
    /// Wraps `inner`; with `allow_private_networks` the answers are passed through unchecked.
    pub fn new(inner: Arc<dyn HostResolver>, allow_private_networks: bool) -> Self {
        GuardedDns {
            inner,
            allow_private_networks,
        }
    }

    /// Resolves and validates `host` (shared by the pre-check and the client's connector).
    pub async fn resolve_checked(
        inner: &dyn HostResolver,
        host: &str,
        allow_private_networks: bool,
    ) -> Result<Vec<IpAddr>, ResolveFailure> {
        let ips = inner
            .resolve(host)
            .await
            .map_err(|e| ResolveFailure::Dns(format!("DNS resolution of {host} failed: {e}")))?;
        if ips.is_empty() {
            return Err(ResolveFailure::Dns(format!(
                "DNS resolution of {host} returned no address"
            )));
        }
        check_resolved(&ips, allow_private_networks).map_err(ResolveFailure::Refused)?;
        Ok(ips)
    }
}

/// Why a host could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ResolveFailure {
    /// Resolution failed or returned nothing.
    #[error("{0}")]
    Dns(String),
    /// A resolved address is forbidden.
    #[error("{0}")]
    Refused(SsrfError),
}

impl Resolve for GuardedDns {
    fn resolve(&self, name: Name) -> Resolving {
        let inner = Arc::clone(&self.inner);
        let allow = self.allow_private_networks;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            match Self::resolve_checked(inner.as_ref(), &host, allow).await {
                Ok(ips) => {
                    // The connector replaces port 0 with the URL's port.
                    let addrs: Addrs = Box::new(
                        ips.into_iter()
                            .map(|ip| SocketAddr::new(ip, 0))
                            .collect::<Vec<_>>()
                            .into_iter(),
                    );
                    Ok(addrs)
                }
                Err(ResolveFailure::Refused(e)) => {
                    tracing::warn!(host = %host, error = %e, "webhook connection refused by SSRF guard");
                    Err(Box::new(GuardRefusal(e)) as Box<dyn StdError + Send + Sync>)
                }
                Err(ResolveFailure::Dns(msg)) => {
                    Err(Box::new(std::io::Error::other(msg)) as Box<dyn StdError + Send + Sync>)
                }
            }
        })
    }
}

/// The guard's refusal somewhere in an error's source chain, if any.
pub fn find_refusal<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a GuardRefusal> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(r) = e.downcast_ref::<GuardRefusal>() {
            return Some(r);
        }
        current = e.source();
    }
    None
}
