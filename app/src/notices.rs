//! On a signed-in phone page, the account's channel (`account_channel.rs`): each new sign-in
//! elsewhere shows as a notice ("New sign-in: Chromium on Linux, Berlin — Not you? Sign it
//! out", one tap), and a sign-out of this phone from anywhere sends it to the sign-in page at
//! once.

use crate::account_channel;
use crate::api;
use crate::device::clear_token;
use crate::i18n::{Localized, PhoneText, tr, use_lang, via_text};
use crate::phone::where_seen;
use crate::role::Role;
use crate::{go, json};
use leptos::prelude::*;
use leptos::task::spawn_local;
use qrgate_protocol::SignInEntry;
use qrgate_protocol::account_live::ToldSignIn;
use wasm_bindgen::closure::Closure;

/// The phone's home, where a signed-out phone signs in.
const HOME: &str = "/m/";

/// A sign-in told on the channel, and whether it was signed out from its notice.
#[derive(Debug, Clone)]
struct Notice {
    sign_in: SignInEntry,
    signed_out: RwSignal<bool>,
}

/// The notices of new sign-ins, newest first, while this page is open.
#[component]
pub fn SignInNotices() -> impl IntoView {
    let notices = RwSignal::new(Vec::<Notice>::new());
    spawn_local(async move {
        let on_event = Closure::<dyn FnMut(String)>::new(move |text: String| {
            if let Some(ToldSignIn {
                sign_in: Some(sign_in),
            }) = json::from_json(&text)
            {
                let notice = Notice {
                    sign_in,
                    signed_out: RwSignal::new(false),
                };
                notices.update(|notices| notices.insert(0, notice));
            }
        });
        if account_channel::until_signed_out(Role::Phone, Some(&on_event), || true).await {
            clear_token(Role::Phone);
            go(HOME);
        }
    });
    view! {
        <section class="notices" aria-live="polite">
            // Drawn whole at each change: Leptos's keyed <For> weighs more than notices need.
            {move || {
                notices
                    .get()
                    .into_iter()
                    .map(|notice| view! { <NewSignIn notice=notice /> })
                    .collect_view()
            }}
        </section>
    }
}

/// One notice. Its texts are written out as strings in one static view: each element and
/// branch of a Leptos view is code of its own in the page's wasm.
#[component]
fn NewSignIn(notice: Notice) -> impl IntoView {
    let lang = use_lang();
    let Notice {
        sign_in,
        signed_out,
    } = notice;
    let seen = where_seen(&sign_in);
    // A device's sign-in is signed out by its id; an app's access is removed on the apps' list.
    let app = sign_in.client_name.is_some();
    let device_id = sign_in.device_id.clone();
    let line = move || {
        let lang = lang.get();
        let mut line = [
            PhoneText::NewSignIn.get(lang),
            &sign_in.device_name,
            &format!("({})", sign_in.device_type.as_str()),
            "·",
            via_text(sign_in.via).get(lang),
        ]
        .join(" ");
        if let Some(app) = &sign_in.client_name {
            line = format!("{line} · {} {app}", PhoneText::ToApp.get(lang));
        }
        if !seen.is_empty() {
            line = format!("{line} · {seen}");
        }
        line
    };
    let act = move |_| {
        if app {
            return go("/m/devices");
        }
        let device_id = device_id.clone();
        spawn_local(async move {
            if api::revoke_device(&device_id).await.is_ok() {
                signed_out.set(true);
            }
        });
    };
    let action = move || {
        let text = match (app, signed_out.get()) {
            (true, _) => PhoneText::ReviewApps,
            (false, false) => PhoneText::SignItOut,
            (false, true) => PhoneText::SignedItOut,
        };
        text.get(lang.get())
    };
    view! {
        <div class="notice warning" role="status">
            <p>{line}</p>
            <p>
                {tr(PhoneText::NotYou)} " "
                <button class="primary" disabled=move || signed_out.get() on:click=act>{action}</button>
            </p>
        </div>
    }
}
