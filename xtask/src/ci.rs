//! `cargo xtask ci`: what CI runs, in order, stopping at the first failure.

use anyhow::Result;

use crate::{check_layers, cmd, fuzz_api, test};

/// fmt check, clippy with warnings denied, the layer rules, every test against Postgres, then
/// the API fuzzed against its OpenAPI document.
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
    step("fuzz-api")?;
    fuzz_api::run(&fuzz_api::FuzzArgs::default())?;
    eprintln!("xtask: ci: all steps passed");
    Ok(())
}

fn step(name: &str) -> Result<()> {
    eprintln!("xtask: ci: == {name} ==");
    Ok(())
}
