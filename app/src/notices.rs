//! On a signed-in phone page, the account's channel (`account_channel.rs`): each new sign-in
//! elsewhere shows as a notice ("New sign-in: Chromium on Linux, Berlin — Not you? Sign it
//! out", one tap), and a sign-out of this phone from anywhere sends it to the sign-in page at
//! once.

use crate::account_channel;
use crate::api;
use crate::device::clear_token;
use crate::i18n::{PhoneText, tr, via_text};
use crate::phone::where_seen;
use crate::role::Role;
use crate::{go, json};
use leptos::prelude::*;
use leptos::task::spawn_local;
use qrgate_protocol::SignInEntry;
use qrgate_protocol::account_live::AccountEvent;
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
            if let Some(AccountEvent::SignIn { sign_in }) = json::from_json(&text) {
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
            <For each=move || notices.get() key=|notice| notice.signed_out let(notice)>
                <NewSignIn notice=notice />
            </For>
        </section>
    }
}

#[component]
fn NewSignIn(notice: Notice) -> impl IntoView {
    let Notice {
        sign_in,
        signed_out,
    } = notice;
    let seen = where_seen(&sign_in);
    // A device's sign-in is signed out by its id; an app's access is removed on the apps' list.
    let action = match sign_in.client_name {
        Some(_) => view! { <a href="/m/devices">{tr(PhoneText::ReviewApps)}</a> }.into_any(),
        None => {
            let device_id = sign_in.device_id.clone();
            let sign_it_out = move |_| {
                let device_id = device_id.clone();
                spawn_local(async move {
                    if api::revoke_device(&device_id).await.is_ok() {
                        signed_out.set(true);
                    }
                });
            };
            view! {
                <Show
                    when=move || signed_out.get()
                    fallback=move || view! { <button class="primary" on:click=sign_it_out.clone()>{tr(PhoneText::SignItOut)}</button> }
                >
                    <span class="signed-out">{tr(PhoneText::SignedItOut)}</span>
                </Show>
            }
            .into_any()
        }
    };
    view! {
        <div class="notice warning" role="status">
            <p>
                <strong>{tr(PhoneText::NewSignIn)}</strong> " "
                <span class="device-name">{sign_in.device_name}</span>
                " (" {sign_in.device_type.as_str()} ") · " {tr(via_text(sign_in.via))}
                {sign_in.client_name.map(|app| view! { " · " {tr(PhoneText::ToApp)} " " <strong class="app-name">{app}</strong> })}
                {(!seen.is_empty()).then(|| format!(" · {seen}"))}
            </p>
            <p>{tr(PhoneText::NotYou)} " " {action}</p>
        </div>
    }
}
