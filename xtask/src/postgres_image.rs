//! The local Postgres image `verifa-postgres-test:15`, built offline.
//!
//! No image registry is reachable from our machines, so the image is made from Debian packages:
//! `debootstrap --variant=minbase --include=postgresql-15 bookworm` into `target/pg-rootfs`
//! (from the configured Debian mirror), plus an entrypoint that runs `initdb` and then
//! `postgres` as the `postgres` user (Postgres refuses to run as root), then
//! `tar | docker import`. Docker keeps the image, so this runs once per machine.

use std::fs;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use crate::cmd;

/// Image name and tag.
pub const NAME: &str = "verifa-postgres-test";
pub const TAG: &str = "15";
/// Where the entrypoint lives inside the image.
const ENTRYPOINT: &str = "/usr/local/bin/verifa-pg-entrypoint";
const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";
const SUITE: &str = "bookworm";

const ENTRYPOINT_SCRIPT: &str = r#"#!/bin/sh
# Throw-away Postgres for tests: trust auth, no durability. Written by `cargo xtask test`.
set -eu
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=/var/lib/postgresql/data
AS_POSTGRES="setpriv --reuid=postgres --regid=postgres --init-groups --"
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    $AS_POSTGRES "$PGBIN/initdb" --auth=trust --no-sync --no-instructions -U postgres \
        -E UTF8 --locale=C -D "$PGDATA" >/dev/null
    # initdb's trust lines cover local connections only; tests come in through Docker's bridge.
    echo "host all all all trust" >> "$PGDATA/pg_hba.conf"
fi
exec $AS_POSTGRES "$PGBIN/postgres" -D "$PGDATA" \
    -c listen_addresses='*' -c fsync=off -c synchronous_commit=off \
    -c full_page_writes=off -c max_connections=400 "$@"
"#;

/// Names the image's content (the entrypoint script): an image with another revision is
/// rebuilt, so a change to the script reaches every machine that has the old image.
fn revision() -> String {
    // FNV-1a: stable across Rust releases, unlike `DefaultHasher`.
    let hash = ENTRYPOINT_SCRIPT
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{hash:016x}")
}

const REVISION_VAR: &str = "VERIFA_PG_IMAGE_REV";

/// `name:tag`.
pub fn reference() -> String {
    format!("{NAME}:{TAG}")
}

/// Builds the image unless Docker already has it.
pub fn ensure() -> Result<()> {
    let reference = reference();
    match image_revision(&reference) {
        Some(found) if found == revision() => {
            eprintln!("xtask: postgres image {reference} is present (cached)");
            return Ok(());
        }
        Some(_) => {
            eprintln!(
                "xtask: postgres image {reference} is out of date: rebuilding it offline from Debian packages"
            );
            let _ = Command::new("docker")
                .args(["image", "rm", "-f", &reference])
                .stdout(Stdio::null())
                .status();
        }
        None => eprintln!(
            "xtask: postgres image {reference} is missing: building it offline from Debian packages"
        ),
    }
    let started = Instant::now();
    build(&reference)?;
    eprintln!("xtask: built {reference} in {:.0?}", started.elapsed());
    Ok(())
}

/// `Some(revision)` when the image exists (`Some("")` for one without a revision).
fn image_revision(reference: &str) -> Option<String> {
    let output = Command::new("docker")
        .args([
            "image",
            "inspect",
            "--format",
            "{{range .Config.Env}}{{println .}}{{end}}",
            reference,
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let env = String::from_utf8_lossy(&output.stdout);
    let prefix = format!("{REVISION_VAR}=");
    Some(
        env.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_default()
            .trim()
            .to_owned(),
    )
}

fn build(reference: &str) -> Result<()> {
    ensure_debootstrap()?;
    let target = target_dir()?;
    fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
    let rootfs = target.join("pg-rootfs");
    remove_rootfs(&rootfs)?;
    let mirror = debian_mirror();
    let log_path = target.join("pg-rootfs.log");
    eprintln!(
        "xtask: debootstrap {SUITE} + postgresql-15 from {mirror} into {} (log: {}; about a minute)",
        rootfs.display(),
        log_path.display()
    );
    let log =
        fs::File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    let status = Command::new("debootstrap")
        .args(["--variant=minbase", "--include=postgresql-15", SUITE])
        .arg(&rootfs)
        .arg(&mirror)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .context("could not start debootstrap")?;
    if !status.success() {
        let log = fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(30).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!(
            "debootstrap failed ({status}); last lines of {}:\n{}",
            log_path.display(),
            tail.join("\n")
        );
    }
    finish_rootfs(&rootfs)?;
    eprintln!(
        "xtask: importing {} into docker as {reference}",
        rootfs.display()
    );
    docker_import(&rootfs, reference)?;
    remove_rootfs(&rootfs)?;
    Ok(())
}

/// Installs debootstrap with apt when it is missing (we run as root on CI).
fn ensure_debootstrap() -> Result<()> {
    if has_debootstrap() {
        return Ok(());
    }
    eprintln!("xtask: debootstrap is missing: installing it with apt-get");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "debootstrap"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
    };
    let first = install().context("could not run apt-get (is this Debian, and are we root?)")?;
    if !first.success() {
        cmd::run(
            Command::new("apt-get")
                .args(["update"])
                .stdin(Stdio::null()),
        )?;
        let second = install().context("could not run apt-get")?;
        if !second.success() {
            bail!(
                "`apt-get install -y debootstrap` failed ({second}); install debootstrap by hand"
            );
        }
    }
    if !has_debootstrap() {
        bail!("debootstrap still not found on PATH after installing it");
    }
    Ok(())
}

fn has_debootstrap() -> bool {
    cmd::succeeds_within(
        Command::new("debootstrap").arg("--version"),
        Duration::from_secs(30),
    )
}

/// Cargo's target directory (honours `CARGO_TARGET_DIR`).
fn target_dir() -> Result<PathBuf> {
    let output = cmd::cargo()
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("could not run `cargo metadata`")?;
    if !output.status.success() {
        bail!(
            "`cargo metadata` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let dir = metadata["target_directory"]
        .as_str()
        .context("cargo metadata: no target_directory")?;
    Ok(PathBuf::from(dir))
}

/// The configured Debian mirror for `bookworm`, else deb.debian.org.
pub fn debian_mirror() -> String {
    let mut files: Vec<PathBuf> = fs::read_dir("/etc/apt/sources.list.d")
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.push(PathBuf::from("/etc/apt/sources.list"));
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let found = match file.extension().and_then(|e| e.to_str()) {
            Some("sources") => mirror_from_deb822(&text),
            Some("list") => mirror_from_one_line(&text),
            _ => None,
        };
        if let Some(mirror) = found {
            return mirror;
        }
    }
    DEFAULT_MIRROR.to_owned()
}

/// First `URIs:` of a `Types: deb` stanza whose `Suites:` include exactly `bookworm`.
fn mirror_from_deb822(text: &str) -> Option<String> {
    for stanza in text.split("\n\n") {
        let field = |name: &str| {
            stanza.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                key.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| value.trim().to_owned())
            })
        };
        let is_deb = field("Types").is_some_and(|t| t.split_whitespace().any(|t| t == "deb"));
        let has_suite = field("Suites").is_some_and(|s| s.split_whitespace().any(|s| s == SUITE));
        let enabled = field("Enabled").is_none_or(|e| e != "no");
        if is_deb
            && has_suite
            && enabled
            && let Some(uri) =
                field("URIs").and_then(|u| u.split_whitespace().next().map(str::to_owned))
        {
            return Some(uri);
        }
    }
    None
}

/// First `deb [options] URI bookworm …` line.
fn mirror_from_one_line(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let line = line.trim();
        let rest = line.strip_prefix("deb ")?.trim_start();
        let rest = match rest.strip_prefix('[') {
            Some(options) => options.split_once(']')?.1.trim_start(),
            None => rest,
        };
        let mut words = rest.split_whitespace();
        let uri = words.next()?;
        (words.next()? == SUITE).then(|| uri.to_owned())
    })
}

/// Entrypoint, fewer bytes (apt caches, the package's own default cluster).
fn finish_rootfs(rootfs: &Path) -> Result<()> {
    let entrypoint = rootfs.join(ENTRYPOINT.trim_start_matches('/'));
    fs::create_dir_all(entrypoint.parent().context("entrypoint path")?)?;
    fs::write(&entrypoint, ENTRYPOINT_SCRIPT)
        .with_context(|| format!("writing {}", entrypoint.display()))?;
    fs::set_permissions(&entrypoint, fs::Permissions::from_mode(0o755))?;
    for dir in [
        "var/cache/apt/archives",
        "var/lib/apt/lists",
        "var/lib/postgresql/15",
        "etc/postgresql/15",
    ] {
        let dir = rootfs.join(dir);
        if dir.is_dir() {
            fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    fs::create_dir_all(rootfs.join("var/cache/apt/archives/partial"))?;
    fs::create_dir_all(rootfs.join("var/lib/apt/lists/partial"))?;
    let check = rootfs.join("usr/lib/postgresql/15/bin/postgres");
    if !check.is_file() {
        bail!(
            "{} is missing: debootstrap did not install postgresql-15",
            check.display()
        );
    }
    Ok(())
}

/// `tar -C rootfs -c . | docker import --change … - name:tag`.
fn docker_import(rootfs: &Path, reference: &str) -> Result<()> {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .context("could not start tar")?;
    let tar_out = tar.stdout.take().context("tar stdout")?;
    let import = Command::new("docker")
        .args(["import", "--change"])
        .arg(format!(r#"ENTRYPOINT ["{ENTRYPOINT}"]"#))
        .args(["--change", "EXPOSE 5432", "--change"])
        .arg(format!("ENV {REVISION_VAR}={}", revision()))
        .args(["-", reference])
        .stdin(tar_out)
        .stdout(Stdio::null())
        .status()
        .context("could not start `docker import`")?;
    let tar_status = tar.wait()?;
    // A failed import closes the pipe, and tar then dies of SIGPIPE: report the import first.
    if !import.success() {
        bail!("`docker import` failed ({import})");
    }
    if !tar_status.success() {
        bail!("tar of {} failed ({tar_status})", rootfs.display());
    }
    Ok(())
}

/// Removes a (possibly half-made) root file system; unmounts what a failed debootstrap may have
/// left mounted inside it first, so that we never delete through a mount of /proc or /sys.
fn remove_rootfs(rootfs: &Path) -> Result<()> {
    if !rootfs.exists() {
        return Ok(());
    }
    let prefix = format!("{}/", rootfs.display());
    let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mut inside: Vec<&str> = mounts
        .lines()
        .filter_map(|line| line.split_whitespace().nth(1))
        .filter(|point| point.starts_with(&prefix))
        .collect();
    inside.sort_by_key(|point| std::cmp::Reverse(point.len()));
    for point in &inside {
        let _ = Command::new("umount").args(["-l", point]).status();
    }
    let still = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    if still
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .any(|p| p.starts_with(&prefix))
    {
        bail!(
            "{} still has file systems mounted inside; unmount them and retry",
            rootfs.display()
        );
    }
    fs::remove_dir_all(rootfs).with_context(|| format!("removing {}", rootfs.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_bookworm_mirror_in_deb822() {
        let text = "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n\
                    Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n";
        assert_eq!(
            mirror_from_deb822(text).as_deref(),
            Some("http://mirror.example/debian")
        );
        let only_security =
            "Types: deb\nURIs: http://x/debian-security\nSuites: bookworm-security\n";
        assert_eq!(mirror_from_deb822(only_security), None);
        let nodesource =
            "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n";
        assert_eq!(mirror_from_deb822(nodesource), None);
    }

    #[test]
    fn finds_the_bookworm_mirror_in_one_line_style() {
        let text = "# x\ndeb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n\
                    deb [signed-by=/k.gpg] http://mirror.example/debian bookworm main\n";
        assert_eq!(
            mirror_from_one_line(text).as_deref(),
            Some("http://mirror.example/debian")
        );
    }
}
