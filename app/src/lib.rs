//! The qrgate web app, Leptos client-side rendering. It speaks only `shared/API.md`, through
//! the wire types of `qrgate-protocol`. `main.rs` mounts [`App`]; everything else is here.

pub mod api;
pub mod device;
pub mod i18n;
pub mod live;
pub mod pc;
pub mod phone;
pub mod qr_code;
pub mod scanner;

use device::Role;
use i18n::{Text, tr, use_lang};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use qrgate_protocol::{CreateAccountRequest, ErrorCode, LoginRequest, Secret};

#[component]
pub fn App() -> impl IntoView {
    provide_context(RwSignal::new(i18n::initial_language()));
    view! {
        <Router>
            <Header />
            <Routes fallback=NotFound>
                <Route path=path!("/") view=pc::PcPage />
                <Route path=path!("/m/login") view=phone::PhoneLogin />
                <Route path=path!("/m/qr/:qr_id") view=phone::PhoneConfirm />
                <Route path=path!("/m/scan") view=phone::PhoneScan />
                <Route path=path!("/m/devices") view=phone::PhoneDevices />
            </Routes>
        </Router>
    }
}

/// The app name and the language switch, on every page. Keeps `<html lang>` in step.
#[component]
pub fn Header() -> impl IntoView {
    let lang = use_lang();
    Effect::new(move |_| {
        let code = lang.get().code();
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("lang", code);
        }
    });
    let switch = move |_| {
        let next = lang.get_untracked().other();
        device::store_language(next.code());
        lang.set(next);
    };
    view! {
        <header>
            <a class="brand" href="/">{tr(Text::AppName)}</a>
            <nav>
                <a href="/m/scan">{tr(Text::Scan)}</a>
                <a href="/m/devices">{tr(Text::Devices)}</a>
                <button class="lang" on:click=switch aria-label=tr(Text::SwitchLanguage)
                    lang=move || lang.get().other().code()>
                    {move || lang.get().other().name()}
                </button>
            </nav>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main>
            <h1>{tr(Text::NotFoundTitle)}</h1>
            <a class="button" href="/">{tr(Text::Home)}</a>
        </main>
    }
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
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<Text>);
    let lang = use_lang();
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
            <label for="username">{tr(Text::Username)}</label>
            <input id="username" name="username" autocomplete="username" autocapitalize="none"
                required=true bind:value=username />
            <label for="password">{tr(Text::Password)}</label>
            <input id="password" name="password" type="password" required=true
                autocomplete=move || if creating.get() { "new-password" } else { "current-password" }
                bind:value=password />
            <Show when=move || creating.get()>
                <label for="display-name">{tr(Text::DisplayName)}</label>
                <input id="display-name" name="display_name" autocomplete="nickname" bind:value=display_name />
            </Show>
            <button class="primary" type="submit" disabled=move || busy.get()>
                {move || if creating.get() { Text::CreateAccount.get(lang.get()) } else { Text::SignIn.get(lang.get()) }}
            </button>
            <p class="status" role="status" aria-live="polite">
                {move || problem.get().map(|t| t.get(lang.get()))}
            </p>
            <Show when=move || allow_create>
                <button class="link" type="button" on:click=move |_| creating.update(|c| *c = !*c)>
                    {move || if creating.get() { Text::HaveAccount.get(lang.get()) } else { Text::NeedAccount.get(lang.get()) }}
                </button>
            </Show>
        </form>
    }
}

/// Creates the account first when `display_name` is given (`Some("")` means "no name"), then
/// signs in and keeps the token.
async fn sign_in(
    role: Role,
    username: String,
    password: String,
    display_name: Option<String>,
) -> Result<(), Text> {
    let explain = |error: api::ApiError| match error.code {
        Some(ErrorCode::Unauthorized) => Text::WrongCredentials,
        Some(ErrorCode::RateLimited) => Text::TooManyAttempts,
        Some(ErrorCode::Conflict) => Text::NameTaken,
        Some(ErrorCode::InvalidRequest) => Text::InvalidInput,
        _ => Text::CouldNotReach,
    };
    if let Some(display_name) = display_name {
        let display_name = Some(display_name.trim().to_owned()).filter(|n| !n.is_empty());
        api::create_account(&CreateAccountRequest {
            username: username.clone(),
            password: Secret::new(password.clone()),
            display_name,
        })
        .await
        .map_err(explain)?;
    }
    let device_name = match role {
        Role::Pc => Some(device::browser_name(&device::user_agent())),
        Role::Phone => None,
    };
    let session = api::login(
        role,
        &LoginRequest {
            username,
            password: Secret::new(password),
            device_name,
        },
    )
    .await
    .map_err(explain)?;
    device::set_token(role, &session.token);
    Ok(())
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep_ms(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// The browser's clock, in Unix seconds (only for countdowns shown to a person).
pub fn now_seconds() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// Whether the tab is in the background, where polling pauses.
pub fn is_page_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden)
}
