//! `cargo xtask check-layers`: the hexagonal layering rules, checked on `cargo metadata`.
//!
//! The rules are data: [`RULES`] has one line per rule. A rule names the workspace packages it
//! applies to, the dependency kinds it looks at, the dependencies it forbids and, optionally,
//! the only `verifa-*` crates the package may use. Names ending in `*` are prefixes. Only
//! direct dependencies are checked (what a crate's own `Cargo.toml` says).

use std::collections::BTreeSet;
use std::fmt;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use crate::cmd;

/// A dependency kind as `cargo metadata` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Normal,
    Build,
    Dev,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Normal => "normal",
            Self::Build => "build",
            Self::Dev => "dev",
        })
    }
}

const SHIPPED: &[Kind] = &[Kind::Normal, Kind::Build];
const ANY: &[Kind] = &[Kind::Normal, Kind::Build, Kind::Dev];

/// One layering rule.
pub struct Rule {
    /// Workspace packages it applies to (exact names or `prefix*`; `*` is every package).
    pub packages: &'static [&'static str],
    /// Packages it does not apply to, even when `packages` matches.
    pub except: &'static [&'static str],
    /// Dependency kinds it looks at.
    pub kinds: &'static [Kind],
    /// Forbidden dependencies (exact names or `prefix*`).
    pub forbid: &'static [&'static str],
    /// If set, the only `verifa-*` dependencies allowed.
    pub only_verifa: Option<&'static [&'static str]>,
    /// Why, shown with each violation.
    pub why: &'static str,
}

const IO: &[&str] = &[
    "tokio*",
    "futures*",
    "async-trait",
    "sea-orm*",
    "sea-query*",
    "sqlx*",
    "axum*",
    "hyper*",
    "reqwest*",
    "tower*",
    "tracing-subscriber",
    "object_store",
];
const DRIVERS: &[&str] = &["sea-orm*", "sqlx*", "axum*", "reqwest*", "hyper*", "tower*"];
const DB_AND_WEB: &[&str] = &["sea-orm*", "sqlx*", "axum*", "reqwest*"];
const OUTER: &[&str] = &["verifa-http", "verifa-app", "verifa-server"];
const ADAPTERS: &[&str] = &["verifa-adapters-*"];
/// Who may use adapters: the composition root and test/automation crates.
const ADAPTER_USERS: &[&str] = &["verifa-server", "verifa-testkit", "xtask"];

#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    Rule { packages: &["verifa-domain"], except: &[], kinds: SHIPPED, forbid: IO, only_verifa: Some(&[]), why: "the domain is pure: no IO, no async, no other verifa crate" },
    Rule { packages: &["verifa-ports"], except: &[], kinds: SHIPPED, forbid: DRIVERS, only_verifa: Some(&["verifa-domain"]), why: "ports name no driver types and build on the domain only" },
    Rule { packages: &["verifa-app"], except: &[], kinds: SHIPPED, forbid: DB_AND_WEB, only_verifa: Some(&["verifa-domain", "verifa-ports", "verifa-crypto"]), why: "use cases see the domain, the ports and the at-rest cipher only" },
    Rule { packages: &["verifa-crypto"], except: &[], kinds: SHIPPED, forbid: IO, only_verifa: Some(&[]), why: "the at-rest cipher is a leaf: no IO, no other verifa crate" },
    Rule { packages: &["verifa-http"], except: &[], kinds: SHIPPED, forbid: &["sea-orm*", "sqlx*", "reqwest*"], only_verifa: None, why: "the HTTP layer talks to the app, never to a database or a vendor" },
    Rule { packages: &["verifa-http"], except: &[], kinds: ANY, forbid: ADAPTERS, only_verifa: None, why: "HTTP tests use port fakes, not adapters" },
    Rule { packages: &["verifa-adapters-*"], except: &[], kinds: SHIPPED, forbid: OUTER, only_verifa: None, why: "adapters implement ports; they do not call inwards layers' callers" },
    Rule { packages: &["verifa-checks-core"], except: &[], kinds: SHIPPED, forbid: &["tokio*", "sea-orm*", "axum*", "reqwest*"], only_verifa: None, why: "check algorithms are pure" },
    Rule { packages: &["*"], except: ADAPTER_USERS, kinds: SHIPPED, forbid: ADAPTERS, only_verifa: None, why: "only the composition root (verifa-server) wires adapters in" },
    Rule { packages: &["verifa-fakes"], except: &[], kinds: SHIPPED, forbid: DRIVERS, only_verifa: Some(&["verifa-domain", "verifa-ports"]), why: "the fakes implement ports in memory, on the domain and the ports only" },
    Rule { packages: &["*"], except: &["verifa-testkit"], kinds: SHIPPED, forbid: &["verifa-fakes"], only_verifa: None, why: "fakes are for tests: nothing ships with them" },
];

/// `pattern` is an exact name, `prefix*`, or `*`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

fn matches_any(patterns: &[&str], name: &str) -> bool {
    patterns.iter().any(|p| matches(p, name))
}

/// A direct dependency of a workspace package.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub kind: Kind,
}

/// A broken rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub edge: Edge,
    pub why: &'static str,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Edge { from, to, kind } = &self.edge;
        write!(f, "{from} -> {to} ({kind} dependency): {}", self.why)
    }
}

/// The workspace packages and their direct dependencies, from `cargo metadata` JSON.
pub fn edges(metadata: &Value) -> Result<(Vec<String>, Vec<Edge>)> {
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .context("cargo metadata: no `workspace_members`")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata: no `packages`")?;
    let mut names = Vec::new();
    let mut edges = Vec::new();
    for package in packages {
        let id = package["id"].as_str().unwrap_or_default();
        if !members.contains(id) {
            continue;
        }
        let from = package["name"]
            .as_str()
            .context("cargo metadata: package without a name")?;
        names.push(from.to_owned());
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let to = dep["name"]
                .as_str()
                .context("cargo metadata: dependency without a name")?;
            let kind = match dep["kind"].as_str() {
                None => Kind::Normal,
                Some("build") => Kind::Build,
                Some("dev") => Kind::Dev,
                Some(other) => bail!("cargo metadata: unknown dependency kind {other:?}"),
            };
            edges.push(Edge {
                from: from.to_owned(),
                to: to.to_owned(),
                kind,
            });
        }
    }
    names.sort();
    edges.sort();
    edges.dedup(); // the same dependency may be listed once per target platform
    Ok((names, edges))
}

/// Every violation of `rules` among `edges`, sorted.
pub fn violations(rules: &[Rule], edges: &[Edge]) -> Vec<Violation> {
    let mut found = BTreeSet::new();
    for edge in edges {
        for rule in rules {
            let applies = matches_any(rule.packages, &edge.from)
                && !matches_any(rule.except, &edge.from)
                && rule.kinds.contains(&edge.kind);
            if !applies {
                continue;
            }
            let forbidden = matches_any(rule.forbid, &edge.to);
            let outside_allowed = rule.only_verifa.is_some_and(|allowed| {
                edge.to.starts_with("verifa-") && !allowed.contains(&edge.to.as_str())
            });
            if forbidden || outside_allowed {
                found.insert(Violation {
                    edge: edge.clone(),
                    why: rule.why,
                });
            }
        }
    }
    found.into_iter().collect()
}

/// Workspace packages that only the catch-all rules look at (a reminder to add a line).
fn uncovered(rules: &[Rule], names: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|name| name.starts_with("verifa-"))
        .filter(|name| {
            !rules
                .iter()
                .any(|r| !r.packages.contains(&"*") && matches_any(r.packages, name))
                && !matches_any(ADAPTER_USERS, name)
                && *name != "verifa-migrations"
        })
        .cloned()
        .collect()
}

/// Runs `cargo metadata` and checks [`RULES`]; an error listing every violation.
pub fn run() -> Result<()> {
    let output = cmd::cargo()
        .args(["metadata", "--format-version", "1"])
        .output()
        .context("could not run `cargo metadata`")?;
    if !output.status.success() {
        bail!(
            "`cargo metadata` failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: Value =
        serde_json::from_slice(&output.stdout).context("`cargo metadata` printed invalid JSON")?;
    let (names, edges) = edges(&metadata)?;
    let found = violations(RULES, &edges);
    for name in uncovered(RULES, &names) {
        eprintln!(
            "check-layers: note: no rule names {name}; add a line to RULES in xtask/src/check_layers.rs"
        );
    }
    if found.is_empty() {
        eprintln!(
            "check-layers: OK: {} workspace packages, {} direct dependencies, {} rules",
            names.len(),
            edges.len(),
            RULES.len()
        );
        return Ok(());
    }
    for violation in &found {
        eprintln!("check-layers: VIOLATION {violation}");
    }
    bail!("{} layering violation(s), listed above", found.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: &str, to: &str, kind: Kind) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            kind,
        }
    }

    fn offenders(edges: &[Edge]) -> Vec<(String, String)> {
        violations(RULES, edges)
            .into_iter()
            .map(|v| (v.edge.from, v.edge.to))
            .collect()
    }

    #[test]
    fn a_clean_graph_passes() {
        let edges = [
            edge("verifa-domain", "serde", Kind::Normal),
            edge("verifa-domain", "proptest", Kind::Dev),
            edge("verifa-domain", "tokio", Kind::Dev),
            edge("verifa-ports", "verifa-domain", Kind::Normal),
            edge("verifa-ports", "async-trait", Kind::Normal),
            edge("verifa-app", "verifa-ports", Kind::Normal),
            edge("verifa-http", "axum", Kind::Normal),
            edge("verifa-http", "verifa-app", Kind::Normal),
            edge("verifa-adapters-db", "sea-orm", Kind::Normal),
            edge("verifa-adapters-db", "verifa-ports", Kind::Normal),
            edge("verifa-server", "verifa-adapters-db", Kind::Normal),
            edge("verifa-testkit", "verifa-adapters-db", Kind::Normal),
            edge("xtask", "verifa-adapters-db", Kind::Normal),
            edge("verifa-app", "verifa-adapters-db", Kind::Dev),
        ];
        assert_eq!(offenders(&edges), Vec::<(String, String)>::new());
    }

    #[test]
    fn every_forbidden_edge_is_reported() {
        let edges = [
            edge("verifa-domain", "tokio", Kind::Normal),
            edge("verifa-domain", "futures-util", Kind::Build),
            edge("verifa-domain", "verifa-ports", Kind::Normal),
            edge("verifa-ports", "verifa-app", Kind::Normal),
            edge("verifa-ports", "sqlx", Kind::Normal),
            edge("verifa-app", "verifa-adapters-db", Kind::Normal),
            edge("verifa-http", "verifa-adapters-db", Kind::Dev),
            edge("verifa-http", "reqwest", Kind::Normal),
            edge("verifa-adapters-db", "verifa-http", Kind::Normal),
            edge("verifa-checks-core", "tokio", Kind::Normal),
            edge("verifa-migrations", "verifa-adapters-db", Kind::Normal),
        ];
        let got: BTreeSet<(String, String)> = offenders(&edges).into_iter().collect();
        let want: BTreeSet<(String, String)> = edges
            .iter()
            .map(|e| (e.from.clone(), e.to.clone()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn edges_are_read_from_workspace_members_only() {
        let metadata = serde_json::json!({
            "workspace_members": ["a 0.1.0"],
            "packages": [
                {"id": "a 0.1.0", "name": "verifa-domain", "dependencies": [
                    {"name": "tokio", "kind": null},
                    {"name": "cc", "kind": "build"},
                    {"name": "proptest", "kind": "dev"}
                ]},
                {"id": "b 0.1.0", "name": "tokio", "dependencies": [{"name": "mio", "kind": null}]}
            ]
        });
        let (names, edges) = edges(&metadata).unwrap();
        assert_eq!(names, ["verifa-domain"]);
        assert_eq!(
            edges,
            [
                edge("verifa-domain", "cc", Kind::Build),
                edge("verifa-domain", "proptest", Kind::Dev),
                edge("verifa-domain", "tokio", Kind::Normal),
            ]
        );
    }
}
