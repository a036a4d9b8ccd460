//! MRZ parse + full check-digit validation throughput (goal: > 200 000 zones/s on one core).

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use verifa_checks_core::mrz;

const TD3: &str =
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";
const TD1: &str = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<";
const TD2: &str = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6";

fn bench(c: &mut Criterion) {
    let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
    let mut group = c.benchmark_group("mrz_parse");
    group.throughput(Throughput::Elements(1));
    for (name, text) in [("td3", TD3), ("td1", TD1), ("td2", TD2)] {
        group.bench_function(name, |b| {
            b.iter(|| mrz::parse(black_box(text), today).map(|m| m.valid))
        });
    }
    group.bench_function("td3_with_extracted_data", |b| {
        b.iter(|| mrz::parse(black_box(TD3), today).map(|m| m.extracted_data()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
