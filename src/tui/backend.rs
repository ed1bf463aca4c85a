//! A terminal backend that sends fewer bytes than ratatui's crossterm backend,
//! for remote SSH sessions: the 16 theme colours as 16-colour codes (`31`, not
//! `38;5;1`), one combined SGR per style change and only what changed in it,
//! short relative moves instead of absolute jumps, no style reset at the end
//! of every frame, and the cursor shown or hidden only when that changes.
//! Written by hand because no crate offers a ratatui backend that does this;
//! the rest (raw mode, sizes, the alternate screen) is still crossterm's.

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use ratatui::style::{Color, Modifier};
use std::fmt::Write as _;
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// The attributes the terminal is drawing with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    modifier: Modifier,
}

const PLAIN: Pen = Pen {
    fg: Color::Reset,
    bg: Color::Reset,
    modifier: Modifier::empty(),
};

pub struct CompactBackend<W: Write> {
    writer: W,
    /// Where the terminal's cursor is, when known for certain.
    cursor: Option<Position>,
    /// What the terminal draws with now: kept across frames, since nothing
    /// else writes to the screen between them.
    pen: Pen,
    cursor_hidden: Option<bool>,
    /// The size to report when not on a terminal (tests and benchmarks).
    fixed_size: Option<Size>,
    /// The width last reported: ratatui asks for the size before each frame,
    /// so drawing need not ask the terminal again.
    width: std::cell::Cell<u16>,
}

impl<W: Write> CompactBackend<W> {
    pub fn new(writer: W) -> Self {
        Self {
            writer,
            cursor: None,
            pen: PLAIN,
            cursor_hidden: None,
            fixed_size: None,
            width: std::cell::Cell::new(0),
        }
    }

    /// A backend of a fixed size, not asking any terminal (for tests).
    pub fn with_size(writer: W, width: u16, height: u16) -> Self {
        Self {
            fixed_size: Some(Size::new(width, height)),
            ..Self::new(writer)
        }
    }

    pub fn writer(&self) -> &W {
        &self.writer
    }

    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.writer
    }

    /// The shortest way from where the cursor is to `to`.
    fn move_to(&mut self, out: &mut String, to: Position) {
        match self.cursor {
            Some(at) if at == to => {}
            Some(at) if at.y == to.y && to.x > at.x => {
                let n = to.x - at.x;
                if n == 1 {
                    out.push_str("\x1b[C");
                } else {
                    let _ = write!(out, "\x1b[{n}C");
                }
            }
            Some(at) if to.x == 0 && to.y == at.y => out.push('\r'),
            _ => {
                if to.x == 0 && to.y == 0 {
                    out.push_str("\x1b[H");
                } else if to.x == 0 {
                    let _ = write!(out, "\x1b[{}H", to.y + 1);
                } else {
                    let _ = write!(out, "\x1b[{};{}H", to.y + 1, to.x + 1);
                }
            }
        }
        self.cursor = Some(to);
    }

    /// One SGR sequence taking the terminal from the current pen to `to`.
    fn restyle(&mut self, out: &mut String, to: Pen) {
        if to == self.pen {
            return;
        }
        // Written straight into the frame: this runs for every style change.
        let start = out.len();
        let code = |out: &mut String, c: std::fmt::Arguments| {
            out.push_str(if out.len() == start { "\x1b[" } else { ";" });
            let _ = out.write_fmt(c);
        };
        let mut from = self.pen;
        if !(from.modifier - to.modifier).is_empty() {
            // An attribute cannot be turned off alone everywhere: start plain.
            code(out, format_args!("0"));
            from = PLAIN;
        }
        for (flag, n) in MODIFIER_CODES {
            if to.modifier.contains(flag) && !from.modifier.contains(flag) {
                code(out, format_args!("{n}"));
            }
        }
        if to.fg != from.fg {
            code(out, format_args!("{}", Sgr(to.fg, false)));
        }
        if to.bg != from.bg {
            code(out, format_args!("{}", Sgr(to.bg, true)));
        }
        if out.len() > start {
            out.push('m');
        }
        self.pen = to;
    }
}

const MODIFIER_CODES: [(Modifier, u8); 9] = [
    (Modifier::BOLD, 1),
    (Modifier::DIM, 2),
    (Modifier::ITALIC, 3),
    (Modifier::UNDERLINED, 4),
    (Modifier::SLOW_BLINK, 5),
    (Modifier::RAPID_BLINK, 6),
    (Modifier::REVERSED, 7),
    (Modifier::HIDDEN, 8),
    (Modifier::CROSSED_OUT, 9),
];

/// The SGR parameter for a colour (background when `.1`): the 16 named ones
/// as 16-colour codes.
struct Sgr(Color, bool);

impl std::fmt::Display for Sgr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let base: u8 = if self.1 { 10 } else { 0 };
        let named = |n: u8| n + base;
        let n = match self.0 {
            Color::Reset => named(39),
            Color::Black => named(30),
            Color::Red => named(31),
            Color::Green => named(32),
            Color::Yellow => named(33),
            Color::Blue => named(34),
            Color::Magenta => named(35),
            Color::Cyan => named(36),
            Color::Gray => named(37),
            Color::DarkGray => named(90),
            Color::LightRed => named(91),
            Color::LightGreen => named(92),
            Color::LightYellow => named(93),
            Color::LightBlue => named(94),
            Color::LightMagenta => named(95),
            Color::LightCyan => named(96),
            Color::White => named(97),
            Color::Indexed(i) => return write!(f, "{};5;{i}", 38 + base),
            Color::Rgb(r, g, b) => return write!(f, "{};2;{r};{g};{b}", 38 + base),
        };
        write!(f, "{n}")
    }
}

impl<W: Write> Backend for CompactBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let width = match self.width.get() {
            0 => self.size()?.width,
            known => known,
        };
        let mut out = String::new();
        for (x, y, cell) in content {
            self.move_to(&mut out, Position { x, y });
            self.restyle(
                &mut out,
                Pen {
                    fg: cell.fg,
                    bg: cell.bg,
                    modifier: cell.modifier,
                },
            );
            let symbol = cell.symbol();
            out.push_str(symbol);
            let next = x.saturating_add(symbol.width() as u16);
            // At the right edge the terminal's cursor waits to wrap (and an
            // empty symbol moves it nowhere): its place is not certain until
            // the next absolute move.
            self.cursor = (next > x && next < width).then_some(Position { x: next, y });
        }
        self.writer.write_all(out.as_bytes())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(true) {
            self.writer.write_all(b"\x1b[?25l")?;
            self.cursor_hidden = Some(true);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(false) {
            self.writer.write_all(b"\x1b[?25h")?;
            self.cursor_hidden = Some(false);
        }
        Ok(())
    }

    /// Where this backend last put the cursor. The terminal is never asked:
    /// its answer would arrive on the input thread as keys.
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor.unwrap_or_default())
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        let mut out = String::new();
        self.move_to(&mut out, position.into());
        self.writer.write_all(out.as_bytes())
    }

    fn clear(&mut self) -> io::Result<()> {
        // Erasing paints the current background: make it the default first.
        let mut out = String::new();
        self.restyle(&mut out, PLAIN);
        out.push_str("\x1b[2J");
        self.writer.write_all(out.as_bytes())?;
        self.cursor = None;
        Ok(())
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        let code = match clear_type {
            ClearType::All => return self.clear(),
            ClearType::AfterCursor => "\x1b[J",
            ClearType::BeforeCursor => "\x1b[1J",
            ClearType::CurrentLine => "\x1b[2K",
            ClearType::UntilNewLine => "\x1b[K",
        };
        let mut out = String::new();
        self.restyle(&mut out, PLAIN);
        out.push_str(code);
        self.writer.write_all(out.as_bytes())
    }

    fn size(&self) -> io::Result<Size> {
        let size = match self.fixed_size {
            Some(s) => s,
            None => {
                let (w, h) = ratatui::crossterm::terminal::size()?;
                Size::new(w, h)
            }
        };
        self.width.set(size.width);
        Ok(size)
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        let columns_rows = self.size()?;
        Ok(WindowSize {
            columns_rows,
            // Pixels are not needed here.
            pixels: Size::new(0, 0),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend() -> CompactBackend<Vec<u8>> {
        CompactBackend::with_size(Vec::new(), 80, 24)
    }

    #[test]
    fn colours_are_sixteen_colour_codes_and_changes_are_combined() {
        let mut b = backend();
        let mut out = String::new();
        b.restyle(
            &mut out,
            Pen {
                fg: Color::Red,
                bg: Color::Gray,
                modifier: Modifier::BOLD,
            },
        );
        assert_eq!(out, "\x1b[1;31;47m");
        out.clear();
        b.restyle(
            &mut out,
            Pen {
                fg: Color::LightCyan,
                bg: Color::Gray,
                modifier: Modifier::BOLD,
            },
        );
        assert_eq!(out, "\x1b[96m", "only what changed");
        out.clear();
        b.restyle(&mut out, PLAIN);
        assert_eq!(out, "\x1b[0m", "dropping bold starts plain");
    }

    #[test]
    fn moves_are_short_when_they_can_be() {
        let mut b = backend();
        let mut out = String::new();
        b.move_to(&mut out, Position { x: 0, y: 0 });
        b.move_to(&mut out, Position { x: 5, y: 0 });
        b.move_to(&mut out, Position { x: 0, y: 0 });
        b.move_to(&mut out, Position { x: 3, y: 7 });
        assert_eq!(out, "\x1b[H\x1b[5C\r\x1b[8;4H");
    }

    #[test]
    fn the_cursor_is_shown_or_hidden_only_when_that_changes() {
        let mut b = backend();
        b.hide_cursor().unwrap();
        b.hide_cursor().unwrap();
        b.show_cursor().unwrap();
        assert_eq!(b.writer(), b"\x1b[?25l\x1b[?25h");
    }
}
