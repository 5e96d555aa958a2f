//! The phone pages under `/m/`: the home (the sign-in form, or the camera first, then the
//! account), judge and confirm a scanned code, scan with the camera, type a device's user code,
//! and the signed-in devices with the sign-in history. One bundle serves them all; the page is chosen by the path it was
//! loaded at, and every page links back to the home.

use crate::api;
use crate::device::{self, clear_token};
use crate::i18n::{Localized, Message, PhoneText, Text, tr, use_lang, via_text};
use crate::notices::SignInNotices;
use crate::passkey;
use crate::role::Role;

/// A message of this page: its own text or a shared one.
type Msg = Message<PhoneText>;
use crate::scanner::Scanner;
use crate::{Frame, NotFound, current_path, go, redirect};
use leptos::prelude::*;
use leptos::task::spawn_local;
use qrgate_protocol::oauth::device::VERIFICATION_PATH;
use qrgate_protocol::oauth::{GrantEntry, OPENID, PROFILE};
use qrgate_protocol::text::fill;
use qrgate_protocol::{
    CreateAccountRequest, DeviceEntry, ErrorCode, LoginRequest, PasskeyEntry, ScanResponse, Secret,
    SignInEntry, Via, Warning,
};

/// Which page a path shows. The PC's password page is here too: it shares the sign-in form
/// with the phone's, and the PC page's first visit should not carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneRoute {
    Home,
    Login,
    PcPassword,
    Confirm(String),
    Scan,
    /// Where a phone that cannot scan a device's QR types its user code (RFC 8628).
    DeviceCode,
    Devices,
    NotFound,
}

pub fn phone_route(path: &str) -> PhoneRoute {
    match path.trim_end_matches('/') {
        "/m" => PhoneRoute::Home,
        "/m/login" => PhoneRoute::Login,
        crate::pc::PASSWORD_PAGE => PhoneRoute::PcPassword,
        "/m/scan" => PhoneRoute::Scan,
        VERIFICATION_PATH => PhoneRoute::DeviceCode,
        "/m/devices" => PhoneRoute::Devices,
        other => match other.strip_prefix("/m/qr/") {
            Some(qr_id) if !qr_id.is_empty() && !qr_id.contains('/') => {
                PhoneRoute::Confirm(qr_id.to_owned())
            }
            _ => PhoneRoute::NotFound,
        },
    }
}

/// The phone pages' root: the page for the path the bundle was loaded at.
#[component]
pub fn PhoneApp() -> impl IntoView {
    // Made inside the frame, as its children: a page made before would not see the language
    // the frame provides, and would stay in English.
    view! {
        <Frame>
            {match phone_route(&current_path()) {
                PhoneRoute::Home => view! { <PhoneHome /> }.into_any(),
                PhoneRoute::Login => view! { <PhoneLogin /> }.into_any(),
                PhoneRoute::PcPassword => view! { <PcPassword /> }.into_any(),
                PhoneRoute::Confirm(qr_id) => view! { <PhoneConfirm qr_id=qr_id /> }.into_any(),
                PhoneRoute::Scan => view! { <PhoneScan /> }.into_any(),
                PhoneRoute::DeviceCode => view! { <PhoneDeviceCode /> }.into_any(),
                PhoneRoute::Devices => view! { <PhoneDevices /> }.into_any(),
                PhoneRoute::NotFound => view! { <NotFound /> }.into_any(),
            }}
        </Frame>
    }
}

/// A query parameter of the page's URL.
fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
}

/// The phone's home.
const HOME: &str = "/m/";

/// Where to go after signing in: only a page of this app, never another origin; else home.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with(HOME) && !n.starts_with("//") && !n.contains(':'))
        .unwrap_or_else(|| HOME.into())
}

/// The way back to the home, on every phone page.
#[component]
fn HomeLink() -> impl IntoView {
    view! {
        <nav class="home-link">
            <a href=HOME>"← " {tr(PhoneText::HomeLink)}</a>
        </nav>
    }
}

/// `/m/`: signed out, the sign-in form, which comes back here; signed in, the camera first
/// (one tap to scan a code), then who this phone is signed in as, the way to its devices and
/// sign-in history, and signing out.
#[component]
pub fn PhoneHome() -> impl IntoView {
    let Some(who) =
        device::signed_in_as(Role::Phone).filter(|_| device::token(Role::Phone).is_some())
    else {
        return view! { <PhoneLogin /> }.into_any();
    };
    let sign_out = move |_| {
        spawn_local(async move {
            // Signed out here whatever the edge answers: the token is forgotten.
            let _ = api::logout(Role::Phone).await;
            clear_token(Role::Phone);
            go(HOME);
        });
    };
    view! {
        <main class="phone home">
            <SignInNotices />
            <h1>{tr(PhoneText::ScanTitle)}</h1>
            <ScanCode />
            <section class="account" aria-labelledby="account-title">
                <h2 id="account-title">{tr(PhoneText::AccountTitle)}</h2>
                <p>
                    <strong class="display-name">{who.account.display_name}</strong>
                    " (" {who.account.username} ")"
                </p>
                <a class="button" href=VERIFICATION_PATH>{tr(PhoneText::EnterDeviceCode)}</a>
                <a class="button" href="/m/devices">{tr(PhoneText::DevicesAndHistory)}</a>
                <button on:click=sign_out>{tr(PhoneText::SignOutPhone)}</button>
            </section>
        </main>
    }
    .into_any()
}

/// Sends a signed-out phone to the login page, to come back to `here` afterwards.
fn login_then(here: &str) -> String {
    format!("/m/login?next={here}")
}

#[component]
pub fn PhoneLogin() -> impl IntoView {
    let on_signed_in = move || redirect(&safe_next(query_param("next")));
    let away_from_home = phone_route(&current_path()) != PhoneRoute::Home;
    view! {
        <main class="phone">
            {away_from_home.then(|| view! { <HomeLink /> })}
            <h1>{tr(PhoneText::PhoneLoginTitle)}</h1>
            <PasswordForm role=Role::Phone on_signed_in=on_signed_in allow_create=true />
        </main>
    }
}

/// `/password`: the PC signs in with a username and password; "Sign in with a QR code
/// instead" goes back to the code.
#[component]
pub fn PcPassword() -> impl IntoView {
    view! {
        <main class="pc">
            <h1>{tr(PhoneText::PcPasswordTitle)}</h1>
            <PasswordForm role=Role::Pc on_signed_in=back_to_pc_page allow_create=false />
            <a class="button link" href="/">{tr(PhoneText::UseQr)}</a>
        </main>
    }
}

/// After the PC's password sign-in: back to the PC page, or, if the sign-in started on the PC
/// page in authorization mode (which hands the request's handle over in the URL), on into the
/// app: single sign-on with the new token.
fn back_to_pc_page() {
    let Some(handle) = query_param("authorization") else {
        return redirect("/");
    };
    spawn_local(async move {
        match api::continue_authorization(Role::Pc, &handle).await {
            Ok(answer) => redirect(&answer.redirect_to),
            // The app's request is too old, or wants a fresh phone scan: signed in here anyway.
            Err(_) => redirect("/"),
        }
    });
}

#[derive(Debug, Clone, PartialEq)]
enum ConfirmState {
    Checking,
    Review(ScanResponse),
    Busy(ScanResponse),
    /// The decision did not get through (no answer, `429`, `503`, `500`): the details and
    /// the buttons stay, with the scan token, so trying again needs no new scan.
    Unsent(ScanResponse),
    Done(Msg),
    Problem(Msg),
}

fn problem_for(error: api::ApiError) -> Msg {
    match error.code {
        Some(ErrorCode::Conflict) => PhoneText::CodeUsed.into(),
        Some(ErrorCode::Expired) => PhoneText::CodeExpired.into(),
        Some(ErrorCode::NotFound | ErrorCode::InvalidRequest) => PhoneText::CodeUnknown.into(),
        Some(ErrorCode::Forbidden) => PhoneText::ScanAgain.into(),
        _ => Text::CouldNotReach.into(),
    }
}

/// `/m/qr/{qr_id}`: what the QR code opens.
#[component]
pub fn PhoneConfirm(qr_id: String) -> impl IntoView {
    let state = RwSignal::new(ConfirmState::Checking);
    let here = format!("/m/qr/{qr_id}");
    if device::token(Role::Phone).is_none() {
        redirect(&login_then(&here));
    } else {
        let qr_id = qr_id.clone();
        let here = here.clone();
        spawn_local(async move {
            match api::scan_qr(&qr_id).await {
                Ok(scan) => state.set(ConfirmState::Review(scan)),
                Err(error) if error.is(ErrorCode::Unauthorized) => {
                    clear_token(Role::Phone);
                    redirect(&login_then(&here));
                }
                Err(error) => state.set(ConfirmState::Problem(problem_for(error))),
            }
        });
    }
    let decide = move |step: &'static str| {
        let (tried_before, scan) = match state.get_untracked() {
            ConfirmState::Review(scan) => (false, scan),
            ConfirmState::Unsent(scan) => (true, scan),
            _ => return,
        };
        state.set(ConfirmState::Busy(scan.clone()));
        let qr_id = qr_id.clone();
        let here = here.clone();
        spawn_local(async move {
            // The account approves with its passkey: asked for as part of the one tap.
            let passkey = match (&scan.passkey, step) {
                (Some(challenge), "confirm") => match passkey::approve(challenge).await {
                    Ok(assertion) => Some(assertion),
                    Err(failure) => {
                        return state.set(ConfirmState::Problem(passkey_problem(failure)));
                    }
                },
                _ => None,
            };
            let outcome = match api::decide_qr(&qr_id, step, &scan.scan_token, passkey).await {
                Ok(()) if step == "confirm" && scan.user_code.is_some() => {
                    ConfirmState::Done(PhoneText::DeviceConfirmedOutcome.into())
                }
                Ok(()) if step == "confirm" && scan.client.is_some() => {
                    ConfirmState::Done(PhoneText::AppConfirmedOutcome.into())
                }
                Ok(()) if step == "confirm" => {
                    ConfirmState::Done(PhoneText::ConfirmedOutcome.into())
                }
                Ok(()) => ConfirmState::Done(PhoneText::DeniedOutcome.into()),
                Err(error) if error.is(ErrorCode::Unauthorized) => {
                    // Signed out meanwhile: sign in again and come back to this code.
                    clear_token(Role::Phone);
                    return redirect(&login_then(&here));
                }
                Err(error) if error.is_transient() => ConfirmState::Unsent(scan),
                Err(error) if error.is(ErrorCode::Forbidden) && scan.passkey.is_some() => {
                    ConfirmState::Problem(PhoneText::PasskeyRefused.into())
                }
                // The earlier try may have reached the edge, its answer lost on the way back:
                // then this phone decided the code itself, and no other phone took it.
                Err(error) if tried_before && error.is(ErrorCode::Conflict) => {
                    ConfirmState::Problem(PhoneText::MaybeDecided.into())
                }
                Err(error) => ConfirmState::Problem(problem_for(error)),
            };
            state.set(outcome);
        });
    };
    let lang = use_lang();
    // The app a code signs the person in to, once the scan has said so: named first. A device
    // (RFC 8628) is named by its client's name, which the edge gives it.
    let app_name = RwSignal::new(None::<String>);
    let is_device = RwSignal::new(false);
    Effect::new(move |_| {
        if let ConfirmState::Review(scan) = state.get() {
            is_device.set(scan.user_code.is_some());
            let device = scan.user_code.as_ref().map(|_| scan.pc.device_name.clone());
            app_name.set(device.or(scan.client.map(|client| client.client_name)));
        }
    });
    let named = move |text: &str| match app_name.get() {
        Some(name) => fill(text, &name),
        None => text.to_owned(),
    };
    let announce = move || match state.get() {
        ConfirmState::Checking => PhoneText::Checking.get(lang.get()).to_owned(),
        ConfirmState::Review(_) | ConfirmState::Busy(_) if is_device.get() => {
            PhoneText::DeviceCheckCode.get(lang.get()).to_owned()
        }
        ConfirmState::Review(_) | ConfirmState::Busy(_) => {
            PhoneText::CheckDetails.get(lang.get()).to_owned()
        }
        ConfirmState::Unsent(_) => Text::CouldNotReach.get(lang.get()).to_owned(),
        ConfirmState::Done(text) | ConfirmState::Problem(text) => named(text.get(lang.get())),
    };
    let title = move || match app_name.get() {
        Some(name) if is_device.get() => fill(PhoneText::DeviceConfirmTitle.get(lang.get()), &name),
        Some(name) => fill(PhoneText::AppConfirmTitle.get(lang.get()), &name),
        None => PhoneText::ConfirmTitle.get(lang.get()).to_owned(),
    };
    let body = move || match state.get() {
        ConfirmState::Review(scan) | ConfirmState::Busy(scan) | ConfirmState::Unsent(scan) => {
            let busy = matches!(state.get_untracked(), ConfirmState::Busy(_));
            let decide_confirm = decide.clone();
            let decide_deny = decide.clone();
            let scope = scan.scope.clone().unwrap_or_default();
            let asker = match (scan.user_code.clone(), scan.client.clone()) {
                (Some(user_code), _) => Some((PhoneText::DeviceCheckCode, "user-code", user_code)),
                (None, Some(client)) => {
                    Some((PhoneText::AppSendsTo, "app-origin", client.redirect_origin))
                }
                (None, None) => None,
            };
            let asking = asker.map(|(label, class, value)| {
                view! { <AskerDetails label=label class=class value=value scope=scope /> }
            });
            view! {
                {asking}
                <PcDetails scan=scan />
                <div class="decision">
                    <button class="primary" disabled=busy on:click=move |_| decide_confirm("confirm")>{tr(PhoneText::Confirm)}</button>
                    <button class="primary" disabled=busy on:click=move |_| decide_deny("deny")>{tr(PhoneText::Deny)}</button>
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
            <HomeLink />
            <h1>{title}</h1>
            <p class="status" role="status" aria-live="polite">{announce}</p>
            {body}
        </main>
    }
}

/// Who asks, before anything else, and what it will know. An app: where it sends the person
/// (`label` `AppSendsTo`, what the edge knows of it, not what it says of itself). A device's
/// sign-in (RFC 8628): the code its screen shows (`DeviceCheckCode`), which the person checks
/// against it (§3.3.1: a code typed or scanned from someone else's screen would sign *their*
/// device in).
#[component]
fn AskerDetails(
    label: PhoneText,
    class: &'static str,
    value: String,
    scope: Vec<String>,
) -> impl IntoView {
    view! {
        <dl class="app-details">
            <dt>{tr(label)}</dt>
            <dd class=class><bdi>{value}</bdi></dd>
            <dt>{tr(PhoneText::AppAsks)}</dt>
            <dd><ScopeList scope=scope /></dd>
        </dl>
    }
}

/// What an app or a device asks to know, in words.
#[component]
fn ScopeList(scope: Vec<String>) -> impl IntoView {
    let asked: Vec<PhoneText> = scope
        .iter()
        .filter_map(|value| match value.as_str() {
            OPENID => Some(PhoneText::ScopeOpenid),
            PROFILE => Some(PhoneText::ScopeProfile),
            _ => None,
        })
        .collect();
    let asked = if asked.is_empty() {
        vec![PhoneText::ScopeNothing]
    } else {
        asked
    };
    view! {
        <ul class="app-scope">{asked.into_iter().map(|text| view! { <li>{tr(text)}</li> }).collect_view()}</ul>
    }
}

/// What the phone must judge before confirming, and any warning, spelled out (never by colour
/// alone): first what the edge saw of the PC (place, network, when), then the name the PC gave
/// itself, labelled as such (any page can call itself anything) and isolated from the text
/// around it.
#[component]
fn PcDetails(scan: ScanResponse) -> impl IntoView {
    let lang = use_lang();
    let unknown = move || PhoneText::Unknown.get(lang.get()).to_owned();
    let pc = scan.pc;
    let place = place(pc.city, pc.country);
    let network = pc.network;
    let created_at = pc.created_at;
    let age = move || crate::now_seconds().saturating_sub(created_at);
    let warnings = scan.warnings;
    let warning_view = (!warnings.is_empty()).then(|| {
        let items = warnings
            .into_iter()
            .map(|w| {
                let text = match w {
                    Warning::DifferentCountry => PhoneText::WarnCountry,
                    Warning::DifferentNetwork => PhoneText::WarnNetwork,
                };
                view! { <li>{tr(text)}</li> }
            })
            .collect_view();
        view! {
            <div class="warning" role="alert">
                <p><strong>"⚠ " {tr(PhoneText::WarningTitle)}</strong></p>
                <ul>{items}</ul>
                <p>{tr(PhoneText::WarnAdvice)}</p>
            </div>
        }
    });
    view! {
        {warning_view}
        <dl class="pc-details">
            <dt>{tr(PhoneText::PcPlace)}</dt>
            <dd class="pc-place">{place.clone().unwrap_or_else(unknown)}</dd>
            <dt>{tr(PhoneText::PcNetwork)}</dt>
            <dd class="pc-network">{network.clone().unwrap_or_else(unknown)}</dd>
            <dt>{tr(PhoneText::PcAge)}</dt>
            <dd>{age} " " {tr(PhoneText::SecondsAgo)}</dd>
            <dt>{tr(PhoneText::PcDevice)}</dt>
            <dd class="pc-device"><bdi>{pc.device_name}</bdi> " (" {pc.device_type.as_str()} ")"</dd>
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
    view! {
        <main class="phone">
            <HomeLink />
            <h1>{tr(PhoneText::ScanTitle)}</h1>
            <ScanCode />
        </main>
    }
}

/// The camera scanner and the typed fallback, which open the code they read.
#[component]
fn ScanCode() -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Msg>);
    let open = move |text: String| {
        let origin = web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        match qr_id_from_text(&text, &origin) {
            Some(qr_id) => go(&format!("/m/qr/{qr_id}")),
            None => problem.set(Some(PhoneText::NotACode.into())),
        }
    };
    let open = Callback::new(open);
    let lang = use_lang();
    view! {
            <Scanner on_text=open on_unavailable=move |()| problem.set(Some(PhoneText::CameraUnavailable.into())) />
            <form on:submit=move |ev| {
                ev.prevent_default();
                open.run(typed.get_untracked());
            }>
                <label for="code">{tr(PhoneText::CodeOrLink)}</label>
                <input id="code" type="text" autocomplete="off" bind:value=typed />
                <button class="primary" type="submit">{tr(PhoneText::Open)}</button>
            </form>
            <p class="status" role="status" aria-live="polite">
                {move || problem.get().map(|t| t.get(lang.get()))}
            </p>
    }
}

/// `/m/device`: a device's user code, typed as the person reads it (any case, with or without
/// the dash and spaces: the edge forgives them), opens the same confirm page as its QR.
#[component]
pub fn PhoneDeviceCode() -> impl IntoView {
    if device::token(Role::Phone).is_none() {
        redirect(&login_then(VERIFICATION_PATH));
    }
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<Msg>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            match api::find_user_code(&typed.get_untracked()).await {
                Ok(found) => return go(&format!("/m/qr/{}", found.qr_id)),
                Err(error) if error.is(ErrorCode::Unauthorized) => {
                    clear_token(Role::Phone);
                    return redirect(&login_then(VERIFICATION_PATH));
                }
                Err(error) => problem.set(Some(match error.code {
                    Some(ErrorCode::NotFound | ErrorCode::InvalidRequest) => {
                        PhoneText::DeviceCodeUnknown.into()
                    }
                    Some(ErrorCode::RateLimited) => PhoneText::TooManyAttempts.into(),
                    _ => Text::CouldNotReach.into(),
                })),
            }
            busy.set(false);
        });
    };
    let lang = use_lang();
    view! {
        <main class="phone">
            <HomeLink />
            <h1>{tr(PhoneText::DeviceCodeTitle)}</h1>
            <form on:submit=submit>
                <label for="user-code">{tr(PhoneText::DeviceCodeLabel)}</label>
                <input id="user-code" type="text" autocomplete="off" autocapitalize="characters"
                    spellcheck="false" required bind:value=typed />
                <button class="primary" type="submit" disabled=busy>{tr(PhoneText::Continue)}</button>
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
    let history = RwSignal::new(None::<Vec<SignInEntry>>);
    let apps = RwSignal::new(None::<Vec<GrantEntry>>);
    let problem = RwSignal::new(None::<Msg>);
    // This phone's token no longer counts (signed out elsewhere, or expired): sign in again.
    let explain = move |error: api::ApiError| {
        if error.is(ErrorCode::Unauthorized) {
            clear_token(Role::Phone);
            redirect(&login_then("/m/devices"));
        } else {
            problem.set(Some(Text::CouldNotReach.into()));
        }
    };
    let load = move || {
        spawn_local(async move {
            let loaded =
                futures::future::try_join3(api::devices(), api::sign_ins(), api::grants()).await;
            match loaded {
                Ok((list, sign_ins, grants)) => {
                    problem.set(None);
                    devices.set(Some(list.devices));
                    history.set(Some(sign_ins.sign_ins));
                    apps.set(Some(grants.grants));
                }
                Err(error) => explain(error),
            }
        });
    };
    if device::token(Role::Phone).is_none() {
        redirect(&login_then("/m/devices"));
    } else {
        load();
    }
    let sign_out = move |entry: DeviceEntry| {
        spawn_local(async move {
            match api::revoke_device(&entry.device_id).await {
                Ok(()) if entry.current => {
                    clear_token(Role::Phone);
                    go(HOME);
                }
                Ok(()) => load(),
                // Signed out already (from another page, or its sign-in expired): the list
                // shown was old.
                Err(error) if error.is(ErrorCode::NotFound) => load(),
                Err(error) => explain(error),
            }
        });
    };
    let remove_app = move |grant: GrantEntry| {
        spawn_local(async move {
            match api::revoke_grant(&grant.grant_id).await {
                // Removed, or gone already (expired, or removed from another page).
                Ok(()) => load(),
                Err(error) if error.is(ErrorCode::NotFound) => load(),
                Err(error) => explain(error),
            }
        });
    };
    let lang = use_lang();
    view! {
        <main class="phone">
            <HomeLink />
            <SignInNotices />
            <h1>{tr(PhoneText::DevicesTitle)}</h1>
            <p class="status" role="status" aria-live="polite">
                {move || problem.get().map(|t| t.get(lang.get()))}
            </p>
            {move || devices.get().map(|list| {
                if list.is_empty() {
                    return view! { <p>{tr(PhoneText::NoDevices)}</p> }.into_any();
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
                                    {entry.current.then(|| view! { " — " <em>{tr(PhoneText::CurrentDevice)}</em> })}
                                </p>
                                <p class="meta">{tr(via)} " · " {tr(PhoneText::LastSeen)} " " {format_time(entry.last_seen_at)}</p>
                                <SignOutButton device=this sign_out=sign_out />
                            </li>
                        }
                    })
                    .collect_view();
                view! { <ul class="devices">{rows}</ul> }.into_any()
            })}
            <Passkeys problem=problem />
            <ConnectedApps apps=apps remove=remove_app />
            <SignInHistory history=history devices=devices sign_out=sign_out />
        </main>
    }
}

/// The account's passkeys, and "Add a passkey", which makes one with this phone's
/// authenticator. What goes wrong is said in the page's one status line, `problem`.
#[component]
fn Passkeys(problem: RwSignal<Option<Msg>>) -> impl IntoView {
    let passkeys = RwSignal::new(None::<Vec<PasskeyEntry>>);
    let busy = RwSignal::new(false);
    let load = move || {
        spawn_local(async move {
            match api::passkeys().await {
                Ok(listed) => passkeys.set(Some(listed.passkeys)),
                Err(_) => problem.set(Some(Text::CouldNotReach.into())),
            }
        });
    };
    load();
    let add = move |_| {
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let added = passkey::add().await;
            busy.set(false);
            match added {
                Ok(()) => load(),
                Err(failure) => problem.set(Some(passkey_problem(failure))),
            }
        });
    };
    // A passkey's change (rename, remove), then the list again; one gone already is gone.
    let change = move |changed: Result<(), api::ApiError>| match changed {
        Ok(()) => load(),
        Err(error) if error.is(ErrorCode::NotFound) => load(),
        Err(error) if error.is(ErrorCode::Conflict) => {
            problem.set(Some(PhoneText::LastPasskey.into()))
        }
        Err(_) => problem.set(Some(Text::CouldNotReach.into())),
    };
    let renaming = RwSignal::new(None::<String>);
    let new_name = RwSignal::new(String::new());
    let rows = move || {
        let passkeys = passkeys.get()?;
        if passkeys.is_empty() {
            return Some(view! { <p>{tr(PhoneText::NoPasskeys)}</p> }.into_any());
        }
        let rows = passkeys
            .into_iter()
            .map(|entry| {
                let id = entry.passkey_id.clone();
                let (rename_id, save_id, remove_id) = (id.clone(), id.clone(), id.clone());
                let name = entry.name.clone();
                let is_renaming = move || renaming.get().as_deref() == Some(id.as_str());
                let save = move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    renaming.set(None);
                    let id = save_id.clone();
                    spawn_local(async move {
                        change(api::rename_passkey(&id, new_name.get_untracked()).await);
                    });
                };
                view! {
                    <li class="passkey">
                        <p><strong class="passkey-name">{entry.name}</strong></p>
                        <p class="meta">
                            {tr(PhoneText::PasskeyAdded)} " " {format_time(entry.created_at)}
                            {entry.last_used_at.map(|at| view! {
                                " · " {tr(PhoneText::LastUsed)} " " {format_time(at)}
                            })}
                        </p>
                        <form class="rename" hidden=move || !is_renaming() on:submit=save>
                            <input aria-label=tr(PhoneText::PasskeyName) maxlength="64"
                                bind:value=new_name />
                            <button type="submit">{tr(PhoneText::SaveName)}</button>
                        </form>
                        <button on:click=move |_| {
                            new_name.set(name.clone());
                            renaming.set(Some(rename_id.clone()));
                        }>{tr(PhoneText::RenamePasskey)}</button>
                        <button on:click=move |_| {
                            let id = remove_id.clone();
                            spawn_local(async move { change(api::remove_passkey(&id).await) });
                        }>{tr(PhoneText::RemovePasskey)}</button>
                    </li>
                }
            })
            .collect_view();
        Some(view! { <ul class="passkeys">{rows}</ul> }.into_any())
    };
    view! {
        <section class="passkeys" aria-labelledby="passkeys-title">
            <h2 id="passkeys-title">{tr(PhoneText::PasskeysTitle)}</h2>
            <p class="meta">{tr(PhoneText::PasskeysExplained)}</p>
            {rows}
            <button on:click=add disabled=move || busy.get()>{tr(PhoneText::AddPasskey)}</button>
        </section>
    }
}

/// The apps the account signed in to, each with "Remove access", which takes the app's access
/// away at once, wherever it asks.
#[component]
fn ConnectedApps(
    apps: RwSignal<Option<Vec<GrantEntry>>>,
    remove: impl Fn(GrantEntry) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let lang = use_lang();
    let rows = move || {
        let apps = apps.get()?;
        if apps.is_empty() {
            return Some(view! { <p>{tr(PhoneText::NoApps)}</p> }.into_any());
        }
        let rows = apps
            .into_iter()
            .map(|grant| {
                let name = grant.client_name.clone();
                let label = move || format!("{}: {name}", PhoneText::RemoveAccess.get(lang.get()));
                let this = grant.clone();
                view! {
                    <li class="app">
                        <p><strong class="app-name">{grant.client_name}</strong></p>
                        <p class="meta">
                            {tr(PhoneText::ConnectedSince)} " " {format_time(grant.created_at)} " · "
                            {tr(PhoneText::LastUsed)} " " {format_time(grant.last_used_at)}
                        </p>
                        <button aria-label=label on:click=move |_| remove(this.clone())>
                            {tr(PhoneText::RemoveAccess)}
                        </button>
                    </li>
                }
            })
            .collect_view();
        Some(view! { <ul class="apps">{rows}</ul> }.into_any())
    };
    view! {
        <section class="connected-apps" aria-labelledby="apps-title">
            <h2 id="apps-title">{tr(PhoneText::AppsTitle)}</h2>
            <p class="meta">{tr(PhoneText::AppsExplained)}</p>
            {rows}
        </section>
    }
}

/// The account's sign-ins, newest first, with what the edge saw of each device; a device that
/// is still signed in can be signed out from its entry.
#[component]
fn SignInHistory(
    history: RwSignal<Option<Vec<SignInEntry>>>,
    devices: RwSignal<Option<Vec<DeviceEntry>>>,
    sign_out: impl Fn(DeviceEntry) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let rows = move || {
        let sign_ins = history.get()?;
        if sign_ins.is_empty() {
            return Some(view! { <p>{tr(PhoneText::NoSignIns)}</p> }.into_any());
        }
        let signed_in = devices.get().unwrap_or_default();
        let rows = sign_ins
            .into_iter()
            .map(|entry| {
                let still_signed_in = signed_in
                    .iter()
                    .find(|device| device.device_id == entry.device_id)
                    .cloned();
                let seen = where_seen(&entry);
                view! {
                    <li class="sign-in">
                        <p>
                            <strong class="device-name">{entry.device_name}</strong>
                            " (" {entry.device_type.as_str()} ") · " {tr(via_text(entry.via))}
                            {entry.client_name.map(|app| view! { " · " {tr(PhoneText::ToApp)} " " <strong class="app-name">{app}</strong> })}
                        </p>
                        <p class="meta">{format_time(entry.at)} " · " {seen}</p>
                        {still_signed_in.map(|device| view! { <SignOutButton device=device sign_out=sign_out /> })}
                    </li>
                }
            })
            .collect_view();
        Some(view! { <ol class="sign-ins">{rows}</ol> }.into_any())
    };
    view! {
        <section class="history" aria-labelledby="history-title">
            <h2 id="history-title">{tr(PhoneText::HistoryTitle)}</h2>
            <p class="meta">{tr(PhoneText::HistoryExplained)}</p>
            {rows}
        </section>
    }
}

/// "Sign out this device", named for a screen reader by the device it signs out: a list of
/// them would otherwise be buttons of one name.
#[component]
fn SignOutButton(
    device: DeviceEntry,
    sign_out: impl Fn(DeviceEntry) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let lang = use_lang();
    let name = device.device_name.clone();
    let label = move || format!("{}: {name}", PhoneText::SignOutDevice.get(lang.get()));
    view! {
        <button aria-label=label on:click=move |_| sign_out(device.clone())>
            {tr(PhoneText::SignOutDevice)}
        </button>
    }
}

/// Where the edge placed a device, in words: "city, country", or whichever is known.
fn place(city: Option<String>, country: Option<String>) -> Option<String> {
    match (city, country) {
        (Some(city), Some(country)) => Some(format!("{city}, {country}")),
        (city, country) => city.or(country),
    }
}

/// Where the edge saw a sign-in, in words: "city, country · network", or whichever is known.
pub fn where_seen(entry: &SignInEntry) -> String {
    let place = place(entry.city.clone(), entry.country.clone());
    [place, entry.network.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A Unix time as the browser's local date and time.
fn format_time(seconds: u64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(seconds as f64 * 1000.0));
    String::from(date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED))
}

/// Username and password sign-in for `role`, optionally with "create account".
#[component]
pub fn PasswordForm(
    role: Role,
    on_signed_in: impl Fn() + Clone + 'static,
    allow_create: bool,
) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let creating = RwSignal::new(false);
    let unanswered = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<Msg>);
    let lang = use_lang();
    // A passkey picked from the username field's autofill signs in as the button does; the
    // browser offers them there only while this request waits.
    let with_passkey = {
        let on_signed_in = on_signed_in.clone();
        move |conditional: bool| {
            let on_signed_in = on_signed_in.clone();
            spawn_local(async move {
                if conditional && !passkey::conditional_available().await {
                    return;
                }
                match passkey::sign_in(role, conditional).await {
                    Ok(()) => on_signed_in(),
                    // The autofill's wait ends without a word: replaced by a button's request,
                    // or the page left.
                    Err(_) if conditional => {}
                    Err(failure) => problem.set(Some(passkey_problem(failure))),
                }
            });
        }
    };
    // Sent here to sign in with a passkey (the PC page's button: `?passkey`), the browser's
    // passkey picker opens at once; else the autofill waits.
    with_passkey(query_param("passkey").is_none());
    // A new account whose one way in is a passkey made now: no password asked for.
    let sign_up_with_passkey = {
        let on_signed_in = on_signed_in.clone();
        move || {
            let on_signed_in = on_signed_in.clone();
            problem.set(None);
            busy.set(true);
            spawn_local(async move {
                let username = username.get_untracked().trim().to_owned();
                let display_name = display_name.get_untracked().trim().to_owned();
                let display_name = Some(display_name).filter(|name| !name.is_empty());
                let made = passkey::sign_up(role, username, display_name).await;
                busy.set(false);
                match made {
                    Ok(()) => on_signed_in(),
                    Err(failure) => problem.set(Some(passkey_problem(failure))),
                }
            });
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let on_signed_in = on_signed_in.clone();
        busy.set(true);
        problem.set(None);
        spawn_local(async move {
            let outcome = sign_in(
                role,
                username.get_untracked().trim().to_owned(),
                password.get_untracked(),
                creating
                    .get_untracked()
                    .then(|| display_name.get_untracked()),
                // Trying again must sign in, not create the account a second time (`409`).
                move || creating.set(false),
                unanswered,
            )
            .await;
            busy.set(false);
            match outcome {
                Ok(()) => on_signed_in(),
                Err(text) => problem.set(Some(text)),
            }
        });
    };
    view! {
        <form class="password" on:submit=submit>
            <label for="username">{tr(PhoneText::Username)}</label>
            <input id="username" name="username" autocomplete="username webauthn"
                autocapitalize="none" required=true bind:value=username />
            <label for="password">{tr(PhoneText::Password)}</label>
            <input id="password" name="password" type="password" required=true
                autocomplete=move || if creating.get() { "new-password" } else { "current-password" }
                bind:value=password />
            <Show when=move || creating.get()>
                <label for="display-name">{tr(PhoneText::DisplayName)}</label>
                <input id="display-name" name="display_name" autocomplete="nickname" bind:value=display_name />
            </Show>
            <button class="primary" type="submit" disabled=move || busy.get()>
                {move || if creating.get() { PhoneText::CreateAccount.get(lang.get()) } else { PhoneText::SignIn.get(lang.get()) }}
            </button>
            <p class="status" role="status" aria-live="polite">
                {move || problem.get().map(|t| t.get(lang.get()))}
            </p>
            <button class="passkey" type="button" hidden=move || creating.get()
                disabled=move || busy.get()
                on:click=move |_| {
                    problem.set(None);
                    with_passkey(false);
                }>
                {tr(Text::SignInWithPasskey)}
            </button>
            <button class="passkey" type="button" hidden=move || !creating.get()
                disabled=move || busy.get()
                on:click=move |_| sign_up_with_passkey()>
                {tr(PhoneText::CreateWithPasskey)}
            </button>
            <Show when=move || allow_create>
                <button class="link" type="button" on:click=move |_| creating.update(|c| *c = !*c)>
                    {move || if creating.get() { PhoneText::HaveAccount.get(lang.get()) } else { PhoneText::NeedAccount.get(lang.get()) }}
                </button>
            </Show>
        </form>
    }
}

/// What a passkey ceremony's failure tells the person.
fn passkey_problem(failure: passkey::Failure) -> Msg {
    match failure {
        passkey::Failure::NoAnswer => PhoneText::PasskeyNoAnswer.into(),
        passkey::Failure::Refused(error) if error.is(ErrorCode::Unauthorized) => {
            PhoneText::PasskeyRefused.into()
        }
        passkey::Failure::Refused(error) if error.is(ErrorCode::RateLimited) => {
            PhoneText::TooManyAttempts.into()
        }
        passkey::Failure::Refused(error) if error.is(ErrorCode::Conflict) => {
            PhoneText::NameTaken.into()
        }
        passkey::Failure::Refused(error) if error.is(ErrorCode::InvalidRequest) => {
            PhoneText::InvalidInput.into()
        }
        passkey::Failure::Refused(_) => Text::CouldNotReach.into(),
    }
}

/// How an account to sign in to came about, when this form asked for it.
#[derive(Clone, Copy)]
enum Creation {
    /// Made by this request.
    Made,
    /// Its name taken (`409`) after an earlier request for it got no answer: perhaps made by
    /// that one, its answer lost on the way back, perhaps someone else's.
    MadeEarlierOrTaken,
}

/// Creates the account first when `display_name` is given (`Some("")` means "no name"), then
/// (`created` told) signs in and keeps the token. `unanswered` is the username whose creation
/// this form last sent without getting an answer.
async fn sign_in(
    role: Role,
    username: String,
    password: String,
    display_name: Option<String>,
    created: impl FnOnce(),
    unanswered: RwSignal<Option<String>>,
) -> Result<(), Msg> {
    let explain = |error: api::ApiError| -> Msg {
        match error.code {
            Some(ErrorCode::Unauthorized) => PhoneText::WrongCredentials.into(),
            Some(ErrorCode::RateLimited) => PhoneText::TooManyAttempts.into(),
            Some(ErrorCode::Conflict) => PhoneText::NameTaken.into(),
            Some(ErrorCode::InvalidRequest) => PhoneText::InvalidInput.into(),
            _ => Text::CouldNotReach.into(),
        }
    };
    let mut creation = None;
    if let Some(display_name) = display_name {
        let display_name = Some(display_name.trim().to_owned()).filter(|n| !n.is_empty());
        let made = api::create_account(&CreateAccountRequest {
            username: username.clone(),
            password: Secret::new(password.clone()),
            display_name,
        })
        .await;
        creation = Some(match made {
            Ok(()) => {
                created();
                Creation::Made
            }
            // The password typed tells whose it is: signing in with it either is this person's
            // own sign-in or is refused, as any sign-in would be.
            Err(error)
                if error.is(ErrorCode::Conflict)
                    && unanswered.get_untracked().as_deref() == Some(username.as_str()) =>
            {
                Creation::MadeEarlierOrTaken
            }
            Err(error) => {
                if error.is_transient() {
                    unanswered.set(Some(username));
                }
                return Err(explain(error));
            }
        });
    }
    let device_name = device::own_device_name(role);
    let session = api::login(
        role,
        &LoginRequest {
            username,
            password: Secret::new(password),
            // A phone is named by its type; the edge gives that name when none is sent.
            device_name: (role == Role::Pc).then(|| device_name.clone()),
        },
    )
    .await
    .map_err(|error| match creation {
        // Said outright: the form has turned to signing in, and the account is there to sign
        // in to.
        Some(Creation::Made) => PhoneText::CreatedNotSignedIn.into(),
        // Not made by the earlier request after all: the name is someone else's.
        Some(Creation::MadeEarlierOrTaken) if error.is(ErrorCode::Unauthorized) => {
            PhoneText::NameTaken.into()
        }
        _ => explain(error),
    })?;
    let who = device::SignedInAs {
        account: session.account.clone(),
        device_name,
        via: Via::Password,
    };
    device::keep_sign_in(role, &session, &who).await;
    Ok(())
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
        assert_eq!(safe_next(None), "/m/");
        assert_eq!(safe_next(Some("https://evil.example/m/".into())), "/m/");
        assert_eq!(safe_next(Some("//evil.example".into())), "/m/");
        assert_eq!(safe_next(Some("/".into())), "/m/");
    }

    #[test]
    fn each_path_shows_its_page() {
        assert_eq!(phone_route("/m/"), PhoneRoute::Home);
        assert_eq!(phone_route("/m"), PhoneRoute::Home);
        assert_eq!(phone_route("/m/login"), PhoneRoute::Login);
        assert_eq!(phone_route("/password"), PhoneRoute::PcPassword);
        assert_eq!(phone_route("/m/scan/"), PhoneRoute::Scan);
        assert_eq!(phone_route("/m/devices"), PhoneRoute::Devices);
        assert_eq!(phone_route("/m/device"), PhoneRoute::DeviceCode);
        assert_eq!(
            phone_route("/m/qr/abcdefghijklmnop"),
            PhoneRoute::Confirm("abcdefghijklmnop".into())
        );
        for unknown in ["/m/qr/", "/m/qr/a/b", "/m/nothing", "/"] {
            assert_eq!(phone_route(unknown), PhoneRoute::NotFound, "{unknown}");
        }
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
