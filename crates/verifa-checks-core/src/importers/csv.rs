//! A minimal RFC 4180 reader (quoted fields, `""` escapes, embedded newlines, CRLF), enough for
//! the list formats here without another dependency. Each record remembers the line it starts on
//! so importers can point at it.

use super::ImportError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

impl Record {
    pub fn get(&self, idx: usize) -> &str {
        self.fields.get(idx).map_or("", String::as_str)
    }
}

/// Splits `text` into records. Blank lines, and lines holding only control characters (OFAC files
/// end with a DOS end-of-file `\x1a`), are skipped. Text after a closing quote is kept verbatim
/// (lenient, like most spreadsheet exports expect).
pub(crate) fn parse(text: &str) -> Result<Vec<Record>, ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut chars = text.chars().peekable();

    let mut finish_record = |fields: &mut Vec<String>, field: &mut String, record_line: usize| {
        fields.push(std::mem::take(field));
        let blank = fields
            .iter()
            .all(|f| f.chars().all(|c| c.is_control() || c.is_whitespace()));
        let taken = std::mem::take(fields);
        if !blank {
            records.push(Record {
                line: record_line,
                fields: taken,
            });
        }
    };

    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                finish_record(&mut fields, &mut field, record_line);
                line += 1;
                record_line = line;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(ImportError::UnterminatedQuote { line: record_line });
    }
    if !field.is_empty() || !fields.is_empty() {
        finish_record(&mut fields, &mut field, record_line);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_escapes_and_lines() {
        let text = "a,\"b, c\",\"say \"\"hi\"\"\"\r\n\r\n1,\"multi\nline\",3\n\u{1a}\nlast,x";
        let r = parse(text).unwrap();
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].fields, vec!["a", "b, c", "say \"hi\""]);
        assert_eq!(r[0].line, 1);
        assert_eq!(r[1].fields, vec!["1", "multi\nline", "3"]);
        assert_eq!(r[1].line, 3);
        assert_eq!(r[2].line, 6);
        assert_eq!(r[2].get(1), "x");
        assert_eq!(r[2].get(9), "");
    }

    #[test]
    fn unterminated_quote_names_start_line() {
        assert_eq!(
            parse("ok\n\"never closed\nmore"),
            Err(ImportError::UnterminatedQuote { line: 2 })
        );
    }
}
