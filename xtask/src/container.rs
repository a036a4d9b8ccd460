//! One throw-away Postgres container for a test run, owned by the xtask process.
//!
//! [`PostgresContainer`] holds its own tokio runtime and the testcontainers handle; dropping it
//! removes the container (also on an error path). It is never kept in a `static`: Rust does not
//! drop statics, and the container would leak.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
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
    /// `postgres://postgres@127.0.0.1:<port>/postgres` (trust auth, no secret).
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
        wait_for_tcp(port, Duration::from_secs(30))?;
        eprintln!(
            "xtask: container {} is ready on 127.0.0.1:{port} after {:.1?}",
            short_id(container.id()),
            started.elapsed()
        );
        this.url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
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

fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

fn wait_for_tcp(port: u16, timeout: Duration) -> Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
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
