//! Watchlist screening latency over 20 000 synthetic entries (≈ 50 000 names with aliases).
//!
//! Before the criterion runs, a plain timing loop screens 2 000 queries (half perturbed list
//! names, half unrelated names) and prints mean / p50 / p99 per query, since criterion reports
//! means only. Goal: p99 < 5 ms on one core.

use std::hint::black_box;
use std::time::Instant;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use verifa_checks_core::WatchlistEntry;
use verifa_checks_core::screening::{DEFAULT_THRESHOLD, ScreeningIndex};

const SYLLABLES: [&str; 48] = [
    "ka", "ri", "mo", "na", "sa", "lev", "dor", "an", "el", "vi", "ta", "kov", "ma", "ro", "zu",
    "bek", "ha", "mid", "ja", "lil", "ser", "gei", "ol", "ga", "pe", "tro", "vic", "al", "ab",
    "dul", "rah", "man", "chen", "wei", "li", "ang", "to", "mas", "jo", "han", "sen", "fer", "nan",
    "dez", "gu", "sta", "vo", "din",
];

/// Deterministic xorshift so the data set is identical on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn word(rng: &mut Rng, min: usize, max: usize) -> String {
    let n = min + rng.below(max - min + 1);
    let mut w: String = (0..n)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect();
    if let Some(first) = w.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    w
}

fn person(rng: &mut Rng) -> Vec<String> {
    let mut parts = vec![word(rng, 2, 3)];
    if rng.below(3) == 0 {
        parts.push(word(rng, 2, 3));
    }
    parts.push(word(rng, 2, 4));
    parts
}

fn entries(n: usize) -> Vec<WatchlistEntry> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|i| {
            let parts = person(&mut rng);
            let name = parts.join(" ");
            let mut aliases = Vec::new();
            for _ in 0..rng.below(3) {
                // Reordered, or with one part respelled.
                let mut alias = parts.clone();
                if rng.below(2) == 0 {
                    alias.rotate_left(1);
                } else {
                    let k = rng.below(alias.len());
                    alias[k] = word(&mut rng, 2, 3);
                }
                aliases.push(alias.join(" "));
            }
            let date_of_birth = (rng.below(2) == 0).then(|| {
                format!(
                    "{}-{:02}-{:02}",
                    1940 + rng.below(60),
                    1 + rng.below(12),
                    1 + rng.below(28)
                )
            });
            WatchlistEntry {
                id: format!("syn-{i}"),
                name,
                aliases,
                list: "SYNTHETIC".to_owned(),
                country: None,
                date_of_birth,
            }
        })
        .collect()
}

fn queries(list: &[WatchlistEntry], n: usize) -> Vec<String> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    (0..n)
        .map(|i| {
            if i % 2 == 0 {
                // A list name with its parts reversed and one character dropped.
                let e = &list[rng.below(list.len())];
                let mut parts: Vec<&str> = e.name.split(' ').collect();
                parts.reverse();
                let mut q = parts.join(", ");
                let cut = 1 + rng.below(q.len() - 1);
                if q.is_char_boundary(cut) {
                    q.remove(cut);
                }
                q
            } else {
                person(&mut rng).join(" ")
            }
        })
        .collect()
}

fn latency_report(index: &ScreeningIndex, qs: &[String]) {
    let dob = NaiveDate::from_ymd_opt(1970, 5, 5);
    let mut times: Vec<f64> = Vec::with_capacity(qs.len());
    let mut hits = 0usize;
    for q in qs {
        let t = Instant::now();
        hits += black_box(index.screen(q, dob, DEFAULT_THRESHOLD)).len();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    eprintln!(
        "screening latency over {} queries, {} entries / {} names: mean {mean:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({hits} hits)",
        qs.len(),
        index.len(),
        index.name_count(),
        pct(0.50),
        pct(0.99),
        times[times.len() - 1],
    );
}

fn bench(c: &mut Criterion) {
    let list = entries(20_000);
    let t = Instant::now();
    let index = ScreeningIndex::build(list.clone());
    eprintln!("index build: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let qs = queries(&list, 2_000);
    latency_report(&index, &qs);

    let mut group = c.benchmark_group("screening_20k");
    group.bench_function("list_name_perturbed", |b| {
        let q = &qs[0];
        b.iter(|| index.screen(black_box(q), None, DEFAULT_THRESHOLD))
    });
    group.bench_function("unrelated_name", |b| {
        let q = &qs[1];
        b.iter(|| index.screen(black_box(q), None, DEFAULT_THRESHOLD))
    });
    group.bench_function("query_mix_100", |b| {
        b.iter(|| {
            qs.iter()
                .take(100)
                .map(|q| index.screen(black_box(q), None, DEFAULT_THRESHOLD).len())
                .sum::<usize>()
        })
    });
    group.sample_size(10);
    group.bench_function("build_index", |b| {
        b.iter(|| ScreeningIndex::build(black_box(list.clone())))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
