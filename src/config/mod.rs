//! The user's settings: `$XDG_CONFIG_HOME/caseload/config.toml`, or `--config F`.
//! Every key is optional; `docs/configuration.md` lists them with their defaults.

use crate::domain::currency::CurrencyConfig;
use crate::domain::risk::{RiskConfig, RiskFactor};
use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use thiserror::Error;

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub cohort: CohortConfig,
    #[serde(deserialize_with = "risk_over_defaults")]
    pub risk: RiskConfig,
    pub currency: CurrencyConfig,
    pub targets: Targets,
    pub ui: UiConfig,
}

/// The council's targets, in percent, shown beside every figure.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Targets {
    pub neet_percent: f64,
    pub not_known_percent: f64,
    pub participation_percent: f64,
    /// Target NEET counts by vulnerable group (keys as in docs/configuration.md);
    /// a group not named keeps Kent's January 2017 target.
    pub group_neet: BTreeMap<String, u32>,
}

impl Targets {
    /// The group's NEET target: the config's, else Kent's; none for a group
    /// with neither.
    pub fn group_neet(&self, g: crate::domain::groups::VulnerableGroup) -> Option<u32> {
        self.group_neet.get(g.key()).copied().or(g.kent_target())
    }
}

impl Eq for Targets {}

impl Default for Targets {
    /// Kent's targets for January 2017.
    fn default() -> Self {
        Self {
            neet_percent: 1.0,
            not_known_percent: 4.0,
            participation_percent: 90.0,
            group_neet: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Theme {
    #[default]
    Default,
    HighContrast,
}

/// The terminal workbench.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UiConfig {
    /// `default` or `vim`, or a path to a keymap file.
    pub keymap: String,
    /// A file of single bindings that override the chosen keymap.
    pub keymap_overrides: Option<PathBuf>,
    /// `default` (16 colours) or `high-contrast`. NO_COLOR always wins.
    pub theme: Theme,
    /// Lock after this many minutes without a key (0 = never).
    pub idle_lock_minutes: u32,
    /// Sync with the hub in the background this often, in minutes, while
    /// unlocked (0 = only with the sync key).
    pub sync_minutes: u32,
}

impl Default for UiConfig {
    fn default() -> Self {
        Self {
            keymap: "default".into(),
            keymap_overrides: None,
            theme: Theme::Default,
            idle_lock_minutes: 10,
            sync_minutes: 5,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CohortConfig {
    /// Oldest academic age tracked for young people with an EHC plan (Kent's
    /// documents say 24 in places, the SEND Code of Practice 25).
    pub send_upper_age: i32,
}

impl Default for CohortConfig {
    fn default() -> Self {
        Self { send_upper_age: 24 }
    }
}

/// A `[risk]` table changes only what it names: weights are merged over the
/// defaults, so setting one factor to 0 does not silently zero the others.
fn risk_over_defaults<'de, D: Deserializer<'de>>(d: D) -> Result<RiskConfig, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Partial {
        weights: Option<BTreeMap<RiskFactor, u8>>,
        red_at: Option<u32>,
        amber_at: Option<u32>,
        review_days_red: Option<u32>,
        review_days_amber: Option<u32>,
        review_days_green: Option<u32>,
    }
    let p = Partial::deserialize(d)?;
    if p.weights
        .as_ref()
        .is_some_and(|w| w.contains_key(&RiskFactor::Send))
    {
        return Err(serde::de::Error::custom(
            "risk.weights.Send is weighed as two factors now: name EhcPlan and SenSupport instead",
        ));
    }
    let mut c = RiskConfig::default();
    c.weights.extend(p.weights.unwrap_or_default());
    c.red_at = p.red_at.unwrap_or(c.red_at);
    c.amber_at = p.amber_at.unwrap_or(c.amber_at);
    c.review_days_red = p.review_days_red.unwrap_or(c.review_days_red);
    c.review_days_amber = p.review_days_amber.unwrap_or(c.review_days_amber);
    c.review_days_green = p.review_days_green.unwrap_or(c.review_days_green);
    if c.amber_at > c.red_at {
        return Err(serde::de::Error::custom(
            "risk.amber_at must not be greater than risk.red_at",
        ));
    }
    Ok(c)
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}, {message}")]
    Parse { path: PathBuf, message: String },
}

/// The largest settings file read (config, keymap): far more than any real one.
pub const MAX_SETTINGS_FILE: u64 = 1024 * 1024;

/// Reads a settings file, which must be a regular file of at most
/// [`MAX_SETTINGS_FILE`] bytes. Opened without blocking, so a FIFO or a device
/// named by mistake (or malice) is refused at once instead of hanging the
/// workbench on a blank screen.
pub fn read_settings_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    if meta.len() > MAX_SETTINGS_FILE {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("larger than {MAX_SETTINGS_FILE} bytes"),
        ));
    }
    let mut text = String::new();
    file.take(MAX_SETTINGS_FILE + 1).read_to_string(&mut text)?;
    Ok(text)
}

/// One setting's allowed values, checked when the file is loaded
/// (docs/configuration.md lists them).
struct Range {
    table: &'static str,
    key: &'static str,
    min: f64,
    max: f64,
}

const fn range(table: &'static str, key: &'static str, min: f64, max: f64) -> Range {
    Range {
        table,
        key,
        min,
        max,
    }
}

const RANGES: &[Range] = &[
    range("cohort", "send_upper_age", 18.0, 25.0),
    range("risk", "red_at", 1.0, 100.0),
    range("risk", "amber_at", 1.0, 100.0),
    range("risk", "review_days_red", 1.0, 366.0),
    range("risk", "review_days_amber", 1.0, 366.0),
    range("risk", "review_days_green", 1.0, 366.0),
    range("currency", "employment_months", 1.0, 24.0),
    range("currency", "neet_months", 1.0, 24.0),
    range("currency", "other_months", 1.0, 24.0),
    range("currency", "neet_target_days", 1.0, 366.0),
    range("currency", "follow_up_months", 1.0, 24.0),
    range("targets", "neet_percent", 0.0, 100.0),
    range("targets", "not_known_percent", 0.0, 100.0),
    range("targets", "participation_percent", 0.0, 100.0),
    range("ui", "idle_lock_minutes", 0.0, 1440.0),
    range("ui", "sync_minutes", 0.0, 1440.0),
];

/// The most a risk factor's weight, or a group's NEET target, may be.
const MAX_WEIGHT: u8 = 20;
const MAX_GROUP_TARGET: u32 = 100_000;

impl Config {
    fn values(&self) -> [f64; 16] {
        let (c, r, cur, t, ui) = (
            &self.cohort,
            &self.risk,
            &self.currency,
            &self.targets,
            &self.ui,
        );
        [
            c.send_upper_age as f64,
            r.red_at as f64,
            r.amber_at as f64,
            r.review_days_red as f64,
            r.review_days_amber as f64,
            r.review_days_green as f64,
            cur.employment_months as f64,
            cur.neet_months as f64,
            cur.other_months as f64,
            cur.neet_target_days as f64,
            cur.follow_up_months as f64,
            t.neet_percent,
            t.not_known_percent,
            t.participation_percent,
            ui.idle_lock_minutes as f64,
            ui.sync_minutes as f64,
        ]
    }

    /// Every setting within its range; the error names the line and the key.
    fn check_ranges(&self, text: &str) -> Result<(), String> {
        let line_of = |key: &str| {
            text.lines()
                .position(|l| {
                    l.trim_start()
                        .strip_prefix(key)
                        .is_some_and(|r| r.trim_start().starts_with('='))
                })
                .map_or(0, |i| i + 1)
        };
        for (r, v) in RANGES.iter().zip(self.values()) {
            if !(v.is_finite() && v >= r.min && v <= r.max) {
                return Err(format!(
                    "line {}: {}.{} = {v} is out of range ({} to {})",
                    line_of(r.key),
                    r.table,
                    r.key,
                    r.min,
                    r.max
                ));
            }
        }
        for (factor, w) in &self.risk.weights {
            if *w > MAX_WEIGHT {
                return Err(format!(
                    "line {}: risk weight {factor:?} = {w} is out of range (0 to {MAX_WEIGHT})",
                    line_of("weights")
                ));
            }
        }
        for (group, n) in &self.targets.group_neet {
            if *n > MAX_GROUP_TARGET {
                return Err(format!(
                    "line {}: targets.group_neet.{group} = {n} is out of range (0 to {MAX_GROUP_TARGET})",
                    line_of(group)
                ));
            }
        }
        Ok(())
    }
}

pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("caseload").join("config.toml"))
}

impl Config {
    /// Loads `explicit` (which must exist), else the default file if present,
    /// else the defaults.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match default_path() {
                Some(p) if p.exists() => p,
                _ => return Ok(Config::default()),
            },
        };
        let text = read_settings_file(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Parse { path, message })
    }

    /// Parses config text; the error names the line and the problem.
    pub fn parse(text: &str) -> Result<Config, String> {
        let config = Self::parse_toml(text)?;
        config.check_ranges(text)?;
        let groups: Vec<&str> = crate::domain::groups::VulnerableGroup::ALL
            .iter()
            .map(|g| g.key())
            .collect();
        for key in config.targets.group_neet.keys() {
            if !groups.contains(&key.as_str()) {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(key.as_str()))
                    .map_or(0, |i| i + 1);
                return Err(format!(
                    "line {line}: unknown group {key:?} in [targets.group_neet]; groups are {}",
                    groups.join(", ")
                ));
            }
        }
        Ok(config)
    }

    fn parse_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| {
            // For an unknown key toml points at its table; point at the key itself.
            let unknown_key_line = e
                .message()
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .and_then(|key| {
                    text.lines().position(|l| {
                        l.trim_start()
                            .strip_prefix(key)
                            .is_some_and(|r| r.trim_start().starts_with('='))
                    })
                })
                .map(|i| i + 1);
            let line = unknown_key_line.or_else(|| {
                e.span()
                    .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
            });
            match line {
                Some(l) => format!("line {l}: {}", e.message()),
                None => e.message().to_string(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn send_is_weighed_as_ehc_plan_and_sen_support_apart() {
        let c = Config::parse("[risk]\nweights = { EhcPlan = 0, SenSupport = 2 }\n").unwrap();
        assert_eq!(c.risk.weight(RiskFactor::EhcPlan), 0);
        assert_eq!(c.risk.weight(RiskFactor::SenSupport), 2);
        let err = Config::parse("[risk]\nweights = { Send = 2 }\n").unwrap_err();
        assert!(err.contains("name EhcPlan and SenSupport"), "{err}");
    }

    #[test]
    fn weights_merge_over_defaults() {
        let c = Config::parse("[risk]\nweights = { FreeSchoolMeals = 0 }\nred_at = 8\n").unwrap();
        assert_eq!(c.risk.weight(RiskFactor::FreeSchoolMeals), 0);
        assert_eq!(c.risk.weight(RiskFactor::LowAttendance), 2);
        assert_eq!(c.risk.red_at, 8);
    }

    #[test]
    fn group_targets_default_to_kent_and_can_be_set() {
        use crate::domain::groups::VulnerableGroup as G;
        let c = Config::parse("[targets.group_neet]\nchildren_in_care = 5\n").unwrap();
        assert_eq!(c.targets.group_neet(G::ChildrenInCare), Some(5));
        assert_eq!(c.targets.group_neet(G::Send19Plus), Some(8));
        assert_eq!(c.targets.group_neet(G::CareLeaverOtherLa), None);
        let bad = Config::parse("[targets.group_neet]\nwizards = 1\n").unwrap_err();
        assert!(bad.contains("wizards"), "{bad}");
    }

    #[test]
    fn mistakes_are_named_with_their_line() {
        let err =
            Config::parse("[cohort]\nsend_upper_age = 25\n\n[risk]\nweights = { Astrology = 2 }\n")
                .unwrap_err();
        assert!(err.starts_with("line 5"), "{err}");
        assert!(err.contains("Astrology"), "{err}");
        let err = Config::parse("[cohort]\nsend_uper_age = 25\n").unwrap_err();
        assert!(
            err.contains("line 2") && err.contains("send_uper_age"),
            "{err}"
        );
        let err = Config::parse("[risk]\nred_at = 2\namber_at = 5\n").unwrap_err();
        assert!(err.contains("amber_at"), "{err}");
    }

    #[test]
    fn every_setting_has_a_range_checked_at_load() {
        for (text, line, key) in [
            (
                "[currency]\nneet_target_days = 4294967295\n",
                2,
                "currency.neet_target_days",
            ),
            (
                "[risk]\n\nreview_days_red = 100000\n",
                3,
                "risk.review_days_red",
            ),
            ("[ui]\nsync_minutes = 99999\n", 2, "ui.sync_minutes"),
            ("[targets]\nneet_percent = nan\n", 2, "targets.neet_percent"),
            (
                "[targets]\nneet_percent = -1.0\n",
                2,
                "targets.neet_percent",
            ),
            (
                "[cohort]\nsend_upper_age = 99\n",
                2,
                "cohort.send_upper_age",
            ),
        ] {
            let err = Config::parse(text).unwrap_err();
            assert!(
                err.starts_with(&format!("line {line}: {key}")),
                "{text}: {err}"
            );
            assert!(err.contains("out of range"), "{err}");
        }
        let err = Config::parse("[risk]\nweights = { FreeSchoolMeals = 200 }\n").unwrap_err();
        assert!(err.contains("out of range"), "{err}");
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo reads the path it is given.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let err = Config::load(Some(&fifo)).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(Config::load(Some(dir.path())).is_err(), "a directory");
    }
}
