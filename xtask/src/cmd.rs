//! Running child processes: the workspace root, `cargo`, and a typed "command failed" error
//! that carries the child's exit code up to `main`.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

/// The workspace root (the directory above this crate).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// `cargo`, as the one that started us (`$CARGO`) or from `PATH`, run in the workspace root.
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.current_dir(workspace_root());
    command
}

/// A child process that ran and did not succeed.
#[derive(Debug)]
pub struct Failed {
    what: String,
    status: ExitStatus,
}

impl Failed {
    /// The exit code to hand on (1 when the child died from a signal).
    pub fn exit_code(&self) -> u8 {
        match self.status.code() {
            Some(code) => u8::try_from(code).ok().filter(|c| *c != 0).unwrap_or(1),
            None => 1,
        }
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` failed ({})", self.what, self.status)
    }
}

impl std::error::Error for Failed {}

/// A shell-like rendering of a command, for messages.
pub fn describe(command: &Command) -> String {
    let mut words = vec![display_program(command.get_program())];
    words.extend(command.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

fn display_program(program: &OsStr) -> String {
    let path = Path::new(program);
    // `$CARGO` is an absolute path into the toolchain: show just `cargo`.
    path.file_name().map_or_else(
        || program.to_string_lossy().into_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Runs `command` with inherited stdio; an error of type [`Failed`] if it exits non-zero.
pub fn run(command: &mut Command) -> Result<()> {
    let what = describe(command);
    eprintln!("xtask: $ {what}");
    let status = command
        .status()
        .with_context(|| format!("could not start `{what}`"))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failed { what, status }.into())
    }
}

/// Runs `command` quietly and tells whether it succeeded; `false` when it cannot start or does
/// not finish within `timeout` (it is killed then).
pub fn succeeds_within(command: &mut Command, timeout: Duration) -> bool {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let Ok(mut child) = command.spawn() else {
        return false;
    };
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
        }
    }
}
