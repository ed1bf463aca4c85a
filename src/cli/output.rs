//! Everything the command line prints goes through here: one sanitiser for the
//! terminal ([`printable`]), spreadsheet-safe CSV, and a quiet end when the
//! reader has gone (`caseload people | head -1`).

use crate::domain::text::{printable, refused_char, spreadsheet_safe};
use std::io::{self, Write};

/// Writes `text`, sanitised, to standard output.
pub fn stdout(text: &str) {
    let out = io::stdout();
    let mut out = out.lock();
    quiet_on_closed_pipe(out.write_all(printable(text).as_bytes()));
}

/// Writes `text`, sanitised, to standard error.
pub fn stderr(text: &str) {
    let _ = io::stderr().lock().write_all(printable(text).as_bytes());
}

/// A reader that closed the pipe wants no more: stop at once, quietly and
/// successfully, as `head` expects. Other write errors are ignored like
/// `println!` would not: the command's own result decides the exit code.
fn quiet_on_closed_pipe(result: io::Result<()>) {
    if let Err(e) = result
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// Writes `value` as pretty JSON. Characters the input rule refuses are
/// escaped as JSON (`\u001b`, `\u202e`) rather than shown: scripts get the
/// data exactly, terminals get nothing to obey.
pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), serde_json::Error> {
    let mut text = json_escaped(&serde_json::to_string_pretty(value)?);
    text.push('\n');
    let out = io::stdout();
    let mut out = out.lock();
    quiet_on_closed_pipe(out.write_all(text.as_bytes()));
    Ok(())
}

/// Writes `value` as one line of JSON, escaped as [`json`] does.
pub fn json_line<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), serde_json::Error> {
    let mut text = json_escaped(&serde_json::to_string(value)?);
    text.push('\n');
    let out = io::stdout();
    let mut out = out.lock();
    quiet_on_closed_pipe(out.write_all(text.as_bytes()));
    Ok(())
}

/// Outside strings JSON has only ASCII punctuation and white space, so every
/// refused character is inside a string, where its escape means the same.
fn json_escaped(text: &str) -> String {
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        if refused_char(c, true).is_some() {
            safe.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            safe.push(c);
        }
    }
    safe
}

/// Standard output as a writer for the `csv` crate, quiet on a closed pipe.
struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = io::stdout().lock().write(buf);
        if let Err(e) = &r
            && e.kind() == io::ErrorKind::BrokenPipe
        {
            std::process::exit(0);
        }
        r
    }
    fn flush(&mut self) -> io::Result<()> {
        let r = io::stdout().lock().flush();
        quiet_on_closed_pipe(r);
        Ok(())
    }
}

/// Writes rows as CSV to standard output. Every cell is made safe to open in a
/// spreadsheet (see [`spreadsheet_safe`]) and printable.
pub fn csv_rows<T: serde::Serialize>(rows: &[T]) -> Result<(), csv::Error> {
    // serde writes whole rows; the cells are reached by reading them back.
    let mut plain = csv::Writer::from_writer(Vec::new());
    for r in rows {
        plain.serialize(r)?;
    }
    let bytes = plain.into_inner().map_err(|e| e.into_error())?;
    write_safe_csv(&bytes, Stdout)
}

fn write_safe_csv(bytes: &[u8], to: impl Write) -> Result<(), csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut w = csv::Writer::from_writer(to);
    for record in reader.records() {
        let record = record?;
        w.write_record(record.iter().map(|cell| {
            let safe = spreadsheet_safe(cell);
            printable(&safe).into_owned()
        }))?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escapes_what_a_terminal_would_obey() {
        let v = serde_json::json!({ "note": "a\u{1b}[2J\u{202e}b\u{9b}" });
        let text = serde_json::to_string_pretty(&v).unwrap();
        assert!(text.contains('\u{202e}'), "serde_json alone leaves it raw");
        let safe = json_escaped(&text);
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, v, "the data is unchanged");
        assert!(safe.chars().all(|c| refused_char(c, true).is_none()));
    }

    #[test]
    fn formulas_in_any_cell_are_neutralised_and_numbers_kept() {
        #[derive(serde::Serialize)]
        struct Row {
            name: &'static str,
            gap: i32,
        }
        let mut plain = csv::Writer::from_writer(Vec::new());
        for name in [
            "=1+2",
            "=HYPERLINK(\"http://x\")",
            "+1",
            "@SUM(A1)",
            "\tx",
            "Dover",
        ] {
            plain.serialize(Row { name, gap: -90 }).unwrap();
        }
        let bytes = plain.into_inner().unwrap();
        let mut out = Vec::new();
        write_safe_csv(&bytes, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "name,gap");
        assert_eq!(lines[1], "'=1+2,-90");
        assert_eq!(lines[2], "\"'=HYPERLINK(\"\"http://x\"\")\",-90");
        assert_eq!(lines[3], "'+1,-90");
        assert_eq!(lines[4], "'@SUM(A1),-90");
        assert_eq!(lines[5], "'\tx,-90");
        assert_eq!(lines[6], "Dover,-90");
    }
}
