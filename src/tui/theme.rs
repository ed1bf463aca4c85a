//! Styles. The default theme uses only the 16 ANSI colours (safe over any SSH
//! client); high-contrast uses white, black and yellow; mono (NO_COLOR) uses no
//! colour at all. No screen relies on colour alone: RAG is always also a letter
//! or word, status always a word, selection always reversed.

use crate::config::Theme as ThemeChoice;
use crate::domain::StatusGroup;
use crate::domain::records::Rag;
use ratatui::style::{Color, Modifier, Style};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Theme {
    pub name: &'static str,
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub header: Style,
    pub selected: Style,
    pub key: Style,
    pub error: Style,
    pub ok: Style,
    pub red: Style,
    pub amber: Style,
    pub green: Style,
    pub border: Style,
    pub status_bar: Style,
    pub input: Style,
}

impl Theme {
    pub fn choose(choice: ThemeChoice, no_color: bool) -> Theme {
        if no_color {
            Self::mono()
        } else {
            match choice {
                ThemeChoice::Default => Self::sixteen(),
                ThemeChoice::HighContrast => Self::high_contrast(),
            }
        }
    }

    /// Honours the NO_COLOR convention (any non-empty value).
    pub fn from_env(choice: ThemeChoice) -> Theme {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self::choose(choice, no_color)
    }

    pub fn sixteen() -> Theme {
        Theme {
            name: "16-colour",
            text: Style::default(),
            dim: Style::default().fg(Color::DarkGray),
            title: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            header: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            key: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            error: Style::default()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
            ok: Style::default().fg(Color::Green),
            red: Style::default()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
            amber: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            green: Style::default().fg(Color::Green),
            border: Style::default().fg(Color::DarkGray),
            status_bar: Style::default().fg(Color::Black).bg(Color::Gray),
            input: Style::default()
                .fg(Color::White)
                .add_modifier(Modifier::UNDERLINED),
        }
    }

    pub fn high_contrast() -> Theme {
        let base = Style::default().fg(Color::White).bg(Color::Black);
        Theme {
            name: "high contrast",
            text: base,
            dim: base,
            title: base.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            header: base
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            key: base.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            error: base
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ok: base.add_modifier(Modifier::BOLD),
            red: base
                .fg(Color::White)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            amber: base.fg(Color::Yellow).add_modifier(Modifier::BOLD),
            green: base,
            border: base.fg(Color::White),
            status_bar: Style::default().fg(Color::Black).bg(Color::White),
            input: base.add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
        }
    }

    pub fn mono() -> Theme {
        let plain = Style::default();
        Theme {
            name: "no colour",
            text: plain,
            dim: plain,
            title: plain.add_modifier(Modifier::BOLD),
            header: plain.add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            selected: plain.add_modifier(Modifier::REVERSED),
            key: plain.add_modifier(Modifier::BOLD),
            error: plain.add_modifier(Modifier::BOLD),
            ok: plain,
            red: plain.add_modifier(Modifier::BOLD),
            amber: plain,
            green: plain,
            border: plain,
            status_bar: plain.add_modifier(Modifier::REVERSED),
            input: plain.add_modifier(Modifier::UNDERLINED),
        }
    }

    pub fn rag(&self, rag: Option<Rag>) -> Style {
        match rag {
            Some(Rag::Red) => self.red,
            Some(Rag::Amber) => self.amber,
            Some(Rag::Green) => self.green,
            None => self.dim,
        }
    }

    pub fn group(&self, g: StatusGroup) -> Style {
        match g {
            StatusGroup::Neet => self.amber,
            StatusGroup::NotKnown => self.red,
            StatusGroup::Eet => self.green,
            _ => self.text,
        }
    }
}
