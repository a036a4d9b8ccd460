//! Webhook transport adapter: implements [`verifa_ports::webhooks::WebhookTransport`] with
//! reqwest (rustls), hardened for sending requests to customer-controlled URLs.
//!
//! - Redirects are never followed (a 3xx is returned as the attempt's status); system proxies
//!   are ignored (a proxy would resolve names out of the guard's sight).
//! - SSRF guard at delivery time ([`verifa_domain::webhooks::ssrf`]): the URL is re-checked, the
//!   host is resolved, and the attempt is refused when **any** resolved address is forbidden.
//!   The HTTP client resolves names only through [`guard::GuardedDns`], which validates every
//!   address it hands to the connector, so the connection is pinned to validated addresses and
//!   a DNS-rebinding answer (public at check time, private at connect time) is refused too.
//! - Name resolution sits behind the small [`resolver::HostResolver`] trait
//!   ([`resolver::SystemResolver`] uses `tokio::net::lookup_host`) so tests can script DNS.
//! - `User-Agent: Verifa-Webhooks/<crate version>`; the whole attempt (DNS, connect, response
//!   headers, body excerpt) is bounded by the request's timeout and reported as `"timeout"`.

pub mod guard;
pub mod resolver;
pub mod transport;

pub use resolver::{HostResolver, SystemResolver};
pub use transport::{HttpTransport, TransportBuildError, USER_AGENT};
