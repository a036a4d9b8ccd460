use super::*;
use proptest::prelude::*;

const TD3: [&str; 2] = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
];
const TD1: [&str; 3] = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
];
const TD2: [&str; 2] = [
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
];
const MRV_A: [&str; 2] = [
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
];
const MRV_B: [&str; 2] = [
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "L8988901C4XXX4009078F9612109<<<<<<<<",
];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn parse_lines(lines: &[String]) -> Mrz {
    parse(&lines.join("\n"), today()).unwrap()
}

fn owned(lines: &[&str]) -> Vec<String> {
    lines.iter().map(|s| (*s).to_owned()).collect()
}

fn failed(m: &Mrz) -> Vec<CheckField> {
    m.check_digits
        .iter()
        .filter(|c| !c.valid)
        .map(|c| c.field)
        .collect()
}

fn set_char(lines: &mut [String], line: usize, col: usize, ch: char) {
    let mut bytes = lines[line].clone().into_bytes();
    bytes[col] = ch as u8;
    lines[line] = String::from_utf8(bytes).unwrap();
}

fn char_at(lines: &[String], line: usize, col: usize) -> char {
    lines[line].as_bytes()[col] as char
}

fn bump_digit(c: char) -> char {
    let d = c.to_digit(10).unwrap();
    char::from_digit((d + 1) % 10, 10).unwrap()
}

/// Writes the composite digit the parser expects, so a test can isolate one field's check.
fn fix_composite(lines: &mut [String], pos: Option<(usize, usize)>) {
    if let Some((line, col)) = pos {
        let m = parse_lines(lines);
        let c = m
            .check_digits
            .iter()
            .find(|c| c.field == CheckField::Composite)
            .unwrap();
        set_char(lines, line, col, c.expected);
    }
}

#[test]
fn td3_specimen() {
    let m = parse(&TD3.join("\n"), today()).unwrap();
    assert_eq!(m.format, MrzFormat::Td3);
    assert_eq!(m.document_code, "P");
    assert_eq!(m.document_kind, DocumentKind::Passport);
    assert_eq!(m.issuing_state, "UTO");
    assert_eq!(m.surname, "ERIKSSON");
    assert_eq!(m.given_names, "ANNA MARIA");
    assert_eq!(m.document_number, "L898902C3");
    assert_eq!(m.nationality, "UTO");
    assert_eq!(m.date_of_birth.date, date(1974, 8, 12));
    assert_eq!(m.sex, Sex::Female);
    assert_eq!(m.expiry_date.date, date(2012, 4, 15));
    assert_eq!(m.optional_data, "ZE184226B");
    assert_eq!(m.optional_data_2, None);
    assert_eq!(m.check_digits.len(), 5);
    assert!(m.valid, "{:?}", m.check_digits);
}

#[test]
fn td1_specimen() {
    let m = parse(&TD1.join("\n"), today()).unwrap();
    assert_eq!(m.format, MrzFormat::Td1);
    assert_eq!(m.document_kind, DocumentKind::NationalId);
    assert_eq!(m.document_number, "D23145890");
    assert_eq!(m.surname, "ERIKSSON");
    assert_eq!(m.given_names, "ANNA MARIA");
    assert_eq!(m.nationality, "UTO");
    assert_eq!(m.date_of_birth.date, date(1974, 8, 12));
    assert_eq!(m.expiry_date.date, date(2012, 4, 15));
    assert_eq!(m.optional_data, "");
    assert_eq!(m.optional_data_2.as_deref(), Some(""));
    assert_eq!(m.check_digits.len(), 4);
    assert!(m.valid, "{:?}", m.check_digits);
}

#[test]
fn td2_specimen() {
    let m = parse(&TD2.join("\n"), today()).unwrap();
    assert_eq!(m.format, MrzFormat::Td2);
    assert_eq!(m.document_kind, DocumentKind::NationalId);
    assert_eq!(m.document_number, "D23145890");
    assert_eq!(m.given_names, "ANNA MARIA");
    assert_eq!(m.check_digits.len(), 4);
    assert!(m.valid, "{:?}", m.check_digits);
}

#[test]
fn visa_specimens() {
    for (lines, format) in [(&MRV_A[..], MrzFormat::MrvA), (&MRV_B[..], MrzFormat::MrvB)] {
        let m = parse(&lines.join("\n"), today()).unwrap();
        assert_eq!(m.format, format);
        assert_eq!(m.document_kind, DocumentKind::Visa);
        assert_eq!(m.document_number, "L8988901C");
        assert_eq!(m.nationality, "XXX");
        assert_eq!(m.date_of_birth.date, date(1940, 9, 7));
        assert_eq!(m.expiry_date.date, date(1996, 12, 10));
        assert_eq!(m.check_digits.len(), 3);
        assert!(m.valid, "{format:?} {:?}", m.check_digits);
    }
    let a = parse(&MRV_A.join("\n"), today()).unwrap();
    assert_eq!(a.optional_data, "6ZE184226B");
}

#[test]
fn extracted_data_keys() {
    let m = parse(&TD3.join("\n"), today()).unwrap();
    let v = Value::Object(m.extracted_data());
    assert_eq!(
        v,
        serde_json::json!({
            "first_name": "ANNA MARIA",
            "last_name": "ERIKSSON",
            "date_of_birth": "1974-08-12",
            "document_number": "L898902C3",
            "nationality": "UTO",
            "gender": "F",
            "document_type": "passport",
            "document_expiration_date": "2012-04-15",
            "document_issuing_state": "UTO",
        })
    );
}

/// (lines, check positions as (field, line, col), composite position)
type Layout = (
    Vec<String>,
    Vec<(CheckField, usize, usize)>,
    Option<(usize, usize)>,
);

fn layouts() -> Vec<Layout> {
    use CheckField::*;
    vec![
        (
            owned(&TD3),
            vec![
                (DocumentNumber, 1, 9),
                (DateOfBirth, 1, 19),
                (ExpiryDate, 1, 27),
                (OptionalData, 1, 42),
                (Composite, 1, 43),
            ],
            Some((1, 43)),
        ),
        (
            owned(&TD2),
            vec![
                (DocumentNumber, 1, 9),
                (DateOfBirth, 1, 19),
                (ExpiryDate, 1, 27),
                (Composite, 1, 35),
            ],
            Some((1, 35)),
        ),
        (
            owned(&TD1),
            vec![
                (DocumentNumber, 0, 14),
                (DateOfBirth, 1, 6),
                (ExpiryDate, 1, 14),
                (Composite, 1, 29),
            ],
            Some((1, 29)),
        ),
        (
            owned(&MRV_A),
            vec![
                (DocumentNumber, 1, 9),
                (DateOfBirth, 1, 19),
                (ExpiryDate, 1, 27),
            ],
            None,
        ),
        (
            owned(&MRV_B),
            vec![
                (DocumentNumber, 1, 9),
                (DateOfBirth, 1, 19),
                (ExpiryDate, 1, 27),
            ],
            None,
        ),
    ]
}

#[test]
fn every_check_digit_fails_alone_when_flipped() {
    for (base, checks, composite) in layouts() {
        for &(field, line, col) in &checks {
            let mut lines = base.clone();
            let flipped = bump_digit(char_at(&lines, line, col));
            set_char(&mut lines, line, col, flipped);
            if field != CheckField::Composite {
                fix_composite(&mut lines, composite);
            }
            let m = parse_lines(&lines);
            assert_eq!(failed(&m), vec![field], "{lines:?}");
            assert!(!m.valid);
            let r = m.check_digits.iter().find(|c| c.field == field).unwrap();
            assert_eq!(r.actual, flipped);
            assert_eq!(r.expected, char_at(&base, line, col));
        }
    }
}

#[test]
fn corrupting_field_data_fails_field_and_composite() {
    use CheckField::*;
    // (lines, field, line, col of a data digit, has composite)
    let cases: Vec<(Vec<String>, CheckField, usize, usize, bool)> = vec![
        (owned(&TD3), DocumentNumber, 1, 3, true),
        (owned(&TD3), DateOfBirth, 1, 14, true),
        (owned(&TD3), ExpiryDate, 1, 22, true),
        (owned(&TD3), OptionalData, 1, 31, true),
        (owned(&TD2), DocumentNumber, 1, 3, true),
        (owned(&TD2), DateOfBirth, 1, 14, true),
        (owned(&TD2), ExpiryDate, 1, 22, true),
        (owned(&TD1), DocumentNumber, 0, 8, true),
        (owned(&TD1), DateOfBirth, 1, 1, true),
        (owned(&TD1), ExpiryDate, 1, 9, true),
        (owned(&MRV_A), DateOfBirth, 1, 14, false),
    ];
    for (mut lines, field, line, col, has_composite) in cases {
        let c = bump_digit(char_at(&lines, line, col));
        set_char(&mut lines, line, col, c);
        let m = parse_lines(&lines);
        let mut want = vec![field];
        if has_composite {
            want.push(Composite);
        }
        assert_eq!(failed(&m), want, "{lines:?}");
    }
}

#[test]
fn td1_optional_data_is_covered_by_composite_only() {
    let mut lines = owned(&TD1);
    set_char(&mut lines, 0, 20, 'X');
    let m = parse_lines(&lines);
    assert_eq!(failed(&m), vec![CheckField::Composite]);
    // Only trailing fillers are trimmed: positions inside optional data are issuer-defined.
    assert_eq!(m.optional_data, "<<<<<X");
}

#[test]
fn td3_empty_personal_number_accepts_filler_check_digit() {
    let mut lines = owned(&TD3);
    let l2 = lines[1].clone();
    lines[1] = format!("{}{}<{}", &l2[..28], "<".repeat(14), &l2[43..]);
    fix_composite(&mut lines, Some((1, 43)));
    let m = parse_lines(&lines);
    assert!(m.valid, "{:?}", m.check_digits);
    assert_eq!(m.optional_data, "");
    // `0` is the computed digit of all fillers, so it is valid too.
    set_char(&mut lines, 1, 42, '0');
    fix_composite(&mut lines, Some((1, 43)));
    assert!(parse_lines(&lines).valid);
    // A filler check digit is not accepted when the personal number is present.
    let mut lines = owned(&TD3);
    set_char(&mut lines, 1, 42, '<');
    fix_composite(&mut lines, Some((1, 43)));
    assert_eq!(failed(&parse_lines(&lines)), vec![CheckField::OptionalData]);
}

#[test]
fn td1_long_document_number() {
    let number = "D23145890734";
    let check = char::from(compute_check_digit(number.as_bytes()));
    let mut lines = vec![
        format!("I<UTOD23145890<734{check}<<<<<<<<<<<"),
        "7408122F1204159UTO<<<<<<<<<<<0".to_owned(),
        "ERIKSSON<<ANNA<MARIA<<<<<<<<<<".to_owned(),
    ];
    fix_composite(&mut lines, Some((1, 29)));
    let m = parse_lines(&lines);
    assert_eq!(m.document_number, number);
    assert_eq!(m.optional_data, "");
    assert!(m.valid, "{:?}", m.check_digits);
    // The extension's own check digit is the document-number check.
    let bad = bump_digit(check);
    set_char(&mut lines, 0, 18, bad);
    fix_composite(&mut lines, Some((1, 29)));
    assert_eq!(
        failed(&parse_lines(&lines)),
        vec![CheckField::DocumentNumber]
    );
}

#[test]
fn td2_long_document_number() {
    let number = "D23145890073";
    let check = char::from(compute_check_digit(number.as_bytes()));
    let mut lines = vec![
        TD2[0].to_owned(),
        format!("D23145890<UTO7408122F1204159073{check}<<<0"),
    ];
    fix_composite(&mut lines, Some((1, 35)));
    let m = parse_lines(&lines);
    assert_eq!(m.document_number, number);
    assert!(m.valid, "{:?}", m.check_digits);
}

#[test]
fn residence_permit_code() {
    let mut lines = owned(&TD1);
    set_char(&mut lines, 0, 1, 'R');
    let m = parse_lines(&lines);
    assert_eq!(m.document_code, "IR");
    assert_eq!(m.document_kind, DocumentKind::ResidencePermit);
    assert_eq!(m.extracted_data()["document_type"], "residence_permit");
}

#[test]
fn tolerant_input_forms() {
    let crlf = format!("  {}\r\n{}  \r\n\r\n", TD3[0], TD3[1]);
    assert!(parse(&crlf, today()).unwrap().valid);
    let lower = TD3.join("\n").to_lowercase();
    let m = parse(&lower, today()).unwrap();
    assert!(m.valid);
    assert_eq!(m.surname, "ERIKSSON");
    for single in [TD1.concat(), TD2.concat(), TD3.concat()] {
        assert!(parse(&single, today()).unwrap().valid, "{single}");
    }
}

#[test]
fn structural_errors() {
    assert_eq!(parse("", today()), Err(MrzError::Empty));
    assert_eq!(parse(" \n \r\n", today()), Err(MrzError::Empty));
    assert_eq!(
        parse(TD3[0], today()),
        Err(MrzError::WrongLineCount { found: 1 })
    );
    assert_eq!(
        parse(&[TD3[0], TD3[1], TD3[1], TD3[1]].join("\n"), today()),
        Err(MrzError::WrongLineCount { found: 4 })
    );
    assert_eq!(
        parse(&format!("{}\n{}<", TD3[0], TD3[1]), today()),
        Err(MrzError::WrongLineLength {
            line: 2,
            expected: 44,
            found: 45
        })
    );
    assert_eq!(
        parse(&format!("{}\n{}", TD3[0], TD2[1]), today()),
        Err(MrzError::WrongLineLength {
            line: 2,
            expected: 44,
            found: 36
        })
    );
    assert_eq!(
        parse(&format!("{}\n{}", TD1[0], TD1[1]), today()),
        Err(MrzError::WrongLineLength {
            line: 1,
            expected: 36,
            found: 30
        })
    );
    assert!(matches!(
        parse(
            &format!("{}\n{}", TD3[0].replace("ANNA<", "ANNA "), TD3[1]),
            today()
        ),
        Err(MrzError::InvalidCharacter {
            line: 1,
            column: 20,
            ch: ' '
        })
    ));
    assert!(matches!(
        parse(
            &format!("{}\n{}", TD3[0].replace('O', "Ö"), TD3[1]),
            today()
        ),
        Err(MrzError::InvalidCharacter { ch: 'Ö', .. })
    ));
    let mut lines = owned(&TD3);
    set_char(&mut lines, 1, 20, 'Q');
    assert_eq!(
        parse(&lines.join("\n"), today()),
        Err(MrzError::InvalidSex { ch: 'Q' })
    );
    assert!(matches!(
        parse(&"<".repeat(5000), today()),
        Err(MrzError::TooLong { .. })
    ));
}

#[test]
fn unknown_birth_day_keeps_raw_and_no_date() {
    let mut lines = owned(&TD3);
    set_char(&mut lines, 1, 17, '<');
    set_char(&mut lines, 1, 18, '<');
    let m = parse_lines(&lines);
    assert_eq!(m.date_of_birth.raw, "7408<<");
    assert_eq!(m.date_of_birth.date, None);
    assert!(!m.extracted_data().contains_key("date_of_birth"));
}

#[test]
fn century_inference() {
    let r = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
    assert_eq!(infer_birth_date(b"260615", r), date(2026, 6, 15));
    assert_eq!(infer_birth_date(b"260616", r), date(1926, 6, 16));
    assert_eq!(infer_birth_date(b"991231", r), date(1999, 12, 31));
    assert_eq!(infer_birth_date(b"050101", r), date(2005, 1, 1));
    // 2000 is a leap year, 1900 is not.
    assert_eq!(infer_birth_date(b"000229", r), date(2000, 2, 29));
    assert_eq!(infer_expiry_date(b"760101", r), date(2076, 1, 1));
    assert_eq!(infer_expiry_date(b"770101", r), date(1977, 1, 1));
    assert_eq!(infer_expiry_date(b"120415", r), date(2012, 4, 15));
    assert_eq!(infer_expiry_date(b"991301", r), None);
    assert_eq!(infer_expiry_date(b"99", r), None);
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
        let _ = parse(&s, today());
    }

    #[test]
    fn shaped_garbage_never_panics(
        lines in prop::collection::vec("[A-Z0-9<]{28,46}", 1..4),
    ) {
        let _ = parse(&lines.join("\n"), today());
    }

    #[test]
    fn well_formed_lengths_always_parse_or_report_sex(
        l in prop_oneof![
            prop::collection::vec("[A-Z0-9<]{30}", 3..=3),
            prop::collection::vec("[A-Z0-9<]{36}", 2..=2),
            prop::collection::vec("[A-Z0-9<]{44}", 2..=2),
        ],
    ) {
        match parse(&l.join("\n"), today()) {
            Ok(m) => prop_assert_eq!(m.valid, m.check_digits.iter().all(|c| c.valid)),
            Err(e) => prop_assert!(matches!(e, MrzError::InvalidSex { .. }), "{e:?}"),
        }
    }
}
