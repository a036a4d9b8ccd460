//! Vetting of the HTTP/1 byte stream before hyper parses it: where each request head begins and
//! ends (through `Content-Length` and chunked bodies), and whether the head is one hyper would
//! refuse. Hyper answers such a head itself, with an empty body and no request id; finding it
//! first lets the server answer with the contract's error instead (see [`super`]).
//!
//! Pure and synchronous: it is given the bytes not yet vetted and says how many may pass.

use httparse::{Header, Request, Status};

/// Longest request target accepted (hyper's own limit is 64 KiB; 16 KiB is far above any
/// URL this API builds, and what common proxies allow).
pub const MAX_URI_BYTES: usize = 16 * 1024;
/// Most header fields in one request (hyper's default).
pub const MAX_HEADERS: usize = 100;
/// Largest request head (request line and header fields).
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Largest chunk-size line or trailer section.
const MAX_CHUNK_LINE_BYTES: usize = 4 * 1024;

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Why a request head is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The request target is longer than [`MAX_URI_BYTES`] (414).
    UriTooLong,
    /// More than [`MAX_HEADERS`] fields, or a head over [`MAX_HEAD_BYTES`] (431).
    HeadersTooLarge,
    /// Not a well-formed HTTP/1 request head, or framing that could be read two ways (400).
    Malformed,
}

/// What the vetted prefix of the pending bytes allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The first `n` bytes may pass to hyper.
    Pass(usize),
    /// Nothing can be decided before more bytes arrive.
    NeedMore,
    /// The head at the front is refused.
    Refuse(Refusal),
    /// Stop vetting this connection (HTTP/2, an upgrade or CONNECT, or chunk framing hyper
    /// will judge itself): everything passes from here on.
    PassThrough,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkEnd,
    Trailers,
    Through,
}

/// Tracks one connection's request stream.
#[derive(Debug)]
pub struct Framer {
    state: State,
}

impl Default for Framer {
    fn default() -> Self {
        Self { state: State::Head }
    }
}

impl Framer {
    /// Vets the front of `pending` (bytes not yet vetted) and advances past what passes.
    pub fn vet(&mut self, pending: &[u8]) -> Verdict {
        match self.state {
            State::Through => Verdict::PassThrough,
            State::Head => self.head(pending),
            State::Length(remaining) => self.body(pending, remaining, State::Head),
            State::ChunkData(remaining) => self.body(pending, remaining, State::ChunkEnd),
            State::ChunkSize => self.chunk_size(pending),
            State::ChunkEnd => match line_end(pending) {
                Some((0, n)) => self.pass(n, State::ChunkSize),
                Some(_) => self.through(),
                None if pending.len() < 2 => Verdict::NeedMore,
                None => self.through(),
            },
            State::Trailers => match line_end(pending) {
                Some((0, n)) => self.pass(n, State::Head),
                Some((_, n)) => Verdict::Pass(n),
                None if pending.len() > MAX_CHUNK_LINE_BYTES => self.through(),
                None => Verdict::NeedMore,
            },
        }
    }

    /// How many body bytes may still pass without looking at them (for reading straight into
    /// hyper's buffer).
    pub fn body_remaining(&self) -> Option<u64> {
        match self.state {
            State::Length(n) | State::ChunkData(n) if n > 0 => Some(n),
            _ => None,
        }
    }

    /// Records that `n` body bytes (at most [`body_remaining`](Self::body_remaining)) passed.
    pub fn passed_body(&mut self, n: u64) {
        match self.state {
            State::Length(r) => self.state = next_after(r - n.min(r), State::Length, State::Head),
            State::ChunkData(r) => {
                self.state = next_after(r - n.min(r), State::ChunkData, State::ChunkEnd);
            }
            _ => {}
        }
    }

    fn pass(&mut self, n: usize, next: State) -> Verdict {
        self.state = next;
        Verdict::Pass(n)
    }

    fn through(&mut self) -> Verdict {
        self.state = State::Through;
        Verdict::PassThrough
    }

    fn body(&mut self, pending: &[u8], remaining: u64, after: State) -> Verdict {
        if remaining == 0 {
            self.state = after;
            return self.vet(pending);
        }
        if pending.is_empty() {
            return Verdict::NeedMore;
        }
        let n = usize::try_from(remaining).map_or(pending.len(), |r| r.min(pending.len()));
        self.passed_body(n as u64);
        Verdict::Pass(n)
    }

    fn chunk_size(&mut self, pending: &[u8]) -> Verdict {
        match httparse::parse_chunk_size(pending) {
            Ok(Status::Complete((n, 0))) => self.pass(n, State::Trailers),
            Ok(Status::Complete((n, size))) => self.pass(n, State::ChunkData(size)),
            Ok(Status::Partial) if pending.len() > MAX_CHUNK_LINE_BYTES => self.through(),
            Ok(Status::Partial) => Verdict::NeedMore,
            // Hyper reports a bad chunk to the handler as a body error, which it answers.
            Err(_) => self.through(),
        }
    }

    fn head(&mut self, pending: &[u8]) -> Verdict {
        if pending.is_empty() {
            return Verdict::NeedMore;
        }
        let preface = pending.len().min(H2_PREFACE.len());
        if pending[..preface] == H2_PREFACE[..preface] {
            return if preface == H2_PREFACE.len() {
                self.through()
            } else {
                Verdict::NeedMore
            };
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = Request::new(&mut headers);
        match request.parse(pending) {
            Ok(Status::Partial) => {
                let line = pending.iter().position(|b| *b == b'\n');
                if line.is_none() && pending.len() > MAX_URI_BYTES + 32 {
                    Verdict::Refuse(Refusal::UriTooLong)
                } else if pending.len() > MAX_HEAD_BYTES {
                    Verdict::Refuse(Refusal::HeadersTooLarge)
                } else {
                    Verdict::NeedMore
                }
            }
            Ok(Status::Complete(len)) => {
                if request.path.is_some_and(|p| p.len() > MAX_URI_BYTES) {
                    return Verdict::Refuse(Refusal::UriTooLong);
                }
                if len > MAX_HEAD_BYTES {
                    return Verdict::Refuse(Refusal::HeadersTooLarge);
                }
                let upgrade =
                    request.method == Some("CONNECT") || has(request.headers, "upgrade", |_| true);
                match body_of(request.headers) {
                    Err(()) => Verdict::Refuse(Refusal::Malformed),
                    Ok(_) if upgrade => {
                        self.state = State::Through;
                        Verdict::Pass(len)
                    }
                    Ok(next) => self.pass(len, next),
                }
            }
            Err(httparse::Error::TooManyHeaders) => Verdict::Refuse(Refusal::HeadersTooLarge),
            Err(_) => Verdict::Refuse(Refusal::Malformed),
        }
    }
}

fn next_after(remaining: u64, more: fn(u64) -> State, done: State) -> State {
    if remaining == 0 {
        done
    } else {
        more(remaining)
    }
}

/// Where the first line ends: `(line length without its ending, bytes including it)`.
fn line_end(bytes: &[u8]) -> Option<(usize, usize)> {
    let lf = bytes.iter().position(|b| *b == b'\n')?;
    let content = if lf > 0 && bytes[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    Some((content, lf + 1))
}

fn has(headers: &[Header<'_>], name: &str, test: impl Fn(&[u8]) -> bool) -> bool {
    headers
        .iter()
        .any(|h| h.name.eq_ignore_ascii_case(name) && test(h.value))
}

/// How the body after this head is framed (RFC 9112 §6.3). A head that could be framed two
/// ways — both `Transfer-Encoding` and `Content-Length`, lengths that disagree, a transfer
/// coding that does not end in `chunked` — is refused: it is how requests are smuggled.
fn body_of(headers: &[Header<'_>]) -> Result<State, ()> {
    let mut codings = headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("transfer-encoding"))
        .peekable();
    let mut length: Option<u64> = None;
    for h in headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
    {
        let text = std::str::from_utf8(h.value).map_err(|_| ())?;
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(());
            }
            let n: u64 = part.parse().map_err(|_| ())?;
            if length.is_some_and(|l| l != n) {
                return Err(());
            }
            length = Some(n);
        }
    }
    if codings.peek().is_some() {
        if length.is_some() {
            return Err(());
        }
        let last = codings
            .filter_map(|h| std::str::from_utf8(h.value).ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .rfind(|c| !c.is_empty());
        return match last {
            Some(c) if c.eq_ignore_ascii_case("chunked") => Ok(State::ChunkSize),
            _ => Err(()),
        };
    }
    Ok(match length {
        Some(n) if n > 0 => State::Length(n),
        _ => State::Head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `stream` in pieces of `step` bytes, as a socket might, and returns how many
    /// bytes passed and the first refusal or pass-through.
    fn run(stream: &[u8], step: usize) -> (usize, Option<Verdict>) {
        let mut framer = Framer::default();
        let (mut passed, mut arrived) = (0, 0);
        loop {
            match framer.vet(&stream[passed..arrived]) {
                Verdict::Pass(n) => {
                    assert!(n > 0 && passed + n <= arrived, "passes what arrived");
                    passed += n;
                }
                Verdict::NeedMore if arrived == stream.len() => return (passed, None),
                Verdict::NeedMore => arrived = (arrived + step).min(stream.len()),
                other => return (passed, Some(other)),
            }
        }
    }

    fn everywhere(stream: &[u8]) -> (usize, Option<Verdict>) {
        let whole = run(stream, stream.len().max(1));
        for step in [1, 2, 7, 64] {
            assert_eq!(run(stream, step), whole, "step {step}");
        }
        whole
    }

    #[test]
    fn passes_requests_bodies_and_pipelined_heads() {
        let stream = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
            POST /b HTTP/1.1\r\nContent-Length: 12\r\n\r\n{\"a\":\"\r\n\r\n\"}\
            POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwiki\r\n5;x=y\r\npedia\r\n0\r\nT: 1\r\n\r\n\
            GET /d HTTP/1.1\r\n\r\n";
        assert_eq!(everywhere(stream), (stream.len(), None));
    }

    #[test]
    fn refuses_what_hyper_would_answer_without_a_body() {
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(100_000));
        assert_eq!(
            everywhere(long.as_bytes()).1,
            Some(Verdict::Refuse(Refusal::UriTooLong))
        );
        let many: String = (0..300).map(|i| format!("X-{i}: v\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(
            everywhere(many.as_bytes()).1,
            Some(Verdict::Refuse(Refusal::HeadersTooLarge))
        );
        let huge = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "v".repeat(70_000));
        assert_eq!(
            everywhere(huge.as_bytes()).1,
            Some(Verdict::Refuse(Refusal::HeadersTooLarge))
        );
        for bad in [
            &b"GET / HTTP/1.1\r\nX-Nul: a\0b\r\n\r\n"[..],
            b"G\x01T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        ] {
            assert_eq!(
                everywhere(bad).1,
                Some(Verdict::Refuse(Refusal::Malformed)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_refusal_after_good_requests_passes_them_first() {
        let good = b"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        let stream = [&good[..], b"GET / HTTP/1.1\r\nX: \0\r\n\r\n"].concat();
        assert_eq!(
            everywhere(&stream),
            (good.len(), Some(Verdict::Refuse(Refusal::Malformed)))
        );
    }

    #[test]
    fn hands_over_http2_upgrades_and_bad_chunks() {
        assert_eq!(everywhere(H2_PREFACE).1, Some(Verdict::PassThrough));
        let upgrade = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x00";
        assert_eq!(everywhere(upgrade).1, Some(Verdict::PassThrough));
        let chunk = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(everywhere(chunk).1, Some(Verdict::PassThrough));
    }

    #[test]
    fn body_bytes_can_pass_unseen() {
        let mut framer = Framer::default();
        let head = b"PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
        assert_eq!(framer.vet(head), Verdict::Pass(head.len()));
        assert_eq!(framer.body_remaining(), Some(10));
        framer.passed_body(4);
        assert_eq!(framer.body_remaining(), Some(6));
        framer.passed_body(6);
        assert_eq!(framer.body_remaining(), None);
        assert_eq!(framer.vet(b"GET / HTTP/1.1\r\n\r\n"), Verdict::Pass(18));
    }
}
