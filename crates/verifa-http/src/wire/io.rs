//! A connection whose reads are vetted by a [`Framer`] before hyper sees them. A refused head is
//! replaced by a request for [`REFUSED_PATH`](super::REFUSED_PATH) that closes the connection,
//! so the router answers it — after every earlier pipelined request, with the contract's body
//! and a request id — and nothing the client sent after it is read.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::framing::{Framer, Refusal, Verdict};

/// Bytes read from the socket at a time while vetting.
const READ_CHUNK: usize = 16 * 1024;

/// The refusal a connection's next request stands for (shared with the router's extension).
#[derive(Debug, Clone, Default)]
pub struct RefusalSlot(Arc<Mutex<Option<Refusal>>>);

impl RefusalSlot {
    /// Takes the refusal, if the connection has one.
    pub fn take(&self) -> Option<Refusal> {
        self.0.lock().map(|mut r| r.take()).unwrap_or(None)
    }

    fn set(&self, refusal: Refusal) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(refusal);
        }
    }
}

/// An IO stream with vetted reads.
#[derive(Debug)]
pub struct GuardedIo<S> {
    inner: S,
    framer: Framer,
    /// Read from the socket, not yet handed to hyper; the first `vetted` bytes may go.
    pending: Vec<u8>,
    vetted: usize,
    /// What follows once `pending` is drained.
    then: Then,
    through: bool,
    refusal: RefusalSlot,
}

impl<S> GuardedIo<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            framer: Framer::default(),
            pending: Vec::new(),
            vetted: 0,
            then: Then::Continue,
            through: false,
            refusal: RefusalSlot::default(),
        }
    }

    /// The slot where this connection's refusal is left for the router.
    pub fn refusal(&self) -> RefusalSlot {
        self.refusal.clone()
    }

    fn refuse(&mut self, refusal: Refusal) {
        self.refusal.set(refusal);
        self.pending.clear();
        self.pending.extend_from_slice(super::REFUSED_REQUEST);
        self.vetted = self.pending.len();
        self.then = Then::Stall;
    }
}

/// What a connection reads after its pending bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// More of the stream.
    Continue,
    /// End of stream (the client closed its side).
    Eof,
    /// Nothing, ever: hyper answers the stand-in request and closes the connection itself.
    /// (End of stream here would make it drop the connection before answering.)
    Stall,
}

impl<S: AsyncRead + Unpin> AsyncRead for GuardedIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.vetted > 0 {
                let n = this.vetted.min(out.remaining());
                out.put_slice(&this.pending[..n]);
                this.pending.drain(..n);
                this.vetted -= n;
                return Poll::Ready(Ok(()));
            }
            match this.then {
                Then::Continue => {}
                Then::Eof => return Poll::Ready(Ok(())),
                Then::Stall => return Poll::Pending,
            }
            if this.through {
                if this.pending.is_empty() {
                    return Pin::new(&mut this.inner).poll_read(cx, out);
                }
                this.vetted = this.pending.len();
                continue;
            }
            // A body with a known length needs no look: read it straight into hyper's buffer
            // when all of what hyper has room for belongs to it.
            if this.pending.is_empty()
                && let Some(remaining) = this.framer.body_remaining()
                && remaining >= out.remaining() as u64
            {
                let before = out.filled().len();
                ready!(Pin::new(&mut this.inner).poll_read(cx, out))?;
                let n = out.filled().len() - before;
                this.framer.passed_body(n as u64);
                return Poll::Ready(Ok(()));
            }
            match this.framer.vet(&this.pending) {
                Verdict::Pass(n) => this.vetted = n,
                Verdict::PassThrough => this.through = true,
                Verdict::Refuse(refusal) => this.refuse(refusal),
                Verdict::NeedMore => {
                    let start = this.pending.len();
                    this.pending.resize(start + READ_CHUNK, 0);
                    let mut buf = ReadBuf::new(&mut this.pending[start..]);
                    let polled = Pin::new(&mut this.inner).poll_read(cx, &mut buf);
                    let n = buf.filled().len();
                    this.pending.truncate(start + n);
                    ready!(polled)?;
                    if n == 0 {
                        // End of stream mid-head: hyper gets what there is and judges it.
                        this.vetted = this.pending.len();
                        this.then = Then::Eof;
                    }
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for GuardedIo<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
