//! One throw-away Postgres container for a test run, owned by the xtask process.
//!
//! [`PostgresContainer`] holds its own tokio runtime and the testcontainers handle; dropping it
//! removes the container (also on an error path). It is never kept in a `static`: Rust does not
//! drop statics, and the container would leak.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use testcontainers_modules::testcontainers::core::{IntoContainerPort as _, WaitFor};
use testcontainers_modules::testcontainers::runners::AsyncRunner as _;
use testcontainers_modules::testcontainers::{ContainerAsync, GenericImage, ImageExt as _};

use crate::postgres_image;

const READY: &str = "database system is ready to accept connections";

/// A running Postgres container; removed on drop.
pub struct PostgresContainer {
    runtime: tokio::runtime::Runtime,
    container: Option<ContainerAsync<GenericImage>>,
    /// `postgres://postgres@<address>:<port>/postgres` (trust auth, no secret): the container's
    /// bridge address when the host reaches it, else the published port on 127.0.0.1.
    pub url: String,
}

impl PostgresContainer {
    /// Starts a container from the local image (which must exist) and waits until it accepts
    /// connections.
    pub fn start() -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("could not build a tokio runtime")?;
        // While we own a container, Ctrl-C must not kill xtask before it removes the container:
        // the test runner (same process group) gets the signal and stops, then we clean up.
        runtime.spawn(async {
            while tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "xtask: interrupted; waiting for the tests to stop, then removing the container"
                );
            }
        });
        let started = Instant::now();
        eprintln!(
            "xtask: starting a container from {}",
            postgres_image::reference()
        );
        let image = GenericImage::new(postgres_image::NAME, postgres_image::TAG)
            .with_exposed_port(5432.tcp())
            .with_wait_for(WaitFor::message_on_stderr(READY))
            .with_startup_timeout(Duration::from_secs(120));
        let container = runtime
            .block_on(image.start())
            .context("could not start the Postgres container")?;
        let mut this = Self {
            runtime,
            container: Some(container),
            url: String::new(),
        };
        let container = this.container.as_ref().context("container")?;
        let port = this
            .runtime
            .block_on(container.get_host_port_ipv4(5432))
            .context("the container has no host port for 5432")?;
        let published = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        wait_for_tcp(published, Duration::from_secs(30))?;
        // The published port goes through Docker's userland proxy, which costs as much CPU as a
        // Postgres backend under load; the container's bridge address (reachable from the host
        // on Linux) does not. Use it when it answers.
        let direct = bridge_address(container.id())
            .map(|ip| SocketAddr::new(ip, 5432))
            .filter(|addr| TcpStream::connect_timeout(addr, Duration::from_secs(1)).is_ok());
        let addr = direct.unwrap_or(published);
        eprintln!(
            "xtask: container {} is ready on {addr} ({}) after {:.1?}",
            short_id(container.id()),
            if direct.is_some() {
                "bridge address"
            } else {
                "published port"
            },
            started.elapsed()
        );
        this.url = format!("postgres://postgres@{addr}/postgres");
        Ok(this)
    }
}

impl Drop for PostgresContainer {
    fn drop(&mut self) {
        let Some(container) = self.container.take() else {
            return;
        };
        let id = short_id(container.id()).to_owned();
        // Run on a worker thread of our runtime, so testcontainers' own drop fallback (if the
        // removal fails) finds a multi-thread context.
        let removal = self.runtime.spawn(async move { container.rm().await });
        match self.runtime.block_on(removal) {
            Ok(Ok(())) => eprintln!("xtask: removed container {id}"),
            Ok(Err(err)) => eprintln!("xtask: warning: could not remove container {id}: {err}"),
            Err(err) => eprintln!("xtask: warning: removing container {id} panicked: {err}"),
        }
    }
}

/// The container's address on its Docker network, if it has one. (testcontainers'
/// `get_bridge_ip_address` fails for the `default` network mode that Docker 28 reports.)
fn bridge_address(id: &str) -> Option<IpAddr> {
    let output = Command::new("docker")
        .args([
            "inspect",
            "--format",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
            id,
        ])
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .find_map(|ip| ip.parse().ok())
}

fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn wait_for_tcp(addr: SocketAddr, timeout: Duration) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(err) if Instant::now() >= deadline => {
                bail!(
                    "Postgres logged that it is ready, but {addr} does not accept connections: {err}"
                )
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}
