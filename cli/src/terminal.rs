//! What the CLI draws: the QR code in half blocks, and a spinner while it waits.

use qrgate_protocol::qr_image::{QUIET_ZONE, qr_code};
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Black on white, set explicitly: a terminal with a dark theme would otherwise draw the code
/// inverted, which many phone cameras do not read.
const BLACK_ON_WHITE: &str = "\x1b[30;47m";
const RESET: &str = "\x1b[0m";

/// The code of `url` as text: each character is two modules, one above the other (`▀`, `▄`,
/// `█` or a space), the quiet zone included, so a 33-module code takes 41 columns and 21 rows
/// and fits any terminal. `colour`: black on white by escape codes (for a terminal); without,
/// dark modules are the characters' ink. `None` if the URL is too long for a code.
pub fn qr_half_blocks(url: &str, colour: bool) -> Option<String> {
    let code = qr_code(url)?;
    let end = code.size() + QUIET_ZONE;
    let mut text = String::new();
    for y in (-QUIET_ZONE..end).step_by(2) {
        if colour {
            text.push_str(BLACK_ON_WHITE);
        }
        for x in -QUIET_ZONE..end {
            // Outside the code `get_module` answers light: the quiet zone, and the half row
            // below the last when the side is odd.
            text.push(match (code.get_module(x, y), code.get_module(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        if colour {
            text.push_str(RESET);
        }
        text.push('\n');
    }
    Some(text)
}

/// Writes `text` to standard output. A reader that has gone away (`qrgate whoami | head -0`)
/// is no failure: there is just nobody left to tell.
pub fn print(text: &str) -> Result<(), crate::CliError> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(crate::CliError::Io(
            format!("cannot write to standard output: {error}"),
        )),
        _ => Ok(()),
    }
}

/// Writes `text` to standard error, where a failure has nowhere left to be told.
pub fn tell(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush());
}

/// Whether standard error is a terminal: only then are the colours and the spinner drawn.
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// A spinner on standard error with a message that can change, drawn only on a terminal;
/// dropping it clears its line.
pub struct Spinner {
    message: Arc<Mutex<String>>,
    drawing: Option<tokio::task::JoinHandle<()>>,
}

impl Spinner {
    pub fn start(message: &str) -> Self {
        let message = Arc::new(Mutex::new(message.to_owned()));
        let drawing = stderr_is_terminal().then(|| {
            let message = message.clone();
            tokio::spawn(async move {
                const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
                for frame in FRAMES.iter().cycle() {
                    draw(*frame, &message);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        });
        Self { message, drawing }
    }

    pub fn say(&self, message: &str) {
        if let Ok(mut current) = self.message.lock() {
            message.clone_into(&mut current);
        }
    }
}

/// One frame of the spinner, over the last.
fn draw(frame: char, message: &Mutex<String>) {
    let text = message.lock().map(|m| m.clone()).unwrap_or_default();
    let mut stderr = std::io::stderr().lock();
    // A terminal that cannot be written to only loses the spinner.
    let _ = write!(stderr, "\r\x1b[2K{frame} {text}");
    let _ = stderr.flush();
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(drawing) = self.drawing.take() {
            drawing.abort();
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://qrgate.example/m/qr/4f2c0d6a8e5b4e1a9c3d7b8a6e5f4d3c4f2c0d6a8e5b4e1a9c3d7b8a6e5f4d3c";

    #[test]
    fn each_character_is_two_modules_with_the_quiet_zone_around() {
        let text = qr_half_blocks(URL, false).unwrap();
        let code = qr_code(URL).unwrap();
        let side = (code.size() + 2 * QUIET_ZONE) as usize;
        let rows: Vec<Vec<char>> = text.lines().map(|line| line.chars().collect()).collect();
        assert_eq!(rows.len(), side.div_ceil(2));
        assert!(rows.iter().all(|row| row.len() == side));
        // Every module, read back from its half of its character.
        for y in 0..side {
            for (x, character) in rows[y / 2].iter().enumerate() {
                let drawn = match (character, y % 2) {
                    ('█', _) | ('▀', 0) | ('▄', 1) => true,
                    (' ' | '▀' | '▄', _) => false,
                    (other, _) => panic!("{other:?}"),
                };
                let (mx, my) = (x as i32 - QUIET_ZONE, y as i32 - QUIET_ZONE);
                assert_eq!(drawn, code.get_module(mx, my), "module {mx},{my}");
            }
        }
    }

    #[test]
    fn colour_wraps_each_row_in_black_on_white() {
        let text = qr_half_blocks(URL, true).unwrap();
        assert!(
            text.lines()
                .all(|line| line.starts_with(BLACK_ON_WHITE) && line.ends_with(RESET))
        );
        assert_eq!(qr_half_blocks(&"x".repeat(3000), false), None);
    }
}
