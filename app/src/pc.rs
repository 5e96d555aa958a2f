//! The PC page (`/`): shows a QR code, polls until the phone decides, and then shows who is
//! signed in. A code that expires is replaced a few times; after that it is blurred under a
//! button, so an unattended tab does not create sessions forever.

use crate::api::{self, ApiError};
use crate::device::{self, Role, browser_name, clear_token, set_token, user_agent};
use crate::i18n::{Text, tr, use_lang, via_text};
use crate::qr_code::QrCodeView;
use crate::{PasswordForm, is_page_hidden, now_seconds, sleep_ms};
use leptos::prelude::*;
use leptos::task::spawn_local;
use qrgate_protocol::{CreateQrResponse, ErrorCode, MeResponse, QrStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// New codes fetched automatically after one expires, before the page waits for a click.
pub const MAX_AUTO_RENEWALS: u32 = 3;
/// How often a signed-in PC checks that its token still works (a revoke brings the QR back).
const SIGNED_IN_CHECK_MS: u32 = 5_000;

#[derive(Debug, Clone, PartialEq)]
pub enum PcState {
    Starting,
    Showing {
        qr: CreateQrResponse,
        status: QrStatus,
    },
    /// The code expired too often while nobody looked: blurred, waiting for a click.
    Stale(CreateQrResponse),
    /// Denied on the phone or cancelled: waiting for a click.
    Ended(QrStatus),
    Failed,
    Password,
    SignedIn(MeResponse),
}

/// The words for each state, announced through the page's live region.
pub fn status_text(state: &PcState) -> Text {
    match state {
        PcState::Starting => Text::Creating,
        PcState::Showing {
            status: QrStatus::Scanned,
            ..
        } => Text::Scanned,
        PcState::Showing { .. } => Text::Waiting,
        PcState::Stale(_) | PcState::Ended(QrStatus::Expired) => Text::Expired,
        PcState::Ended(QrStatus::Denied) => Text::Denied,
        PcState::Ended(_) => Text::Cancelled,
        PcState::Failed => Text::CouldNotReach,
        PcState::Password => Text::UsePassword,
        PcState::SignedIn(_) => Text::SignedInAs,
    }
}

/// Drives the page: each new code or sign-in starts a new generation, and every loop of an
/// older generation stops at its next tick.
#[derive(Clone)]
struct Controller {
    state: RwSignal<PcState>,
    generation: Arc<AtomicU64>,
}

impl Controller {
    fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn is_current(&self, generation: u64) -> bool {
        self.generation.load(Ordering::SeqCst) == generation
    }

    /// Starts over with a fresh code; `renewals` counts automatic replacements so far.
    fn new_code(&self, renewals: u32) {
        let this = self.clone();
        let generation = self.next_generation();
        self.state.set(PcState::Starting);
        spawn_local(async move {
            match api::create_qr(browser_name(&user_agent())).await {
                Ok(qr) if this.is_current(generation) => {
                    this.state.set(PcState::Showing {
                        qr: qr.clone(),
                        status: QrStatus::Pending,
                    });
                    this.poll(qr, generation, renewals).await;
                }
                Ok(_) => {}
                Err(_) => this.state.set(PcState::Failed),
            }
        });
    }

    async fn poll(&self, qr: CreateQrResponse, generation: u64, renewals: u32) {
        let interval_ms = (qr.interval.max(1) * 1000) as u32;
        loop {
            sleep_ms(interval_ms).await;
            if !self.is_current(generation) {
                return;
            }
            if is_page_hidden() {
                continue;
            }
            let polled = api::poll_qr(&qr).await;
            if !self.is_current(generation) {
                return;
            }
            let status = match polled {
                Ok(polled) => match (polled.status, polled.session) {
                    (QrStatus::Confirmed, Some(session)) => {
                        set_token(Role::Pc, &session.token);
                        self.show_signed_in().await;
                        return;
                    }
                    (status, _) => status,
                },
                Err(error) if error.is(ErrorCode::NotFound) => QrStatus::Expired,
                // The network or the edge hiccuped: keep the code and try at the next tick.
                Err(_) => continue,
            };
            match status {
                QrStatus::Pending | QrStatus::Scanned => self.state.set(PcState::Showing {
                    qr: qr.clone(),
                    status,
                }),
                QrStatus::Expired if renewals < MAX_AUTO_RENEWALS => {
                    return self.new_code(renewals + 1);
                }
                QrStatus::Expired => return self.state.set(PcState::Stale(qr)),
                // Confirmed without a session: this tab lost its pick-up; start again.
                QrStatus::Confirmed => return self.new_code(0),
                QrStatus::Denied | QrStatus::Cancelled => {
                    return self.state.set(PcState::Ended(status));
                }
            }
        }
    }

    /// Loads the signed-in view, then keeps checking that the token still works.
    async fn show_signed_in(&self) {
        let generation = self.next_generation();
        match api::me(Role::Pc).await {
            Ok(me) => self.state.set(PcState::SignedIn(me)),
            Err(error) => return self.signed_out_by(error),
        }
        loop {
            sleep_ms(SIGNED_IN_CHECK_MS).await;
            if !self.is_current(generation) {
                return;
            }
            if is_page_hidden() {
                continue;
            }
            match api::me(Role::Pc).await {
                Err(error) if error.is(ErrorCode::Unauthorized) && self.is_current(generation) => {
                    return self.signed_out_by(error);
                }
                _ => {}
            }
        }
    }

    fn signed_out_by(&self, error: ApiError) {
        if error.is(ErrorCode::Unauthorized) {
            clear_token(Role::Pc);
            self.new_code(0);
        } else {
            self.state.set(PcState::Failed);
        }
    }

    fn sign_out(&self) {
        let this = self.clone();
        self.next_generation();
        spawn_local(async move {
            // Signed out locally even if the edge cannot be told; the token then just expires.
            let _ = api::logout(Role::Pc).await;
            clear_token(Role::Pc);
            this.new_code(0);
        });
    }

    fn use_password(&self) {
        if let PcState::Showing { qr, .. } = self.state.get_untracked() {
            spawn_local(async move {
                let _ = api::cancel_qr(&qr).await;
            });
        }
        self.next_generation();
        self.state.set(PcState::Password);
    }

    fn start(&self) {
        if device::token(Role::Pc).is_some() {
            let this = self.clone();
            spawn_local(async move { this.show_signed_in().await });
        } else {
            self.new_code(0);
        }
    }
}

#[component]
pub fn PcPage() -> impl IntoView {
    let controller = Controller {
        state: RwSignal::new(PcState::Starting),
        generation: Arc::new(AtomicU64::new(0)),
    };
    let now = RwSignal::new(now_seconds());
    let alive = Arc::new(AtomicU64::new(1));
    {
        let alive = alive.clone();
        spawn_local(async move {
            while alive.load(Ordering::SeqCst) == 1 {
                now.set(now_seconds());
                sleep_ms(1000).await;
            }
        });
    }
    {
        let generation = controller.generation.clone();
        on_cleanup(move || {
            alive.store(0, Ordering::SeqCst);
            generation.fetch_add(1, Ordering::SeqCst);
        });
    }
    controller.start();
    let state = controller.state;
    let on = |act: fn(&Controller)| {
        let controller = controller.clone();
        Callback::new(move |()| act(&controller))
    };
    view! {
        <PcView
            state=state
            now=now
            on_new_code=on(|c| c.new_code(0))
            on_use_password=on(Controller::use_password)
            on_signed_in=on(|c| {
                let c = c.clone();
                spawn_local(async move { c.show_signed_in().await });
            })
            on_sign_out=on(Controller::sign_out)
        />
    }
}

/// What the PC page shows in each state; [`PcPage`] drives it, tests mount it directly.
#[component]
pub fn PcView(
    state: RwSignal<PcState>,
    now: RwSignal<u64>,
    on_new_code: Callback<()>,
    on_use_password: Callback<()>,
    on_signed_in: Callback<()>,
    on_sign_out: Callback<()>,
) -> impl IntoView {
    let lang = use_lang();
    let status = move || status_text(&state.get()).get(lang.get());
    let body = move || {
        match state.get() {
        PcState::Starting => view! { <div class="qr-placeholder" aria-hidden="true"></div> }.into_any(),
        PcState::Showing { qr, .. } => {
            let expires_at = qr.expires_at;
            let left = move || expires_at.saturating_sub(now.get());
            view! {
                <p>{tr(Text::PcInstructions)}</p>
                <QrCodeView url=qr.qr_url.clone() />
                <p class="countdown">{tr(Text::ExpiresIn)}" " <strong>{left}</strong> " " {tr(Text::Seconds)}</p>
                <button class="link" on:click=move |_| on_use_password.run(())>{tr(Text::UsePassword)}</button>
            }
            .into_any()
        }
        PcState::Stale(qr) => view! {
            <div class="stale">
                <QrCodeView url=qr.qr_url.clone() blurred=true />
                <button class="primary overlay" on:click=move |_| on_new_code.run(())>{tr(Text::NewCode)}</button>
            </div>
        }
        .into_any(),
        PcState::Ended(_) | PcState::Failed => view! {
            <button class="primary" on:click=move |_| on_new_code.run(())>{tr(Text::NewCode)}</button>
        }
        .into_any(),
        PcState::Password => view! {
            <PasswordForm role=Role::Pc on_signed_in=move || on_signed_in.run(()) allow_create=false />
            <button class="link" on:click=move |_| on_new_code.run(())>{tr(Text::UseQr)}</button>
        }
        .into_any(),
        PcState::SignedIn(me) => view! { <SignedIn me=me on_sign_out=move || on_sign_out.run(()) /> }.into_any(),
    }
    };
    view! {
        <main class="pc">
            <h1>{tr(Text::PcTitle)}</h1>
            <p class="status" role="status" aria-live="polite">{status}</p>
            {body}
        </main>
    }
}

#[component]
fn SignedIn(me: MeResponse, on_sign_out: impl Fn() + 'static) -> impl IntoView {
    let via = via_text(me.session.via);
    view! {
        <section class="signed-in">
            <p class="who">
                <strong class="display-name">{me.account.display_name}</strong>
                " (" <span class="username">{me.account.username}</span> ")"
            </p>
            <p>{tr(Text::ThisDevice)}": " {me.device.device_name} " · " {tr(via)}</p>
            <button class="primary" on:click=move |_| on_sign_out()>{tr(Text::SignOut)}</button>
        </section>
    }
}
