//! Shared by the benchmark examples (not an example itself): a throw-away database (SQLite
//! file, or a fresh database on a Postgres server, dropped afterwards), CPU readings from /proc,
//! and percentile/millisecond formatting.
#![allow(dead_code)]

use anyhow::{Context as _, bail};
use sea_orm::ConnectionTrait as _;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// CPU usage from /proc (Linux; `None` elsewhere).

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cpu {
    pub(crate) process: u64,
    pub(crate) busy: u64,
    pub(crate) total: u64,
}

pub(crate) fn cpu() -> Option<Cpu> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields after the command: state is index 0, utime 11, stime 12.
    let process = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    let all = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<u64> = all
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some(Cpu {
        process,
        busy: total - idle,
        total,
    })
}

/// (this process in cores, machine busy cores) between two readings.
pub(crate) fn cpu_use(
    a: Option<Cpu>,
    b: Option<Cpu>,
    wall: Duration,
    cores: f64,
) -> Option<(f64, f64)> {
    let (a, b) = (a?, b?);
    let ticks = 100.0; // USER_HZ on Linux
    let process = (b.process - a.process) as f64 / ticks / wall.as_secs_f64().max(1e-9);
    let machine = (b.busy - a.busy) as f64 / ((b.total - a.total).max(1)) as f64;
    Some((process, machine * cores))
}

// ---------------------------------------------------------------------------------------------
// The database.

pub(crate) struct BenchDb {
    pub(crate) url: String,
    pub(crate) backend: &'static str,
    pub(crate) cleanup: Cleanup,
}

pub(crate) enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
    Keep,
}

/// Replaces the database name of a `postgres://…/db?query` URL.
pub(crate) fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .context("a Postgres URL has a scheme")?;
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    Ok(format!("{scheme}://{authority}/{name}{query}"))
}

pub(crate) async fn bench_db(arg: &str, keep: bool) -> anyhow::Result<BenchDb> {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    if arg == "sqlite" {
        let path = std::env::temp_dir().join(format!("verifa-bench-{}.db", &tag[..12]));
        return Ok(BenchDb {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            backend: "sqlite",
            cleanup: if keep {
                Cleanup::Keep
            } else {
                Cleanup::File(path)
            },
        });
    }
    if arg.starts_with("sqlite:") {
        return Ok(BenchDb {
            url: arg.to_owned(),
            backend: "sqlite",
            cleanup: Cleanup::Keep,
        });
    }
    let server = if arg == "postgres" {
        std::env::var("VERIFA_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .context("--database-url postgres needs VERIFA_TEST_DATABASE_URL")?
    } else {
        arg.to_owned()
    };
    if !(server.starts_with("postgres://") || server.starts_with("postgresql://")) {
        bail!("--database-url must be `sqlite`, `sqlite://PATH`, `postgres` or `postgres://…`");
    }
    let name = format!("verifa_bench_{}", &tag[..12]);
    let admin = sea_orm::Database::connect(server.as_str())
        .await
        .context("connecting to the Postgres server")?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .context("creating the bench database")?;
    let _ = admin.close().await;
    Ok(BenchDb {
        url: with_database(&server, &name)?,
        backend: "postgres",
        cleanup: if keep {
            Cleanup::Keep
        } else {
            Cleanup::Postgres {
                admin_url: server,
                name,
            }
        },
    })
}

impl BenchDb {
    pub(crate) async fn remove(self) {
        match self.cleanup {
            Cleanup::Keep => eprintln!("bench: kept {}", self.url),
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(admin) = sea_orm::Database::connect(admin_url.as_str()).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    if let Err(e) = admin.execute_unprepared(&sql).await {
                        eprintln!("bench: warning: could not drop {name}: {e}");
                    }
                    let _ = admin.close().await;
                }
            }
        }
    }
}

pub(crate) fn pct(v: &[Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

pub(crate) fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1000.0;
    if m >= 100.0 {
        format!("{m:.0} ms")
    } else {
        format!("{m:.1} ms")
    }
}
