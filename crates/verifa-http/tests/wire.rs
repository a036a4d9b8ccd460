//! The router served over TCP through `GuardedListener` (issue #12.8): heads hyper would answer
//! with an empty body — a 100 KB URL, 300 header fields, a NUL in a header — get the contract's
//! error body and a request id, after every earlier pipelined request was answered; and ordinary
//! traffic (keep-alive, pipelining, chunked and sized bodies) passes untouched.

mod support;

use serde_json::{Value, json};
use std::net::SocketAddr;
use support::App;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use verifa_http::wire::{GuardedListener, Peer, REFUSED_PATH};

/// One response read off the wire.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts the contract's error body with a request id matching the header.
    fn error(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "{self:?}");
        let body = self.json();
        assert_eq!(body["error"], code, "{body}");
        assert_eq!(body["status_code"], status, "{body}");
        assert!(
            body["detail"].as_str().is_some_and(|d| d.len() > 20),
            "{body}"
        );
        let id = body["request_id"].as_str().expect("request_id");
        assert_eq!(self.header("x-request-id"), Some(id));
        body
    }
}

async fn serve(app: &App) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let service = app
        .router
        .clone()
        .into_make_service_with_connect_info::<Peer>();
    tokio::spawn(async move {
        let _ = axum::serve(GuardedListener::new(listener), service).await;
    });
    addr
}

/// Writes `bytes` on a fresh connection, reads until the server closes it, and splits what
/// came back into responses.
async fn exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<Raw> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may close before taking every byte of a refused request.
    let _ = stream.write_all(bytes).await;
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received).await;
    split(&received)
}

fn split(mut bytes: &[u8]) -> Vec<Raw> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        let httparse::Status::Complete(head) = response.parse(bytes).expect("a response head")
        else {
            panic!("truncated response: {:?}", String::from_utf8_lossy(bytes));
        };
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .expect("responses here are sized");
        out.push(Raw {
            status: response.code.unwrap(),
            headers,
            body: bytes[head..head + length].to_vec(),
        });
        bytes = &bytes[head + length..];
    }
    out
}

fn get(path: &str, extra: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n{extra}\r\n")
}

#[tokio::test]
async fn heads_hyper_refuses_get_the_contract_error() {
    let app = App::new().await;
    let addr = serve(&app).await;

    let long = get(&format!("/healthz?q={}", "a".repeat(100_000)), "");
    let [r] = &exchange(addr, long.as_bytes()).await[..] else {
        panic!("one response")
    };
    let body = r.error(414, "uri_too_long");
    assert!(body["detail"].as_str().unwrap().contains("16384"), "{body}");
    assert_eq!(r.header("connection"), Some("close"));

    let many: String = (0..300).map(|i| format!("x-h{i}: v\r\n")).collect();
    let [r] = &exchange(addr, get("/healthz", &many).as_bytes()).await[..] else {
        panic!("one response")
    };
    r.error(431, "header_fields_too_large");

    let nul = get("/healthz", "x-bad: a\0b\r\n");
    let [r] = &exchange(addr, nul.as_bytes()).await[..] else {
        panic!("one response")
    };
    r.error(400, "bad_request");

    let smuggled =
        "POST /api/v1/sessions HTTP/1.1\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n";
    let [r] = &exchange(addr, smuggled.as_bytes()).await[..] else {
        panic!("one response")
    };
    r.error(400, "bad_request");
}

#[tokio::test]
async fn a_refusal_comes_after_the_answers_to_earlier_requests() {
    let app = App::new().await;
    let addr = serve(&app).await;
    let stream = [
        get("/healthz", ""),
        get("/no-such-page", ""),
        get("/healthz", "x-bad: \0\r\n"),
        // Never read: the connection closes after the refusal.
        get("/healthz", ""),
    ]
    .concat();

    let responses = exchange(addr, stream.as_bytes()).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 404, 400]);
    responses[2].error(400, "bad_request");
}

#[tokio::test]
async fn ordinary_traffic_passes_untouched() {
    let app = App::new().await;
    let addr = serve(&app).await;
    let key = format!("x-api-key: {}\r\n", app.live);
    let sized = json!({"external_ref": "sized \r\n\r\n GET / HTTP/1.1"}).to_string();
    let chunked = json!({"external_ref": "chunked"}).to_string();
    let (first, rest) = chunked.split_at(5);
    let stream = [
        get("/healthz", ""),
        format!(
            "POST /api/v1/sessions HTTP/1.1\r\nhost: l\r\n{key}content-type: application/json\r\ncontent-length: {}\r\n\r\n{sized}",
            sized.len()
        ),
        format!(
            "POST /api/v1/sessions HTTP/1.1\r\nhost: l\r\n{key}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{first}\r\n{:x};ext=1\r\n{rest}\r\n0\r\n\r\n",
            first.len(),
            rest.len()
        ),
        // Asked for directly, the stand-in path is just an unknown route.
        get(REFUSED_PATH, "connection: close\r\n"),
    ]
    .concat();

    let responses = exchange(addr, stream.as_bytes()).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 201, 201, 404], "{responses:?}");
    assert_eq!(
        responses[1].json()["external_ref"],
        "sized \r\n\r\n GET / HTTP/1.1"
    );
    assert_eq!(responses[2].json()["external_ref"], "chunked");
    responses[3].error(404, "not_found");
}
