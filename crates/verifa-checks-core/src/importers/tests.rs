use super::ofac::{dob_from_remarks, parse_sdn};
use super::plain::parse_watchlist_csv;
use super::*;
use crate::partial_date::PartialDate;
use chrono::NaiveDate;

const SDN: &str = include_str!("../../data/sample_sdn.csv");
const ALT: &str = include_str!("../../data/sample_alt.csv");
const PLAIN: &str = include_str!("../../data/sample_watchlist.csv");

fn find<'a>(entries: &'a [WatchlistEntry], id: &str) -> &'a WatchlistEntry {
    entries.iter().find(|e| e.id == id).unwrap()
}

#[test]
fn ofac_sample_with_aliases() {
    let entries = parse_sdn(SDN.as_bytes(), Some(ALT.as_bytes())).unwrap();
    assert_eq!(entries.len(), 20);
    assert!(entries.iter().all(|e| e.list == "OFAC SDN"));

    let v = find(&entries, "ofac-sdn-10001");
    assert_eq!(v.name, "VORONKOV, Arkady Semyonovich");
    assert_eq!(v.aliases, vec!["VORONKOV, Arkadiy", "WORONKOW, Arkadij"]);
    assert_eq!(v.date_of_birth.as_deref(), Some("1962-03-14"));
    assert_eq!(v.country.as_deref(), Some("Russia"));

    let q = find(&entries, "ofac-sdn-10004");
    assert_eq!(
        q.date_of_birth.as_deref(),
        Some("1968"),
        "circa, alt. DOB ignored"
    );
    assert_eq!(q.aliases.len(), 2);

    assert_eq!(
        find(&entries, "ofac-sdn-10007").date_of_birth.as_deref(),
        Some("1980-07")
    );
    assert_eq!(
        find(&entries, "ofac-sdn-10007").country.as_deref(),
        Some("Korea, North")
    );
    assert_eq!(
        find(&entries, "ofac-sdn-10009").date_of_birth,
        None,
        "ranges dropped"
    );
    assert_eq!(
        find(&entries, "ofac-sdn-10019").date_of_birth.as_deref(),
        Some("1964-02-29")
    );
    assert_eq!(
        find(&entries, "ofac-sdn-10019").aliases,
        vec!["TEMIROV, Ruslan"],
        "deduped"
    );

    let company = find(&entries, "ofac-sdn-10003");
    assert_eq!(company.date_of_birth, None);
    assert_eq!(company.country, None);
    assert!(company.aliases.is_empty());
    let vessel = find(&entries, "ofac-sdn-10006");
    assert_eq!(vessel.name, "OCEAN PEARL");
}

#[test]
fn ofac_without_alt_file() {
    let entries = parse_sdn(SDN.as_bytes(), None::<&[u8]>).unwrap();
    assert_eq!(entries.len(), 20);
    assert!(entries.iter().all(|e| e.aliases.is_empty()));
}

#[test]
fn ofac_errors_name_lines() {
    let bad_count = format!("{SDN}\n99,\"SHORT ROW\",-0- \n");
    let err = parse_sdn(bad_count.as_bytes(), None::<&[u8]>).unwrap_err();
    assert_eq!(
        err,
        ImportError::FieldCount {
            line: 22, // line 21 is the trailing DOS EOF marker
            expected: 12,
            found: 3
        },
        "{err}"
    );

    let bad_num = SDN.replacen("10002,", "10x02,", 1);
    assert!(matches!(
        parse_sdn(bad_num.as_bytes(), None::<&[u8]>),
        Err(ImportError::InvalidField {
            line: 2,
            field: "ent_num",
            ..
        })
    ));

    let dup = SDN.replacen("10002,", "10001,", 1);
    assert_eq!(
        parse_sdn(dup.as_bytes(), None::<&[u8]>),
        Err(ImportError::DuplicateEntity {
            line: 2,
            ent_num: 10001
        })
    );

    let orphan = format!("{ALT}77777,1,\"aka\",\"NOBODY\",-0- \n");
    assert_eq!(
        parse_sdn(SDN.as_bytes(), Some(orphan.as_bytes())),
        Err(ImportError::UnknownEntity {
            line: 11,
            ent_num: 77777
        })
    );

    // alt.csv passed as sdn.csv: wrong shape, caught on line 1.
    assert!(matches!(
        parse_sdn(ALT.as_bytes(), None::<&[u8]>),
        Err(ImportError::FieldCount {
            line: 1,
            expected: 12,
            found: 5
        })
    ));

    let unterminated = "1,\"OPEN,-0- ";
    assert_eq!(
        parse_sdn(unterminated.as_bytes(), None::<&[u8]>),
        Err(ImportError::UnterminatedQuote { line: 1 })
    );
}

#[test]
fn ofac_dob_forms() {
    let full = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).map(PartialDate::Full);
    assert_eq!(dob_from_remarks("DOB 01 Jan 1960;"), full(1960, 1, 1));
    assert_eq!(
        dob_from_remarks("POB X; DOB 1 January 1960"),
        full(1960, 1, 1)
    );
    assert_eq!(dob_from_remarks("DOB 1960;"), Some(PartialDate::Year(1960)));
    assert_eq!(
        dob_from_remarks("DOB circa 1960;"),
        Some(PartialDate::Year(1960))
    );
    assert_eq!(
        dob_from_remarks("DOB Jan 1960"),
        Some(PartialDate::YearMonth(1960, 1))
    );
    assert_eq!(
        dob_from_remarks("alt. DOB 1961; DOB 1960;"),
        Some(PartialDate::Year(1960))
    );
    assert_eq!(dob_from_remarks("DOB 31 Feb 1960;"), None);
    assert_eq!(dob_from_remarks("DOB 1958 to 1960;"), None);
    assert_eq!(dob_from_remarks("NODOB 1960;"), None);
    assert_eq!(dob_from_remarks(""), None);
    assert_eq!(dob_from_remarks("DOB "), None);
}

#[test]
fn plain_sample() {
    let entries = parse_watchlist_csv(PLAIN.as_bytes()).unwrap();
    // 20 rows, the last duplicates the first and is merged.
    assert_eq!(entries.len(), 19);
    let first = &entries[0];
    assert_eq!(first.name, "Ingrid Solveig Haugland");
    assert_eq!(
        first.aliases,
        vec!["Ingrid Haugland", "I. S. Haugland", "Ingrid S. Haugland"]
    );
    assert_eq!(first.list, "Internal Blocklist");
    assert_eq!(first.country.as_deref(), Some("NO"));
    assert_eq!(first.date_of_birth.as_deref(), Some("1983-05-19"));
    assert!(
        first.id.starts_with("wl_") && first.id.len() == 19,
        "{}",
        first.id
    );

    let belova = entries
        .iter()
        .find(|e| e.name.starts_with("Ольга"))
        .unwrap();
    assert_eq!(belova.aliases.len(), 2);
    let baptiste = entries
        .iter()
        .find(|e| e.name == "Baptiste, Jean-Luc")
        .unwrap();
    assert_eq!(baptiste.date_of_birth.as_deref(), Some("1988-12-01"));
    let tesfaye = entries
        .iter()
        .find(|e| e.name == "Mariam Tesfaye Gebre")
        .unwrap();
    assert_eq!(tesfaye.date_of_birth, None);
    assert!(tesfaye.aliases.is_empty());

    // Ids are stable across imports.
    let again = parse_watchlist_csv(PLAIN.as_bytes()).unwrap();
    assert_eq!(entries, again);
}

#[test]
fn plain_accepts_id_column_and_any_order() {
    let text = "list,ID,Name,unused\r\nUK HMT,x-1,Jane Roe,zzz\r\n";
    let e = parse_watchlist_csv(text.as_bytes()).unwrap();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].id, "x-1");
    assert_eq!(e[0].name, "Jane Roe");
    assert_eq!(e[0].country, None);
}

#[test]
fn plain_errors_name_lines() {
    assert_eq!(parse_watchlist_csv(&b""[..]), Err(ImportError::Empty));
    assert!(matches!(
        parse_watchlist_csv(&b"full_name,list\nX,Y\n"[..]),
        Err(ImportError::Header { line: 1, .. })
    ));
    let bad_dob = "name,aliases,list,country,date_of_birth\nA B,,L,,1990-02-30\n";
    assert!(matches!(
        parse_watchlist_csv(bad_dob.as_bytes()),
        Err(ImportError::InvalidField {
            line: 2,
            field: "date_of_birth",
            ..
        })
    ));
    let short = "name,aliases,list,country,date_of_birth\nA B,,L,,\nC D,,L\n";
    assert_eq!(
        parse_watchlist_csv(short.as_bytes()),
        Err(ImportError::FieldCount {
            line: 3,
            expected: 5,
            found: 3
        })
    );
    let no_name = "name,aliases,list,country,date_of_birth\n\n\n , ,L,,\n";
    assert!(matches!(
        parse_watchlist_csv(no_name.as_bytes()),
        Err(ImportError::InvalidField {
            line: 4,
            field: "name",
            ..
        })
    ));
    let no_list = "name,list\nA,\n";
    assert!(matches!(
        parse_watchlist_csv(no_list.as_bytes()),
        Err(ImportError::InvalidField {
            line: 2,
            field: "list",
            ..
        })
    ));
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let mut bytes = b"name,list\nJos".to_vec();
    bytes.push(0xE9); // Latin-1 é
    bytes.extend_from_slice(b" Perez,L\n");
    let e = parse_watchlist_csv(bytes.as_slice()).unwrap();
    assert_eq!(e[0].name, "Jos\u{fffd} Perez");
}
