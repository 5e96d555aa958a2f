//! The language of the pages: from the browser, switchable, and the choice remembered. The
//! texts themselves, in both languages, are `qrgate_protocol::text`.

use leptos::prelude::*;
pub use qrgate_protocol::text::{Lang, Localized, PcText, PhoneText, Text};

/// The language in effect: the stored choice, else the browser's.
pub fn initial_language() -> Lang {
    let preference = crate::device::stored_language()
        .or_else(|| web_sys::window().and_then(|w| w.navigator().language()));
    preference.map_or(Lang::En, |p| Lang::from_preference(&p))
}

/// The reactive language, provided by the app root.
pub fn use_lang() -> RwSignal<Lang> {
    use_context::<RwSignal<Lang>>().unwrap_or_else(|| RwSignal::new(Lang::En))
}

/// A page's message: a text of its own, or one every page shares. Status lines and problems
/// hold one, so that a page's states need not say which enum their text comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<T> {
    Shared(Text),
    Own(T),
}

impl<T: Localized> Localized for Message<T> {
    fn get(self, lang: Lang) -> &'static str {
        match self {
            Self::Shared(text) => text.get(lang),
            Self::Own(text) => text.get(lang),
        }
    }
}

impl<T> From<Text> for Message<T> {
    fn from(text: Text) -> Self {
        Self::Shared(text)
    }
}

impl From<PcText> for Message<PcText> {
    fn from(text: PcText) -> Self {
        Self::Own(text)
    }
}

impl From<PhoneText> for Message<PhoneText> {
    fn from(text: PhoneText) -> Self {
        Self::Own(text)
    }
}

/// How a device was signed in, in words.
pub fn via_text(via: qrgate_protocol::Via) -> Text {
    match via {
        qrgate_protocol::Via::Qr => Text::ViaQr,
        qrgate_protocol::Via::Password => Text::ViaPassword,
        qrgate_protocol::Via::Passkey => Text::ViaPasskey,
    }
}

/// A reactive text in the current language.
pub fn tr<T: Localized>(text: T) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_lang();
    move || text.get(lang.get())
}
