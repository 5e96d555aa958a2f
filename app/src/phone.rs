//! The phone pages under `/m/`: sign in, judge and confirm a scanned code, scan with the
//! camera, and the list of signed-in devices.

use crate::PasswordForm;
use crate::api;
use crate::device::{self, Role, clear_token};
use crate::i18n::{Text, tr, use_lang, via_text};
use crate::scanner::Scanner;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use qrgate_protocol::{DeviceEntry, ErrorCode, ScanResponse, Warning};

/// Where to go after signing in: only a page of this app, never another origin.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with("/m/") && !n.starts_with("//") && !n.contains(':'))
        .unwrap_or_else(|| "/m/devices".into())
}

/// Loads `path` of this app. A full navigation, so it works from any callback or task.
fn go(path: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href(path);
    }
}

/// Sends a signed-out phone to the login page, to come back to `here` afterwards.
fn login_then(here: &str) -> String {
    format!("/m/login?next={here}")
}

#[component]
pub fn PhoneLogin() -> impl IntoView {
    let query = use_query_map();
    let on_signed_in = move || go(&safe_next(query.read_untracked().get("next")));
    view! {
        <main class="phone">
            <h1>{tr(Text::PhoneLoginTitle)}</h1>
            <PasswordForm role=Role::Phone on_signed_in=on_signed_in allow_create=true />
        </main>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum ConfirmState {
    Checking,
    Review(ScanResponse),
    Busy(ScanResponse),
    Done(Text),
    Problem(Text),
}

fn problem_for(error: api::ApiError) -> Text {
    match error.code {
        Some(ErrorCode::Conflict) => Text::CodeUsed,
        Some(ErrorCode::Expired) => Text::CodeExpired,
        Some(ErrorCode::NotFound | ErrorCode::InvalidRequest) => Text::CodeUnknown,
        Some(ErrorCode::Forbidden) => Text::ScanAgain,
        _ => Text::CouldNotReach,
    }
}

/// `/m/qr/{qr_id}`: what the QR code opens.
#[component]
pub fn PhoneConfirm() -> impl IntoView {
    let params = use_params_map();
    let qr_id = params.read_untracked().get("qr_id").unwrap_or_default();
    let state = RwSignal::new(ConfirmState::Checking);
    let here = format!("/m/qr/{qr_id}");
    if device::token(Role::Phone).is_none() {
        go(&login_then(&here));
    } else {
        let qr_id = qr_id.clone();
        spawn_local(async move {
            match api::scan_qr(&qr_id).await {
                Ok(scan) => state.set(ConfirmState::Review(scan)),
                Err(error) if error.is(ErrorCode::Unauthorized) => {
                    clear_token(Role::Phone);
                    go(&login_then(&here));
                }
                Err(error) => state.set(ConfirmState::Problem(problem_for(error))),
            }
        });
    }
    let decide = move |step: &'static str| {
        let ConfirmState::Review(scan) = state.get_untracked() else {
            return;
        };
        state.set(ConfirmState::Busy(scan.clone()));
        let qr_id = qr_id.clone();
        spawn_local(async move {
            let outcome = match api::decide_qr(&qr_id, step, &scan.scan_token).await {
                Ok(()) if step == "confirm" => ConfirmState::Done(Text::ConfirmedOutcome),
                Ok(()) => ConfirmState::Done(Text::DeniedOutcome),
                Err(error) => ConfirmState::Problem(problem_for(error)),
            };
            state.set(outcome);
        });
    };
    let lang = use_lang();
    let announce = move || match state.get() {
        ConfirmState::Checking => Text::Checking.get(lang.get()),
        ConfirmState::Review(_) | ConfirmState::Busy(_) => Text::CheckDetails.get(lang.get()),
        ConfirmState::Done(text) | ConfirmState::Problem(text) => text.get(lang.get()),
    };
    let body = move || match state.get() {
        ConfirmState::Review(scan) | ConfirmState::Busy(scan) => {
            let busy = matches!(state.get_untracked(), ConfirmState::Busy(_));
            let decide_confirm = decide.clone();
            let decide_deny = decide.clone();
            view! {
                <PcDetails scan=scan />
                <div class="decision">
                    <button class="primary" disabled=busy on:click=move |_| decide_confirm("confirm")>{tr(Text::Confirm)}</button>
                    <button class="primary" disabled=busy on:click=move |_| decide_deny("deny")>{tr(Text::Deny)}</button>
                </div>
            }
            .into_any()
        }
        ConfirmState::Problem(_) => {
            view! { <a class="button" href="/m/scan">{tr(Text::Scan)}</a> }.into_any()
        }
        ConfirmState::Done(_) => {
            view! { <a class="button" href="/m/devices">{tr(Text::Devices)}</a> }.into_any()
        }
        ConfirmState::Checking => ().into_any(),
    };
    view! {
        <main class="phone">
            <h1>{tr(Text::ConfirmTitle)}</h1>
            <p class="status" role="status" aria-live="polite">{announce}</p>
            {body}
        </main>
    }
}

/// What the phone must judge before confirming: the PC's device, place, network and age, and
/// any warning, spelled out (never by colour alone).
#[component]
fn PcDetails(scan: ScanResponse) -> impl IntoView {
    let lang = use_lang();
    let unknown = move || Text::Unknown.get(lang.get()).to_owned();
    let pc = scan.pc;
    let place = match (pc.city, pc.country) {
        (Some(city), Some(country)) => Some(format!("{city}, {country}")),
        (city, country) => city.or(country),
    };
    let network = pc.network;
    let created_at = pc.created_at;
    let age = move || crate::now_seconds().saturating_sub(created_at);
    let warnings = scan.warnings;
    let warning_view = (!warnings.is_empty()).then(|| {
        let items = warnings
            .into_iter()
            .map(|w| {
                let text = match w {
                    Warning::DifferentCountry => Text::WarnCountry,
                    Warning::DifferentNetwork => Text::WarnNetwork,
                };
                view! { <li>{tr(text)}</li> }
            })
            .collect_view();
        view! {
            <div class="warning" role="alert">
                <p><strong>"⚠ " {tr(Text::WarningTitle)}</strong></p>
                <ul>{items}</ul>
                <p>{tr(Text::WarnAdvice)}</p>
            </div>
        }
    });
    view! {
        {warning_view}
        <dl class="pc-details">
            <dt>{tr(Text::PcDevice)}</dt>
            <dd class="pc-device">{pc.device_name} " (" {pc.device_type.as_str()} ")"</dd>
            <dt>{tr(Text::PcPlace)}</dt>
            <dd class="pc-place">{place.clone().unwrap_or_else(unknown)}</dd>
            <dt>{tr(Text::PcNetwork)}</dt>
            <dd class="pc-network">{network.clone().unwrap_or_else(unknown)}</dd>
            <dt>{tr(Text::PcAge)}</dt>
            <dd>{age} " " {tr(Text::SecondsAgo)}</dd>
        </dl>
    }
}

/// The QR id in a scanned or typed text: a link to `/m/qr/{id}` on this origin, or a bare id.
pub fn qr_id_from_text(text: &str, origin: &str) -> Option<String> {
    let text = text.trim();
    let candidate = match text.strip_prefix(origin) {
        Some(path) => path.strip_prefix("/m/qr/")?,
        None if text.contains('/') => return None,
        None => text,
    };
    qrgate_protocol::validate::qr_id(candidate).map(str::to_owned)
}

/// `/m/scan`: the camera scanner, with a typed fallback.
#[component]
pub fn PhoneScan() -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Text>);
    let open = move |text: String| {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        match qr_id_from_text(&text, &origin) {
            Some(qr_id) => go(&format!("/m/qr/{qr_id}")),
            None => problem.set(Some(Text::NotACode)),
        }
    };
    let open = Callback::new(open);
    let lang = use_lang();
    view! {
        <main class="phone">
            <h1>{tr(Text::ScanTitle)}</h1>
            <Scanner on_text=open on_unavailable=move |()| problem.set(Some(Text::CameraUnavailable)) />
            <form on:submit=move |ev| {
                ev.prevent_default();
                open.run(typed.get_untracked());
            }>
                <label for="code">{tr(Text::CodeOrLink)}</label>
                <input id="code" type="text" autocomplete="off" bind:value=typed />
                <button class="primary" type="submit">{tr(Text::Open)}</button>
            </form>
            <p class="status" role="status" aria-live="polite">
                {move || problem.get().map(|t| t.get(lang.get()))}
            </p>
        </main>
    }
}

/// `/m/devices`: every device signed in to the account, each with "sign out this device".
#[component]
pub fn PhoneDevices() -> impl IntoView {
    let devices = RwSignal::new(None::<Vec<DeviceEntry>>);
    let problem = RwSignal::new(None::<Text>);
    let load = move || {
        spawn_local(async move {
            match api::devices().await {
                Ok(list) => devices.set(Some(list.devices)),
                Err(error) if error.is(ErrorCode::Unauthorized) => {
                    clear_token(Role::Phone);
                    go(&login_then("/m/devices"));
                }
                Err(_) => problem.set(Some(Text::CouldNotReach)),
            }
        });
    };
    if device::token(Role::Phone).is_none() {
        go(&login_then("/m/devices"));
    } else {
        load();
    }
    let sign_out = move |entry: DeviceEntry| {
        spawn_local(async move {
            match api::revoke_device(&entry.device_id).await {
                Ok(()) if entry.current => {
                    clear_token(Role::Phone);
                    go("/m/login");
                }
                Ok(()) => load(),
                Err(_) => problem.set(Some(Text::CouldNotReach)),
            }
        });
    };
    let lang = use_lang();
    view! {
        <main class="phone">
            <h1>{tr(Text::DevicesTitle)}</h1>
            <p class="status" role="status" aria-live="polite">
                {move || problem.get().map(|t| t.get(lang.get()))}
            </p>
            {move || devices.get().map(|list| {
                if list.is_empty() {
                    return view! { <p>{tr(Text::NoDevices)}</p> }.into_any();
                }
                let rows = list
                    .into_iter()
                    .map(|entry| {
                        let this = entry.clone();
                        let via = via_text(entry.via);
                        view! {
                            <li class="device">
                                <p>
                                    <strong class="device-name">{entry.device_name}</strong>
                                    " (" {entry.device_type.as_str()} ")"
                                    {entry.current.then(|| view! { " — " <em>{tr(Text::CurrentDevice)}</em> })}
                                </p>
                                <p class="meta">{tr(via)} " · " {tr(Text::LastSeen)} " " {format_time(entry.last_seen_at)}</p>
                                <button on:click=move |_| sign_out(this.clone())>{tr(Text::SignOutDevice)}</button>
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="devices">{rows}</ul> }.into_any()
            })}
        </main>
    }
}

/// A Unix time as the browser's local date and time.
fn format_time(seconds: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(seconds as f64 * 1000.0));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGIN: &str = "https://qrgate.example";

    #[test]
    fn next_stays_inside_the_phone_pages() {
        assert_eq!(
            safe_next(Some("/m/qr/abcdefghijklmnop".into())),
            "/m/qr/abcdefghijklmnop"
        );
        assert_eq!(safe_next(None), "/m/devices");
        assert_eq!(
            safe_next(Some("https://evil.example/m/".into())),
            "/m/devices"
        );
        assert_eq!(safe_next(Some("//evil.example".into())), "/m/devices");
        assert_eq!(safe_next(Some("/".into())), "/m/devices");
    }

    #[test]
    fn qr_ids_from_links_and_typed_codes() {
        let id = "lzQb6JdieDXK-aDVUJuFn42_-XWqlgM2";
        assert_eq!(
            qr_id_from_text(&format!("{ORIGIN}/m/qr/{id}"), ORIGIN).as_deref(),
            Some(id)
        );
        assert_eq!(
            qr_id_from_text(&format!("  {id}\n"), ORIGIN).as_deref(),
            Some(id)
        );
        assert_eq!(
            qr_id_from_text(&format!("https://evil.example/m/qr/{id}"), ORIGIN),
            None
        );
        assert_eq!(
            qr_id_from_text(&format!("{ORIGIN}/m/devices"), ORIGIN),
            None
        );
        assert_eq!(qr_id_from_text("hello", ORIGIN), None);
    }
}
