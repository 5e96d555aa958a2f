//! The PC page as its own code first draws it when it has a code (`app/src/lib.rs`'s `Header`
//! and `app/src/pc.rs`'s `PcView`, waiting for the phone), written into the HTML by the edge so
//! that the code is on screen before the page's code has been fetched and run. The page
//! replaces it with its own drawing in the task that mounts it, so no frame is without a code.
//! The words are the app's own (`qrgate_protocol::text`) and the picture is drawn by the same
//! function; that the markup is the app's too is checked in Chromium (`tests/e2e`, "drawn by
//! the edge").
//!
//! Its buttons are `hidden` until the page's code runs: they would do nothing before then,
//! and the language button's label, in the other language's own script, would make the first
//! frame wait for that script's font (in headless Chromium here, a Chinese font for an English
//! page: about 15 ms of a cold load). The language button leads the header's links, which are
//! aligned to the right, and the header is as tall as a button without one, so neither
//! appearing moves anything else on the page.

use qrgate_protocol::text::{Lang, Localized, PcText, Text};
use qrgate_protocol::{FIRST_VIEW_ELEMENT_ID, qr_image::qr_svg};

/// The view for `qr_url` in `lang`, under `title` (the page's own, or in authorization mode
/// the app's), with `seconds_left` on the countdown; `None` if the URL cannot be drawn as a
/// code.
pub fn first_view(lang: Lang, title: &str, qr_url: &str, seconds_left: u64) -> Option<String> {
    let svg = qr_svg(qr_url)?;
    let shared = |key: Text| escape(key.get(lang));
    let own = |key: PcText| escape(key.get(lang));
    let url = escape(qr_url);
    let alt = own(PcText::QrAlt);
    let other = lang.other();
    Some(format!(
        "<div id=\"{FIRST_VIEW_ELEMENT_ID}\">\
         <header><a class=\"brand\" href=\"/\">{app}</a><nav>\
         <button class=\"lang\" aria-label=\"{switch}\" lang=\"{other_code}\" hidden>{other_name}</button>\
         <a href=\"/m/scan\">{scan}</a><a href=\"/m/devices\">{devices}</a>\
         </nav></header>\
         <main class=\"pc\"><h1>{title}</h1>\
         <p class=\"status\" role=\"status\" aria-live=\"polite\">{waiting}</p>\
         <p>{instructions}</p>\
         <figure class=\"qr\"><div class=\"qr-image\" role=\"img\" aria-label=\"{alt} {url}\">{svg}</div>\
         <figcaption><span>{alt}</span> <code class=\"qr-link\">{url}</code></figcaption></figure>\
         <p class=\"countdown\">{expires_in} <strong>{seconds_left}</strong> {seconds}</p>\
         <button class=\"link\" hidden>{use_passkey}</button>\
         <button class=\"link\" hidden>{use_password}</button></main></div>",
        app = shared(Text::AppName),
        scan = shared(Text::Scan),
        devices = shared(Text::Devices),
        switch = shared(Text::SwitchLanguage),
        other_code = other.code(),
        other_name = other.name(),
        title = escape(title),
        waiting = own(PcText::Waiting),
        instructions = own(PcText::PcInstructions),
        expires_in = own(PcText::ExpiresIn),
        seconds = own(PcText::Seconds),
        use_passkey = shared(Text::SignInWithPasskey),
        use_password = own(PcText::UsePassword),
    ))
}

/// `text` safe in HTML text and in a double-quoted attribute.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://qrgate.example/m/qr/lzQb6JdieDXK-aDVUJuFn42_-XWqlgM2";

    #[test]
    fn the_view_holds_the_code_and_its_link_in_the_language_asked() {
        let view =
            first_view(Lang::Zh, PcText::PcTitle.get(Lang::Zh), URL, 120).unwrap_or_default();
        assert!(view.starts_with("<div id=\"qrgate-first-view\">"));
        assert!(view.contains(qr_svg(URL).unwrap_or_default().as_str()));
        assert!(view.contains(&format!("<code class=\"qr-link\">{URL}</code>")));
        assert!(view.contains(PcText::PcTitle.get(Lang::Zh)));
        assert!(view.contains("lang=\"en\" hidden>English</button>"));
        assert!(view.contains("<strong>120</strong>"));
    }

    #[test]
    fn nothing_from_the_request_can_become_markup() {
        // The URL's origin is the request's own.
        let view = first_view(Lang::En, "<b>App</b>", "https://x\"><script>/m/qr/1", 1)
            .unwrap_or_default();
        assert!(!view.contains("<script>") && !view.contains("<b>"));
        assert!(view.contains("<h1>&lt;b&gt;App&lt;/b&gt;</h1>"));
        assert!(view.contains("https://x&quot;&gt;&lt;script&gt;/m/qr/1"));
    }

    #[test]
    fn a_url_too_long_for_a_code_has_no_view() {
        assert_eq!(first_view(Lang::En, "Title", &"x".repeat(3000), 1), None);
    }
}
