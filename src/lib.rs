//! caseload: tracking young people aged 16–18 (SEND to 25) into education,
//! employment or training. See docs/architecture.md for how the parts fit.

pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod hub;
pub mod import;
pub mod link;
pub mod logfile;
pub mod replica;
pub mod report;
pub mod store;
pub mod sync;
pub mod tui;
