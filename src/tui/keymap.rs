//! Keymaps: TOML files binding keys to named actions, per context. The built-in
//! maps are `keymaps/default.toml` and `keymaps/vim.toml`; a user's file may
//! override single bindings. A bad file is reported (file, line, problem) and the
//! default map is used instead, so caseload always starts.

use super::action::Action;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;

pub const DEFAULT: &str = include_str!("../../keymaps/default.toml");
pub const VIM: &str = include_str!("../../keymaps/vim.toml");

/// Where a binding applies. Lookups try the most specific context first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    List,
    Caseload,
    Person,
    Form,
    Contact,
    Rating,
    Queue,
}

impl Context {
    pub const ALL: [Context; 8] = [
        Context::Global,
        Context::List,
        Context::Caseload,
        Context::Person,
        Context::Form,
        Context::Contact,
        Context::Rating,
        Context::Queue,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::List => "list",
            Context::Caseload => "caseload",
            Context::Person => "person",
            Context::Form => "form",
            Context::Contact => "contact",
            Context::Rating => "rating",
            Context::Queue => "queue",
        }
    }

    fn from_name(s: &str) -> Option<Context> {
        Context::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// A key with its modifiers, normalised so `S` and `shift-s` are the same chord.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

/// Ordered for display: plain keys before modified ones, then by name.
impl Ord for KeyChord {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.mods.bits(), self.to_string()).cmp(&(other.mods.bits(), other.to_string()))
    }
}

impl PartialOrd for KeyChord {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl KeyChord {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            // A character already carries its case; shift adds nothing.
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Self { code, mods }
    }

    pub fn from_event(e: &KeyEvent) -> Self {
        Self::new(e.code, e.modifiers)
    }

    /// Parses `ctrl-p`, `C-p`, `alt-x`, `shift-tab`, `S`, `?`, `enter`, `f1`, `pagedown`…
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = spec;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("c-") && rest.len() > 2 {
                (KeyModifiers::CONTROL, 2)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("m-") && rest.len() > 2 {
                (KeyModifiers::ALT, 2)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            mods |= m;
            rest = &rest[len..];
        }
        let named = match rest.to_ascii_lowercase().as_str() {
            "up" => Some(KeyCode::Up),
            "down" => Some(KeyCode::Down),
            "left" => Some(KeyCode::Left),
            "right" => Some(KeyCode::Right),
            "enter" | "return" => Some(KeyCode::Enter),
            "esc" | "escape" => Some(KeyCode::Esc),
            "tab" => Some(KeyCode::Tab),
            "backtab" => Some(KeyCode::BackTab),
            "space" => Some(KeyCode::Char(' ')),
            "backspace" => Some(KeyCode::Backspace),
            "delete" | "del" => Some(KeyCode::Delete),
            "home" => Some(KeyCode::Home),
            "end" => Some(KeyCode::End),
            "pageup" => Some(KeyCode::PageUp),
            "pagedown" => Some(KeyCode::PageDown),
            f if f.len() >= 2
                && f.starts_with('f')
                && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
            {
                f[1..].parse().ok().map(KeyCode::F)
            }
            _ => None,
        };
        let code = match named {
            Some(KeyCode::Tab) if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            Some(c) => c,
            None => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() => {
                        if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                            KeyCode::Char(c.to_ascii_uppercase())
                        } else {
                            KeyCode::Char(c)
                        }
                    }
                    _ => {
                        return Err(format!(
                            "{spec:?} is not a key (examples: q, S, ?, ctrl-p, shift-tab, enter, f1, pagedown)"
                        ));
                    }
                }
            }
        };
        Ok(Self::new(code, mods))
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.contains(KeyModifiers::CONTROL) => {
                write!(f, "{}", c.to_ascii_uppercase())
            }
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Keymap {
    bindings: HashMap<Context, HashMap<KeyChord, Action>>,
}

/// One problem in a keymap file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeymapError {
    pub file: String,
    pub line: usize,
    pub problem: String,
}

impl fmt::Display for KeymapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, line {}: {}", self.file, self.line, self.problem)
    }
}

type RawMap = BTreeMap<String, BTreeMap<String, toml::Spanned<String>>>;

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].lines().count().max(1)
}

impl Keymap {
    /// Parses and checks a keymap file's text: every problem is reported.
    pub fn parse(text: &str, file: &str) -> Result<Keymap, Vec<KeymapError>> {
        let err = |line, problem: String| KeymapError {
            file: file.to_string(),
            line,
            problem,
        };
        let raw: RawMap = toml::from_str(text).map_err(|e| {
            vec![err(
                e.span().map_or(1, |s| line_of(text, s.start)),
                e.message().to_string(),
            )]
        })?;
        let mut errors = Vec::new();
        let mut map = Keymap::default();
        for (context_name, entries) in raw {
            let Some(context) = Context::from_name(&context_name) else {
                let line = text
                    .lines()
                    .position(|l| l.trim() == format!("[{context_name}]"))
                    .map_or(1, |i| i + 1);
                errors.push(err(
                    line,
                    format!(
                        "unknown section [{context_name}]; sections are {}",
                        Context::ALL.map(Context::name).join(", ")
                    ),
                ));
                continue;
            };
            let mut seen: HashMap<KeyChord, (String, usize)> = HashMap::new();
            for (key, action) in entries {
                let line = line_of(text, action.span().start);
                let chord = match KeyChord::parse(&key) {
                    Ok(c) => c,
                    Err(p) => {
                        errors.push(err(line, p));
                        continue;
                    }
                };
                let Some(act) = Action::from_name(action.get_ref()) else {
                    errors.push(err(
                        line,
                        format!(
                            "unknown action {:?} (the help overlay and docs/keymaps.md list them)",
                            action.get_ref()
                        ),
                    ));
                    continue;
                };
                if let Some((other, other_line)) = seen.get(&chord) {
                    errors.push(err(
                        line,
                        format!("key {key:?} clashes with {other:?} on line {other_line} in [{context_name}]: both are {chord}"),
                    ));
                    continue;
                }
                seen.insert(chord, (key.clone(), line));
                map.bindings.entry(context).or_default().insert(chord, act);
            }
        }
        if errors.is_empty() {
            Ok(map)
        } else {
            Err(errors)
        }
    }

    pub fn builtin_default() -> Keymap {
        // The built-in maps are checked by a test; an empty map is unreachable.
        Keymap::parse(DEFAULT, "keymaps/default.toml").unwrap_or_default()
    }

    /// The keymap the config asks for, with the user's overrides; problems are
    /// returned beside the map actually used (the default, if the chosen one is bad).
    pub fn load(choice: &str, overrides: Option<&Path>) -> (Keymap, Vec<KeymapError>) {
        let (base, mut errors) = match choice {
            "default" => (Ok(Self::builtin_default()), Vec::new()),
            "vim" => (Keymap::parse(VIM, "keymaps/vim.toml"), Vec::new()),
            path => match crate::config::read_settings_file(std::path::Path::new(path)) {
                Ok(text) => (Keymap::parse(&text, path), Vec::new()),
                Err(e) => (
                    Err(vec![KeymapError {
                        file: path.to_string(),
                        line: 0,
                        problem: format!("cannot read: {e}"),
                    }]),
                    Vec::new(),
                ),
            },
        };
        let mut map = match base {
            Ok(m) => m,
            Err(e) => {
                errors.extend(e);
                Self::builtin_default()
            }
        };
        if let Some(path) = overrides {
            let name = path.display().to_string();
            match crate::config::read_settings_file(path)
                .map_err(|e| {
                    vec![KeymapError {
                        file: name.clone(),
                        line: 0,
                        problem: format!("cannot read: {e}"),
                    }]
                })
                .and_then(|t| Keymap::parse(&t, &name))
            {
                Ok(o) => map.merge(o),
                Err(e) => errors.extend(e),
            }
        }
        (map, errors)
    }

    fn merge(&mut self, other: Keymap) {
        for (ctx, binds) in other.bindings {
            self.bindings.entry(ctx).or_default().extend(binds);
        }
    }

    /// The action for a key in the first of `contexts` that binds it.
    pub fn lookup(&self, contexts: &[Context], chord: KeyChord) -> Option<Action> {
        contexts
            .iter()
            .find_map(|c| self.bindings.get(c).and_then(|b| b.get(&chord)).copied())
    }

    /// Every key bound to `action` in `context`, for help and hints.
    pub fn keys_for(&self, context: Context, action: Action) -> Vec<KeyChord> {
        let mut keys: Vec<KeyChord> = self
            .bindings
            .get(&context)
            .map(|b| {
                b.iter()
                    .filter(|(_, a)| **a == action)
                    .map(|(k, _)| *k)
                    .collect()
            })
            .unwrap_or_default();
        keys.sort();
        keys
    }

    /// The first key for `action` in any of `contexts`, as text ("?" if unbound).
    pub fn hint(&self, contexts: &[Context], action: Action) -> String {
        contexts
            .iter()
            .find_map(|c| self.keys_for(*c, action).first().copied())
            .map_or_else(|| "—".into(), |k| k.to_string())
    }

    pub fn bindings(&self, context: Context) -> Vec<(KeyChord, Action)> {
        let mut v: Vec<(KeyChord, Action)> = self
            .bindings
            .get(&context)
            .map(|b| b.iter().map(|(k, a)| (*k, *a)).collect())
            .unwrap_or_default();
        v.sort_by_key(|(k, a)| (*a, *k));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_is_documented() {
        let doc = include_str!("../../docs/keymaps.md");
        for a in Action::ALL {
            assert!(
                doc.contains(&format!("`{}`", a.name())),
                "docs/keymaps.md lacks {}",
                a.name()
            );
        }
    }

    #[test]
    fn built_in_keymaps_are_valid() {
        Keymap::parse(DEFAULT, "default").unwrap();
        Keymap::parse(VIM, "vim").unwrap();
    }

    #[test]
    fn chords_normalise() {
        assert_eq!(KeyChord::parse("ctrl-p"), KeyChord::parse("C-p"));
        assert_eq!(KeyChord::parse("S"), KeyChord::parse("shift-s"));
        assert_eq!(KeyChord::parse("shift-tab"), KeyChord::parse("backtab"));
        assert_eq!(
            KeyChord::parse("S").unwrap(),
            KeyChord::from_event(&KeyEvent::new(KeyCode::Char('S'), KeyModifiers::SHIFT))
        );
        assert_eq!(
            KeyChord::parse("ctrl-l").unwrap(),
            KeyChord::from_event(&KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL))
        );
        assert!(KeyChord::parse("ctrl-").is_err());
        assert!(KeyChord::parse("hyper-x").is_err());
        assert!(KeyChord::parse("f13").is_err());
    }

    #[test]
    fn every_problem_is_named_with_file_and_line() {
        let text = "[global]\nq = \"quit\"\n\"ctrl-x\" = \"explode\"\n\"C-p\" = \"palette\"\n\"ctrl-p\" = \"help\"\n\"hyper-q\" = \"quit\"\n[nowhere]\nx = \"quit\"\n";
        let errors = Keymap::parse(text, "mine.toml").unwrap_err();
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert!(
            shown
                .iter()
                .any(|e| e.starts_with("mine.toml, line 3: unknown action \"explode\"")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|e| e.contains("line 5") && e.contains("clashes with \"C-p\" on line 4")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|e| e.contains("line 6") && e.contains("\"hyper-q\" is not a key")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|e| e.contains("line 7") && e.contains("unknown section [nowhere]")),
            "{shown:?}"
        );
        let syntax = Keymap::parse("[global\nq = 1\n", "broken.toml").unwrap_err();
        assert_eq!(syntax[0].file, "broken.toml");
        assert_eq!(syntax[0].line, 1);
    }

    #[test]
    fn a_bad_file_falls_back_to_the_default_and_overrides_apply() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[global]\nq = \"nope\"\n").unwrap();
        let (map, errors) = Keymap::load(bad.to_str().unwrap(), None);
        assert_eq!(errors.len(), 1);
        let q = KeyChord::parse("q").unwrap();
        assert_eq!(map.lookup(&[Context::Global], q), Some(Action::Quit));

        let over = dir.path().join("over.toml");
        std::fs::write(&over, "[global]\nq = \"help\"\n").unwrap();
        let (map, errors) = Keymap::load("vim", Some(&over));
        assert!(errors.is_empty());
        assert_eq!(map.lookup(&[Context::Global], q), Some(Action::Help));
        let j = KeyChord::parse("j").unwrap();
        assert_eq!(map.lookup(&[Context::List], j), Some(Action::Down));
    }

    #[test]
    fn specific_contexts_win() {
        let map = Keymap::builtin_default();
        let r = KeyChord::parse("r").unwrap();
        assert_eq!(
            map.lookup(&[Context::Contact, Context::Caseload], r),
            Some(Action::OutcomePostReturned)
        );
        assert_eq!(
            map.lookup(&[Context::Caseload, Context::Global], r),
            Some(Action::RateRisk)
        );
    }
}
