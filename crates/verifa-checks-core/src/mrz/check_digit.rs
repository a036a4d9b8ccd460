//! ICAO 9303 check digits: weights 7-3-1 repeating, `<` = 0, `0`-`9` = face value,
//! `A`-`Z` = 10-35, result is the weighted sum modulo 10.

/// The value ICAO assigns to one MRZ character. Characters outside the MRZ alphabet count as 0;
/// the parser rejects them before this is reached, so the fallback only matters for direct callers.
fn char_value(b: u8) -> u32 {
    match b {
        b'0'..=b'9' => u32::from(b - b'0'),
        b'A'..=b'Z' => u32::from(b - b'A') + 10,
        _ => 0,
    }
}

/// Computes the check digit of `data` and returns it as an ASCII digit (`b'0'..=b'9'`).
pub fn compute(data: &[u8]) -> u8 {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let sum: u32 = data
        .iter()
        .zip(WEIGHTS.iter().cycle())
        .map(|(&b, &w)| char_value(b) * w)
        .fold(0u32, |acc, x| (acc + x) % 10);
    // `sum` < 10, so the cast cannot truncate.
    b'0' + sum as u8
}

#[cfg(test)]
mod tests {
    use super::compute;

    #[test]
    fn icao_examples() {
        assert_eq!(compute(b"L898902C3"), b'6');
        assert_eq!(compute(b"740812"), b'2');
        assert_eq!(compute(b"120415"), b'9');
        assert_eq!(compute(b"ZE184226B<<<<<"), b'1');
        assert_eq!(compute(b"D23145890"), b'7');
        assert_eq!(compute(b"<<<<"), b'0');
        assert_eq!(compute(b""), b'0');
    }
}
