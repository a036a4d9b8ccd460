//! Name normalisation and fuzzy name similarity, shared by watchlist screening and identity
//! crossref.
//!
//! [`normalize`] maps a personal name to a canonical lowercase ASCII-ish form:
//! NFKD decomposition with combining marks dropped (é→e, ü→u, й→и→i), a table for Latin letters
//! that do not decompose (ß→ss, æ→ae, ø→o, ł→l, đ→d, þ→th, œ→oe, ı→i, …), a simple
//! Cyrillic→Latin and Greek→Latin transliteration (one fixed scheme each; close to BGN/PCGN and
//! ELOT, with only the ου/αυ/ευ digraphs handled), lowercase, every non-alphanumeric character (punctuation,
//! hyphens, apostrophes) → space, and whitespace collapsed. Scripts outside that set (CJK, Arabic…)
//! pass through lowercased, so they still match themselves exactly.
//!
//! [`similarity`] is the trigram similarity used for screening: the Jaccard coefficient of the
//! *sets* of trigrams of each token, each token padded pg_trgm-style (`"  anna "`). Because
//! trigrams are taken per token and compared as sets, token order and punctuation do not matter:
//! "Anna Maria Eriksson" and "ERIKSSON, Anna-Maria" score 1.0. Jaccard (not Dice) is used because
//! it matches PostgreSQL's `similarity()` semantics that a 0.6 threshold is usually tuned for, and
//! it is the stricter of the two, which keeps "shares a first name" pairs under the threshold.
//!
//! [`jaro_winkler`] is offered for field-by-field crossref of short strings (first name vs first
//! name), where a single typo matters more than token order.

use std::collections::HashSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Transliteration of one lowercase character that NFKD leaves alone, or `None` to keep it.
fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        // Latin letters without a canonical decomposition.
        'ß' => "ss",
        'æ' => "ae",
        'ø' => "o",
        'ł' => "l",
        'đ' => "d",
        'ð' => "d",
        'þ' => "th",
        'œ' => "oe",
        'ı' => "i",
        'ħ' => "h",
        'ŧ' => "t",
        'ŋ' => "ng",
        'ĸ' => "k",
        'ſ' => "s",
        'ŀ' => "l",
        'ɨ' => "i",
        'ƒ' => "f",
        // Cyrillic (Russian, Ukrainian, Belarusian, Serbian/Macedonian letters). Letters with
        // diacritics (ё, й, ї, ў) have already been decomposed to their base letter.
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' => "e",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'і' => "i",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ы' => "y",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        'ђ' => "dj",
        'ј' => "j",
        'љ' => "lj",
        'њ' => "nj",
        'ћ' => "c",
        'џ' => "dz",
        'ѓ' => "gj",
        'ќ' => "kj",
        'ѕ' => "dz",
        // Greek (accented vowels already decomposed).
        'α' => "a",
        'β' => "v",
        'γ' => "g",
        'δ' => "d",
        'ε' => "e",
        'ζ' => "z",
        'η' => "i",
        'θ' => "th",
        'ι' => "i",
        'κ' => "k",
        'λ' => "l",
        'μ' => "m",
        'ν' => "n",
        'ξ' => "x",
        'ο' => "o",
        'π' => "p",
        'ρ' => "r",
        'σ' | 'ς' => "s",
        'τ' => "t",
        'υ' => "y",
        'φ' => "f",
        'χ' => "ch",
        'ψ' => "ps",
        'ω' => "o",
        _ => return None,
    })
}

/// Canonical form of a name (see module docs). Idempotent: `normalize(normalize(x)) == normalize(x)`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    // Pending space: emitted lazily so separators collapse and never lead or trail.
    let mut gap = false;
    // Previous source letter, for the Greek digraphs ου → ou and αυ/ευ → av/ev.
    let mut prev = ' ';
    for decomposed in name.nfkd() {
        if is_combining_mark(decomposed) {
            continue;
        }
        for c in decomposed.to_lowercase() {
            // Lowercasing can itself produce marks (İ → i + U+0307).
            if is_combining_mark(c) {
                continue;
            }
            let mapped = match (prev, c) {
                ('ο', 'υ') => Some("u"),
                ('α' | 'ε' | 'η', 'υ') => Some("v"),
                _ => transliterate(c),
            };
            prev = c;
            // Letters that transliterate to nothing (ъ, ь) neither start a word nor split one.
            if mapped == Some("") {
                continue;
            }
            let is_word = mapped.is_some() || c.is_alphanumeric();
            if !is_word {
                gap = true;
                continue;
            }
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            match mapped {
                Some(s) => out.push_str(s),
                None => out.push(c),
            }
        }
    }
    out
}

/// Normalised tokens, sorted and de-duplicated: a canonical, order-free representation.
pub fn normalize_sorted(name: &str) -> String {
    let norm = normalize(name);
    let mut tokens: Vec<&str> = norm.split(' ').filter(|t| !t.is_empty()).collect();
    tokens.sort_unstable();
    tokens.dedup();
    tokens.join(" ")
}

/// A trigram packed into a `u64` (three 21-bit code points), cheap to hash and sort.
pub type Trigram = u64;

fn pack(a: char, b: char, c: char) -> Trigram {
    (u64::from(u32::from(a)) << 42) | (u64::from(u32::from(b)) << 21) | u64::from(u32::from(c))
}

/// Sorted, de-duplicated trigrams of an already-normalised name: each token padded with two
/// spaces in front and one behind, like PostgreSQL's pg_trgm.
pub fn trigrams_of_normalized(normalized: &str) -> Vec<Trigram> {
    let mut out = Vec::with_capacity(normalized.len() + 8);
    for token in normalized.split(' ').filter(|t| !t.is_empty()) {
        let mut a = ' ';
        let mut b = ' ';
        for c in token.chars().chain(std::iter::once(' ')) {
            out.push(pack(a, b, c));
            a = b;
            b = c;
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Trigrams of a raw name (normalises first).
pub fn trigrams(name: &str) -> Vec<Trigram> {
    trigrams_of_normalized(&normalize(name))
}

/// Size of the intersection of two sorted, de-duplicated slices.
pub fn shared_count(a: &[Trigram], b: &[Trigram]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Jaccard coefficient from set sizes and intersection size; two empty sets score 0 (an empty
/// name matches nothing, not everything).
pub fn jaccard(len_a: usize, len_b: usize, shared: usize) -> f64 {
    let union = len_a + len_b - shared.min(len_a + len_b);
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

/// Trigram similarity of two names in `0.0..=1.0` (see module docs).
pub fn similarity(a: &str, b: &str) -> f64 {
    let ta = trigrams(a);
    let tb = trigrams(b);
    jaccard(ta.len(), tb.len(), shared_count(&ta, &tb))
}

/// Jaro-Winkler similarity of two strings as given (no normalisation), in `0.0..=1.0`, with the
/// usual prefix scale 0.1 over at most 4 characters.
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let jaro = jaro(&a, &b);
    let prefix = a
        .iter()
        .zip(b.iter())
        .take(4)
        .take_while(|(x, y)| x == y)
        .count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

fn jaro(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let window = (a.len().max(b.len()) / 2).saturating_sub(1);
    let mut b_used = vec![false; b.len()];
    let mut a_matches = Vec::with_capacity(a.len());
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(b.len());
        for j in lo..hi {
            if let (Some(cb), Some(used)) = (b.get(j), b_used.get_mut(j))
                && !*used
                && cb == ca
            {
                *used = true;
                a_matches.push(*ca);
                break;
            }
        }
    }
    let m = a_matches.len();
    if m == 0 {
        return 0.0;
    }
    let b_matches = b
        .iter()
        .zip(b_used.iter())
        .filter(|(_, used)| **used)
        .map(|(c, _)| *c);
    let transpositions = a_matches
        .iter()
        .zip(b_matches)
        .filter(|(x, y)| *x != y)
        .count()
        / 2;
    let m = m as f64;
    (m / a.len() as f64 + m / b.len() as f64 + (m - transpositions as f64) / m) / 3.0
}

/// Jaro-Winkler over the normalised, token-sorted forms: order- and accent-insensitive, for
/// comparing a user-typed name with an extracted one.
pub fn jaro_winkler_names(a: &str, b: &str) -> f64 {
    jaro_winkler(&normalize_sorted(a), &normalize_sorted(b))
}

/// Distinct normalised tokens (used to reason about which parts of two names agree).
pub fn tokens(name: &str) -> HashSet<String> {
    normalize(name)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalize_strips_accents_and_punctuation() {
        assert_eq!(
            normalize("  José   MÜLLER-Lüdenscheidt "),
            "jose muller ludenscheidt"
        );
        assert_eq!(normalize("ERIKSSON, Anna-Maria"), "eriksson anna maria");
        assert_eq!(normalize("O'Brien"), "o brien");
        assert_eq!(normalize("Łukasz Żółć"), "lukasz zolc");
        assert_eq!(
            normalize("Straße Ærø Œuvre Þór Đorđe"),
            "strasse aero oeuvre thor dorde"
        );
        assert_eq!(normalize("Yıldız"), "yildiz");
        assert_eq!(normalize("İstanbul"), "istanbul");
        assert_eq!(normalize("ﬁnn"), "finn");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize(" - , "), "");
    }

    #[test]
    fn normalize_transliterates_cyrillic_and_greek() {
        assert_eq!(normalize("Ольга Петрова"), "olga petrova");
        assert_eq!(normalize("Сергей Щербаков"), "sergei shcherbakov");
        assert_eq!(normalize("Юлия Ёлкина"), "yuliya elkina");
        assert_eq!(normalize("Ильич ъ Объедков"), "ilich obedkov");
        assert_eq!(normalize("Γιώργος Παπαδόπουλος"), "giorgos papadopoulos");
        assert_eq!(normalize("Σωκράτης"), "sokratis");
        assert_eq!(normalize("Ευάγγελος"), "evaggelos");
    }

    #[test]
    fn other_scripts_pass_through() {
        assert_eq!(normalize("李 小龍"), "李 小龍");
        assert_eq!(similarity("李小龍", "李小龍"), 1.0);
    }

    #[test]
    fn reordered_and_punctuated_names_are_identical() {
        assert_eq!(
            similarity("Anna Maria Eriksson", "ERIKSSON, Anna-Maria"),
            1.0
        );
        assert_eq!(
            normalize_sorted("Eriksson, Anna Maria Anna"),
            "anna eriksson maria"
        );
    }

    #[test]
    fn unicode_variants_match() {
        assert_eq!(similarity("José Müller", "Jose Muller"), 1.0);
        assert!(similarity("José Müller", "Jose Mueller") >= 0.6);
        assert_eq!(similarity("Ольга Петрова", "Olga Petrova"), 1.0);
        assert_eq!(similarity("Łukasz Nowak", "Lukasz Nowak"), 1.0);
        assert!(similarity("Anna Eriksson", "Anna Maria Eriksson") >= 0.6);
        assert!(similarity("Ana Erikson", "Anna Eriksson") >= 0.5);
    }

    #[test]
    fn different_people_score_low() {
        assert!(similarity("Anna Maria Schmidt", "Anna Maria Eriksson") < 0.6);
        assert!(similarity("John Smith", "John Doe") < 0.6);
        assert!(similarity("Anna", "Anna Maria Eriksson") < 0.6);
        assert_eq!(similarity("", "Anna"), 0.0);
        assert_eq!(similarity("", ""), 0.0);
    }

    #[test]
    fn jaro_winkler_known_values() {
        let close = |x: f64, y: f64| (x - y).abs() < 1e-3;
        assert!(close(jaro_winkler("MARTHA", "MARHTA"), 0.961));
        assert!(close(jaro_winkler("DWAYNE", "DUANE"), 0.84));
        assert!(close(jaro_winkler("DIXON", "DICKSONX"), 0.813));
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("a", ""), 0.0);
        assert_eq!(jaro_winkler_names("Müller, José", "jose muller"), 1.0);
        assert!(jaro_winkler_names("Jon Smith", "John Smith") > 0.9);
    }

    proptest! {
        #[test]
        fn similarity_is_bounded_symmetric_and_reflexive(a in "\\PC{0,40}", b in "\\PC{0,40}") {
            let s = similarity(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert!((s - similarity(&b, &a)).abs() < 1e-12);
            if !normalize(&a).is_empty() {
                prop_assert_eq!(similarity(&a, &a), 1.0);
            }
            let jw = jaro_winkler(&a, &b);
            prop_assert!((0.0..=1.0 + 1e-12).contains(&jw));
        }

        #[test]
        fn normalize_is_idempotent(a in "\\PC{0,40}") {
            let n = normalize(&a);
            prop_assert_eq!(normalize(&n), n.clone());
        }
    }
}
