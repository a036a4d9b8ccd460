//! Durability of workflow runs with the real `verifa` binary:
//! - a server killed with SIGKILL in the middle of many runs is restarted and every run
//!   completes, with each node's result recorded exactly once;
//! - two servers on one Postgres share the runs without executing any run twice;
//! - SIGTERM shuts a server down gracefully (exit status 0).

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const MRZ: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
const JPEG: &[u8] =
    b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00durability";

/// Calls seen by the vendor stub: check id → process tags that executed it.
type Calls = Arc<Mutex<BTreeMap<String, Vec<String>>>>;

/// A vendor answering face_match after a short delay, recording which process called.
async fn vendor_stub(delay: Duration) -> (String, Calls) {
    let calls: Calls = Arc::default();
    let seen = calls.clone();
    let router = axum::Router::new().route(
        "/{tag}/checks/{policy}",
        axum::routing::post(move |axum::extract::Path((tag, _policy)): axum::extract::Path<(String, String)>, axum::Json(body): axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                tokio::time::sleep(delay).await;
                let id = body["check_id"].as_str().unwrap_or_default().to_owned();
                seen.lock().unwrap().entry(id).or_default().push(tag);
                axum::Json(json!({"status": "passed", "output": {"face_match_score": 0.91, "passed": true}}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}"), calls)
}

struct Server {
    child: Child,
    base: String,
    /// Secrets printed on first start (live, sandbox).
    keys: Option<(String, String)>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(db_url: &str, dir: &std::path::Path, vendor: &str) -> Server {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_verifa"))
        .arg("serve")
        .env("VERIFA_ENV", "test")
        .env("VERIFA_CONFIG_DIR", dir.join("no-config"))
        .env("VERIFA__DATABASE__URL", db_url)
        .env("VERIFA__SERVER__ADDR", format!("127.0.0.1:{port}"))
        .env("VERIFA__BOOTSTRAP__ENABLED", "true")
        .env("VERIFA__STORAGE__PATH", dir.join("documents"))
        .env("VERIFA__CHECKS__VENDOR__BASE_URL", vendor)
        .env("VERIFA__RUNS__LEASE_SECS", "5")
        .env("VERIFA__RUNS__POLL_INTERVAL_MS", "20")
        .env("VERIFA__WEBHOOKS__POLL_INTERVAL_MS", "500")
        .env("VERIFA__SERVER__SHUTDOWN_GRACE_SECS", "5")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start verifa");
    let stdout = child.stdout.take().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut lines = BufReader::new(stdout).lines();
    let mut keys = (None, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut ready = false;
    loop {
        assert!(Instant::now() < deadline, "server did not become ready");
        // Keys are printed before the listener starts; read what is there without blocking long
        // (once more after readiness, so a line still in the pipe when /readyz answered counts).
        while let Ok(Ok(Some(line))) =
            tokio::time::timeout(Duration::from_millis(20), lines.next_line()).await
        {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["live", "key", _, secret] => keys.0 = Some((*secret).to_owned()),
                ["sandbox", "key", _, secret] => keys.1 = Some((*secret).to_owned()),
                _ => {}
            }
        }
        if ready {
            break;
        }
        ready = http
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if !ready {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Server {
        child,
        base,
        keys: keys.0.zip(keys.1),
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .header("x-api-key", &self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn upload(&self, session: &str, document_type: &str, text: Option<&str>) {
        let boundary = "durability-boundary";
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"document_type\"\r\n\r\n{document_type}\r\n").into_bytes();
        if let Some(t) = text {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n{t}\r\n"
                )
                .into_bytes(),
            );
        }
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f.jpg\"\r\n\r\n").into_bytes());
        body.extend_from_slice(JPEG);
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let resp = self
            .http
            .post(format!("{}/api/v1/sessions/{session}/documents", self.base))
            .header("x-api-key", &self.key)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "upload");
    }

    /// Creates the workflow and `n` submitted sessions; returns the session ids.
    async fn submit_sessions(&self, n: usize) -> Vec<String> {
        let graph = json!({"entry": "start", "nodes": {
            "start": {"type": "start", "next": "ocr"},
            "ocr": {"type": "policy", "policy": "document_ocr", "config": {}, "on_pass": "face", "on_fail": "reject"},
            "face": {"type": "policy", "policy": "face_match", "config": {}, "on_pass": "age", "on_fail": "review"},
            "age": {"type": "policy", "policy": "age_verification", "config": {"minimum_age": 18}, "on_pass": "approve", "on_fail": "reject"},
            "approve": {"type": "terminal", "outcome": "approved"},
            "reject": {"type": "terminal", "outcome": "rejected"},
            "review": {"type": "terminal", "outcome": "needs_review"}}});
        let (status, _) = self
            .call(
                reqwest::Method::POST,
                "/workflows",
                Some(json!({"name": "Durable", "graph": graph, "is_default": true})),
            )
            .await;
        assert_eq!(status, 201);
        let mut ids = Vec::new();
        for i in 0..n {
            let (status, s) = self
                .call(
                    reqwest::Method::POST,
                    "/sessions",
                    Some(json!({"external_ref": format!("user_{i}")})),
                )
                .await;
            assert_eq!(status, 201);
            let id = s["id"].as_str().unwrap().to_owned();
            self.upload(&id, "id_front", Some(MRZ)).await;
            self.upload(&id, "selfie", None).await;
            let (status, _) = self
                .call(
                    reqwest::Method::POST,
                    &format!("/sessions/{id}/submit"),
                    None,
                )
                .await;
            assert_eq!(status, 200);
            ids.push(id);
        }
        ids
    }

    async fn completed(&self) -> u64 {
        self.call(
            reqwest::Method::GET,
            "/sessions?status=completed&limit=1",
            None,
        )
        .await
        .1["pagination"]["total"]
            .as_u64()
            .unwrap_or(0)
    }

    async fn wait_all_completed(&self, n: u64, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let done = self.completed().await;
            if done == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "only {done} of {n} runs completed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every node of every run recorded exactly once, with attempt 1.
    async fn assert_each_node_once(&self, ids: &[String]) {
        for id in ids {
            let (_, run) = self
                .call(
                    reqwest::Method::GET,
                    &format!("/sessions/{id}/workflow-run"),
                    None,
                )
                .await;
            assert_eq!(run["final_status"], "approved", "{run}");
            for policy in [
                "document_ocr",
                "watchlist_screening",
                "risk_assessment",
                "face_match",
                "age_verification",
            ] {
                let (_, a) = self
                    .call(
                        reqwest::Method::GET,
                        &format!("/sessions/{id}/verifications/{policy}/attempts"),
                        None,
                    )
                    .await;
                let attempts = a["attempts"].as_array().unwrap();
                assert_eq!(attempts.len(), 1, "{id} {policy}: {a}");
                assert_eq!(attempts[0]["attempt"], 1);
            }
        }
    }
}

fn terminate(child: &Child) {
    let pid = child.id().expect("pid").to_string();
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_loses_no_run_and_repeats_no_node() {
    let dir = tempfile::tempdir().unwrap();
    let db_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("verifa.db").display()
    );
    let (vendor, calls) = vendor_stub(Duration::from_millis(40)).await;
    let mut first = start(&db_url, dir.path(), &format!("{vendor}/one")).await;
    let (live, _) = first.keys.clone().expect("first start prints the keys");
    let api = Api {
        http: reqwest::Client::new(),
        base: first.base.clone(),
        key: live.clone(),
    };
    let n = 30;
    let ids = api.submit_sessions(n).await;
    // Kill it while runs are in flight: some done, most not.
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.completed().await < 3 {
        assert!(
            Instant::now() < deadline,
            "no run completed before the kill"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.kill().await.unwrap();
    let done_before = calls.lock().unwrap().len();
    assert!(
        done_before < n,
        "the kill must land mid-run ({done_before} of {n} face matches done)"
    );

    let mut second = start(&db_url, dir.path(), &format!("{vendor}/two")).await;
    assert!(second.keys.is_none(), "a restart bootstraps nothing");
    let api = Api {
        http: reqwest::Client::new(),
        base: second.base.clone(),
        key: live,
    };
    api.wait_all_completed(n as u64, Duration::from_secs(90))
        .await;
    api.assert_each_node_once(&ids).await;
    // The vendor saw each check at least once (a call in flight at the kill may repeat, with
    // the same attempt number — at-least-once — but only one result is recorded).
    let seen = calls.lock().unwrap().clone();
    let runs: BTreeSet<&str> = seen.keys().filter_map(|k| k.split(':').next()).collect();
    assert_eq!(runs.len(), n);
    assert!(
        seen.keys().all(|k| k.ends_with(":1")),
        "attempt numbers never move on a re-execution"
    );

    // SIGTERM: graceful shutdown, exit status 0.
    terminate(&second.child);
    let status = tokio::time::timeout(Duration::from_secs(20), second.child.wait())
        .await
        .expect("stops in time")
        .unwrap();
    assert!(status.success(), "graceful shutdown exits 0, got {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_share_runs_without_overlap() {
    let db = verifa_testkit::TestDatabase::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let (vendor, calls) = vendor_stub(Duration::from_millis(25)).await;
    let a = start(&db.url, dir.path(), &format!("{vendor}/a")).await;
    let (live, _) = a.keys.clone().expect("the first server bootstraps");
    let b = start(&db.url, dir.path(), &format!("{vendor}/b")).await;
    let api = Api {
        http: reqwest::Client::new(),
        base: a.base.clone(),
        key: live,
    };
    let n = 40;
    let ids = api.submit_sessions(n).await;
    api.wait_all_completed(n as u64, Duration::from_secs(90))
        .await;
    api.assert_each_node_once(&ids).await;
    let seen = calls.lock().unwrap().clone();
    let mut by_process: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (check, tags) in &seen {
        assert_eq!(
            tags.len(),
            1,
            "check {check} executed more than once: {tags:?}"
        );
        let run = check.split(':').next().unwrap().to_owned();
        by_process.entry(tags[0].clone()).or_default().insert(run);
    }
    let on_a = by_process.get("a").cloned().unwrap_or_default();
    let on_b = by_process.get("b").cloned().unwrap_or_default();
    assert_eq!(on_a.len() + on_b.len(), n, "every run executed once");
    assert!(on_a.is_disjoint(&on_b), "no run executed by both servers");
    assert!(
        !on_a.is_empty() && !on_b.is_empty(),
        "both servers did work: a={} b={}",
        on_a.len(),
        on_b.len()
    );
    drop((a, b));
}
