//! `cargo xtask ci`: what CI runs, in order, stopping at the first failure.

use anyhow::Result;

use crate::{check_layers, cmd, test};

/// fmt check, clippy with warnings denied, the layer rules, then every test against Postgres.
pub fn run() -> Result<()> {
    step("fmt")?;
    cmd::run(cmd::cargo().args(["fmt", "--all", "--", "--check"]))?;
    step("clippy")?;
    cmd::run(cmd::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("check-layers")?;
    check_layers::run()?;
    step("test")?;
    test::run(&[])?;
    eprintln!("xtask: ci: all steps passed");
    Ok(())
}

fn step(name: &str) -> Result<()> {
    eprintln!("xtask: ci: == {name} ==");
    Ok(())
}
