//! Where passphrases come from: `--passphrase-file`, `CASELOAD_PASSPHRASE`, or a
//! no-echo prompt. Held in zeroizing memory and never logged.

use std::io::IsTerminal;
use std::path::Path;
use zeroize::Zeroizing;

pub const ENV: &str = "CASELOAD_PASSPHRASE";
pub const ENV_NEW: &str = "CASELOAD_NEW_PASSPHRASE";
/// New passphrases must be at least this long (characters).
pub use crate::store::header::MIN_PASSPHRASE_LEN as MIN_LEN;

pub type Secret = Zeroizing<String>;

fn from_file(path: &Path) -> Result<Secret, String> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read passphrase file {}: {e}", path.display()))?,
    );
    let line = text.lines().next().unwrap_or("");
    if line.is_empty() {
        return Err(format!("passphrase file {} is empty", path.display()));
    }
    Ok(Zeroizing::new(line.to_string()))
}

fn from_env(var: &str) -> Option<Secret> {
    std::env::var(var)
        .ok()
        .filter(|s| !s.is_empty())
        .map(Zeroizing::new)
}

fn prompt(label: &str) -> Result<Secret, String> {
    rpassword::prompt_password(label)
        .map(Zeroizing::new)
        .map_err(|e| format!("cannot read the passphrase: {e}"))
}

fn no_terminal(var: &str) -> String {
    format!("no passphrase given: set {var}, use --passphrase-file, or run in a terminal")
}

/// An enrolment token, asked for without echo.
pub fn prompt_token() -> Result<String, String> {
    if !std::io::stdin().is_terminal() {
        return Err("no enrolment token: use --token-file or run in a terminal".into());
    }
    rpassword::prompt_password("Enrolment token: ")
        .map_err(|e| format!("cannot read the token: {e}"))
}

/// A passphrase given without asking (file or environment), if any.
pub fn given(file: Option<&Path>) -> Result<Option<Secret>, String> {
    match file {
        Some(f) => from_file(f).map(Some),
        None => Ok(from_env(ENV)),
    }
}

/// Whether a passphrase is given without asking (file or environment),
/// without reading it.
pub fn at_hand(file: Option<&Path>) -> bool {
    file.is_some() || from_env(ENV).is_some()
}

/// The passphrase of an existing store.
pub fn existing(file: Option<&Path>, what: &str) -> Result<Secret, String> {
    if let Some(f) = file {
        return from_file(f);
    }
    if let Some(p) = from_env(ENV) {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        prompt(&format!("Passphrase for {what}: "))
    } else {
        Err(no_terminal(ENV))
    }
}

/// A new passphrase: from the file or variable, else typed twice.
pub fn new(file: Option<&Path>, var: &str) -> Result<Secret, String> {
    let p = if let Some(f) = file {
        from_file(f)?
    } else if let Some(p) = from_env(var) {
        p
    } else if std::io::stdin().is_terminal() {
        let first = prompt("New passphrase: ")?;
        // Refuse a short one at once, before asking for it again.
        check_new(&first)?;
        let second = prompt("Repeat it: ")?;
        if first != second {
            return Err("the two passphrases differ; nothing was changed".into());
        }
        first
    } else {
        return Err(no_terminal(var));
    };
    check_new(&p)?;
    Ok(p)
}

pub use crate::store::header::check_new_passphrase as check_new;
