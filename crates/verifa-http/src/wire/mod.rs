//! The connection under the router. Hyper answers a request head it cannot parse (a 100 KB URL,
//! 300 header fields, a NUL in a header) by itself, with an empty body and no `X-Request-Id`.
//! [`GuardedListener`] vets every head first ([`framing`]) and turns a refused one into a
//! request for [`REFUSED_PATH`] that [`answer_refusals`] answers with the contract's error
//! body, so every error the server sends carries one and a request id.
//!
//! Serve with `axum::serve(GuardedListener::new(tcp), router.into_make_service_with_connect_info::<Peer>())`.

pub mod framing;
pub mod io;

use std::net::SocketAddr;

use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::serve::{IncomingStream, Listener};
use tokio::net::{TcpListener, TcpStream};

use crate::error::ApiError;
use framing::{MAX_HEAD_BYTES, MAX_HEADERS, MAX_URI_BYTES, Refusal};
use io::{GuardedIo, RefusalSlot};

/// The path a refused head is replaced with. A client asking for it directly gets a 404: the
/// answer is given only when the connection holds a refusal.
pub const REFUSED_PATH: &str = "/.verifa/refused-request";

/// The stand-in request: it closes the connection, so nothing after the refused head is read.
const REFUSED_REQUEST: &[u8] =
    b"GET /.verifa/refused-request HTTP/1.1\r\nhost: refused\r\nconnection: close\r\n\r\n";

/// A TCP listener whose connections are [`GuardedIo`].
#[derive(Debug)]
pub struct GuardedListener(TcpListener);

impl GuardedListener {
    /// Wraps a bound listener.
    pub fn new(listener: TcpListener) -> Self {
        Self(listener)
    }
}

impl Listener for GuardedListener {
    type Io = GuardedIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        // Responses are small and latency matters more than packet count.
        let _ = stream.set_nodelay(true);
        (GuardedIo::new(stream), addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// The connect info of a guarded connection: the peer's address, and its refusal slot.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The remote address.
    pub addr: SocketAddr,
    refusal: RefusalSlot,
}

impl Connected<IncomingStream<'_, GuardedListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, GuardedListener>) -> Self {
        Self {
            addr: *stream.remote_addr(),
            refusal: stream.io().refusal(),
        }
    }
}

/// Middleware: answers the stand-in request of a refused head with the contract's error.
pub async fn answer_refusals(req: Request, next: Next) -> Response {
    if req.uri().path() == REFUSED_PATH
        && let Some(refusal) = req
            .extensions()
            .get::<ConnectInfo<Peer>>()
            .and_then(|peer| peer.0.refusal.take())
    {
        return refusal_error(refusal).into_response();
    }
    next.run(req).await
}

fn refusal_error(refusal: Refusal) -> ApiError {
    match refusal {
        Refusal::UriTooLong => ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!(
                "The request URL is longer than {MAX_URI_BYTES} bytes; send large inputs in a JSON body."
            ),
        ),
        Refusal::HeadersTooLarge => ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header_fields_too_large",
            format!(
                "The request has more than {MAX_HEADERS} header fields or more than {} KiB of them.",
                MAX_HEAD_BYTES / 1024
            ),
        ),
        Refusal::Malformed => ApiError::bad_request(
            "The request is not well-formed HTTP/1.1: check for a forbidden character (such as NUL) \
             in a header, the method and version, and that the body is framed one way only.",
        ),
    }
}
