//! `verifa watchlists import|status`: load screening lists into the database and show what is
//! loaded.
//!
//! `import --format ofac [--list NAME] SDN_FILE [--alt ALT_FILE]` reads the OFAC SDN legacy CSV
//! pair (list name default `OFAC SDN`); `import --format csv [--list NAME] FILE` reads the simple
//! CSV `name,aliases,list,country,date_of_birth`, replacing every list named in its `list`
//! column, or storing all rows under `--list NAME` when given. Each list is replaced atomically
//! (readers see the old or the new list); importing an unchanged file changes nothing.
//! Only list names and counts are printed, never entry contents.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use anyhow::Context;
use verifa_adapters_db::Database;
use verifa_checks_core::WatchlistEntry;
use verifa_checks_core::importers::{ofac, plain};
use verifa_ports::watchlists::{WatchlistRecord, WatchlistRepository};

use crate::compose::connect;
use crate::settings::Settings;

/// Bundled sample OFAC SDN file (fictitious entries).
pub const SAMPLE_SDN: &str = include_str!("../../../verifa-checks-core/data/sample_sdn.csv");
/// Bundled sample OFAC alias file.
pub const SAMPLE_ALT: &str = include_str!("../../../verifa-checks-core/data/sample_alt.csv");
/// Bundled sample simple-CSV watchlist (several lists).
pub const SAMPLE_CSV: &str = include_str!("../../../verifa-checks-core/data/sample_watchlist.csv");

/// Input file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// OFAC SDN legacy CSV (`sdn.csv`, optional `alt.csv` via `--alt`).
    Ofac,
    /// Simple CSV with header `name,aliases,list,country,date_of_birth` (optional `id`).
    Csv,
}

/// Records to store, grouped by target list name.
pub type Grouped = BTreeMap<String, Vec<WatchlistRecord>>;

fn record(e: WatchlistEntry, list: &str) -> WatchlistRecord {
    WatchlistRecord {
        id: e.id,
        name: e.name,
        aliases: e.aliases,
        list: list.to_owned(),
        country: e.country,
        date_of_birth: e.date_of_birth,
    }
}

/// Parses an input and groups its entries by the list they will be stored under: `list` when
/// given, else `OFAC SDN` (ofac) or each row's `list` column (csv).
///
/// # Errors
/// A parse error naming the line, `--alt` with the csv format, or an empty `--list`.
pub fn parse(
    format: ImportFormat,
    list: Option<&str>,
    input: impl Read,
    alt: Option<impl Read>,
) -> anyhow::Result<Grouped> {
    let list = list.map(str::trim);
    if list.is_some_and(str::is_empty) {
        anyhow::bail!("--list must not be empty");
    }
    let entries = match format {
        ImportFormat::Ofac => ofac::parse_sdn(input, alt).context("parsing the OFAC SDN file")?,
        ImportFormat::Csv => {
            if alt.is_some() {
                anyhow::bail!("--alt is only used with --format ofac");
            }
            plain::parse_watchlist_csv(input).context("parsing the watchlist CSV")?
        }
    };
    let mut grouped = Grouped::new();
    if let Some(list) = list {
        // Even an empty file replaces the named list (emptying it).
        grouped.insert(list.to_owned(), Vec::new());
    } else if format == ImportFormat::Ofac {
        grouped.insert(ofac::LIST_NAME.to_owned(), Vec::new());
    }
    for e in entries {
        let target = list.map_or_else(|| e.list.clone(), str::to_owned);
        let r = record(e, &target);
        grouped.entry(target).or_default().push(r);
    }
    Ok(grouped)
}

/// Replaces each list of `grouped`; returns `(list, entries now stored)`.
///
/// # Errors
/// A store failure or duplicate ids within a list.
pub async fn replace_all(
    repo: &dyn WatchlistRepository,
    grouped: &Grouped,
) -> anyhow::Result<Vec<(String, u64)>> {
    let mut out = Vec::with_capacity(grouped.len());
    for (list, records) in grouped {
        let n = repo
            .replace_list(list, records)
            .await
            .with_context(|| format!("replacing watchlist '{list}'"))?;
        out.push((list.clone(), n));
    }
    Ok(out)
}

/// Reads the files and replaces the lists in `db`; returns `(list, count)` per list.
///
/// # Errors
/// Unreadable files, parse errors, store failures.
pub async fn import_into(
    db: &Database,
    format: ImportFormat,
    list: Option<&str>,
    file: &Path,
    alt: Option<&Path>,
) -> anyhow::Result<Vec<(String, u64)>> {
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let alt = alt
        .map(|p| std::fs::File::open(p).with_context(|| format!("opening {}", p.display())))
        .transpose()?;
    let grouped = parse(
        format,
        list,
        std::io::BufReader::new(input),
        alt.map(std::io::BufReader::new),
    )?;
    replace_all(db, &grouped).await
}

/// Imports the bundled sample files (OFAC SDN + aliases, and the simple CSV's lists).
/// Idempotent: unchanged lists are left alone.
///
/// # Errors
/// Store failures (the bundled files always parse).
pub async fn import_samples(db: &Database) -> anyhow::Result<Vec<(String, u64)>> {
    let mut grouped = parse(
        ImportFormat::Ofac,
        None,
        SAMPLE_SDN.as_bytes(),
        Some(SAMPLE_ALT.as_bytes()),
    )?;
    let csv = parse(
        ImportFormat::Csv,
        None,
        SAMPLE_CSV.as_bytes(),
        None::<&[u8]>,
    )?;
    for (list, records) in csv {
        grouped.entry(list).or_default().extend(records);
    }
    replace_all(db, &grouped).await
}

/// `verifa watchlists import`.
///
/// # Errors
/// Unreadable files, parse errors, store failures.
#[allow(clippy::print_stdout)]
pub async fn import(
    settings: &Settings,
    format: ImportFormat,
    list: Option<&str>,
    file: &Path,
    alt: Option<&Path>,
) -> anyhow::Result<()> {
    let db = connect(settings, true).await?;
    let started = std::time::Instant::now();
    let result = import_into(&db, format, list, file, alt).await;
    db.close().await;
    let counts = result?;
    for (list, n) in &counts {
        println!("imported {n} entries into watchlist '{list}'");
    }
    println!(
        "{} list(s), {} entries, in {} ms",
        counts.len(),
        counts.iter().map(|(_, n)| n).sum::<u64>(),
        started.elapsed().as_millis()
    );
    Ok(())
}

/// `verifa watchlists status`: every list with its entry count, and the version.
///
/// # Errors
/// Store failures.
#[allow(clippy::print_stdout)]
pub async fn status(settings: &Settings) -> anyhow::Result<()> {
    let db = connect(settings, true).await?;
    let result = async {
        let counts = db.watchlist_counts().await?;
        let version = WatchlistRepository::version(&db).await?;
        Ok::<_, verifa_ports::RepoError>((counts, version))
    }
    .await;
    db.close().await;
    let (counts, version) = result.context("reading watchlists")?;
    if counts.is_empty() {
        println!("no watchlist entries (import with `verifa watchlists import`)");
    }
    for (list, n) in &counts {
        println!("{n:>8}  {list}");
    }
    println!(
        "{:>8}  total in {} list(s), version {version}",
        counts.iter().map(|(_, n)| n).sum::<u64>(),
        counts.len()
    );
    Ok(())
}
