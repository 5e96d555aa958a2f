//! The PC page (`/`): shows a QR code, listens on the live channel until the phone decides
//! (polling only while the channel is down), and then shows who is signed in. A code that
//! expires is replaced a few times; after that it is blurred under a button, so an unattended
//! tab does not create sessions forever.
//!
//! In authorization mode (`/oauth/authorize`, `shared/API.md`, "Sign in to other apps") the
//! same page signs the person in to an app: its codes are made for the app's request, and what
//! the phone's decision hands over is the redirect back to the app, which the page follows. A
//! browser that holds a token already is offered "Continue as" beside the code.

use crate::account_channel;
use crate::api;
use crate::device::{self, SignedInAs, clear_token, keep_sign_in, user_agent};
use crate::i18n::{Localized, Message, PcText, Text, tr, use_lang, via_text};
use crate::role::Role;

/// A message of this page: its own text or a shared one.
type Msg = Message<PcText>;
use crate::live::{LiveChannel, LiveEvent, RECONNECT_FIRST_MS, RECONNECT_MAX_MS};
use crate::qr_code::QrCodeView;
use crate::{Frame, NotFound, current_path, go, is_page_hidden, now_seconds, redirect, sleep_ms};
use futures::StreamExt;
use futures::channel::mpsc;
use leptos::prelude::*;
use leptos::task::spawn_local;
use qrgate_protocol::oauth::{AUTHORIZATION_ELEMENT_ID, AuthorizationData, paths};
use qrgate_protocol::qr::PICKUP_WINDOW_MS;
use qrgate_protocol::text::fill;
use qrgate_protocol::{
    CreateQrResponse, ErrorCode, FIRST_CODE_ELEMENT_ID, FIRST_VIEW_ELEMENT_ID, LoginSession,
    PollResponse, QrStatus, Via, browser_name,
};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::wasm_bindgen;

/// New codes fetched automatically after one expires, before the page waits for a click.
pub const MAX_AUTO_RENEWALS: u32 = 3;
/// The least wait before a code's creation that failed for a reason that may pass is retried.
const CREATE_RETRY_MS: u32 = 2_000;
/// The live channel's keep-alive (the contract asks for about every 20 s).
const PING_EVERY_MS: f64 = 20_000.0;
/// The PC's password sign-in, served by the phone pages' bundle, which carries the form anyway.
pub const PASSWORD_PAGE: &str = "/password";
/// How long the page waits for a word from the edge (`pong` or a status) after a ping before
/// it takes the socket for dead.
const PONG_WAIT_MS: f64 = 10_000.0;

/// What moves a shown code along.
enum Event {
    Live(LiveEvent),
    /// Every `interval`: a poll while the live channel is down, else the keep-alive.
    Tick,
    Reconnect,
}

/// What a poll handed over, once: the PC's token, or for an app the redirect back to it.
enum Handed {
    Session(LoginSession),
    Redirect(String),
}

fn handed(polled: PollResponse) -> Option<Handed> {
    match (polled.session, polled.authorization) {
        (Some(session), _) => Some(Handed::Session(session)),
        (None, Some(authorization)) => Some(Handed::Redirect(authorization.redirect_to)),
        (None, None) => None,
    }
}

/// What a followed code came to.
enum Followed {
    /// A poll picked the token up, or the redirect.
    Handed(Handed),
    /// Pushed `confirmed`: one poll picks the token up.
    Confirmed,
    /// Expired, or gone from the edge.
    Expired,
    /// Denied on the phone, or cancelled.
    Ended(QrStatus),
    /// A newer code or a sign-in took over.
    Superseded,
}

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
    SignedIn(SignedInAs),
    /// Going back to the app (authorization mode).
    Redirecting,
    /// The app's request is too old for new codes (authorization mode).
    AuthorizationExpired,
}

/// The words for each state, announced through the page's live region.
pub fn status_text(state: &PcState) -> Msg {
    match state {
        PcState::Starting => PcText::Creating.into(),
        PcState::Showing {
            status: QrStatus::Scanned,
            ..
        } => PcText::Scanned.into(),
        PcState::Showing { .. } => PcText::Waiting.into(),
        PcState::Stale(_) | PcState::Ended(QrStatus::Expired) => PcText::Expired.into(),
        PcState::Ended(QrStatus::Denied) => PcText::Denied.into(),
        PcState::Ended(_) => PcText::Cancelled.into(),
        PcState::Failed => Text::CouldNotReach.into(),
        PcState::SignedIn(_) => PcText::SignedInAs.into(),
        PcState::Redirecting => PcText::ReturningToApp.into(),
        PcState::AuthorizationExpired => PcText::AuthorizationExpired.into(),
    }
}

/// The app the page signs the person in to, in authorization mode: its request's data block,
/// and the role whose token may sign in at once ("Continue as"), with its name.
#[derive(Clone)]
pub struct ForApp {
    pub data: AuthorizationData,
    pub continue_as: RwSignal<Option<(Role, String)>>,
}

/// Drives the page: each new code or sign-in starts a new generation, and every loop of an
/// older generation stops at its next tick.
#[derive(Clone)]
struct Controller {
    state: RwSignal<PcState>,
    generation: Rc<Cell<u64>>,
    app: Option<ForApp>,
}

impl Controller {
    fn next_generation(&self) -> u64 {
        self.generation.set(self.generation.get() + 1);
        self.generation.get()
    }

    fn is_current(&self, generation: u64) -> bool {
        self.generation.get() == generation
    }

    /// Starts over with a fresh code; `renewals` counts automatic replacements so far.
    fn new_code(&self, renewals: u32) {
        let this = self.clone();
        let generation = self.next_generation();
        self.state.set(PcState::Starting);
        spawn_local(async move {
            let handle = this.app.as_ref().map(|app| app.data.handle.clone());
            let created = api::create_qr(browser_name(&user_agent()), handle).await;
            if !this.is_current(generation) {
                return;
            }
            let qr = match created {
                Ok(qr) => qr,
                // Throttled (many PCs behind one address), overloaded or no answer: asked again
                // after its `Retry-After`, counted as a renewal, before the person is asked.
                Err(error) if error.is_transient() && renewals < MAX_AUTO_RENEWALS => {
                    sleep_ms(error.retry_in_ms(CREATE_RETRY_MS)).await;
                    if this.is_current(generation) {
                        this.new_code(renewals + 1);
                    }
                    return;
                }
                // The app's request is older than its handle's ten minutes.
                Err(error) if this.app.is_some() && error.is(ErrorCode::InvalidRequest) => {
                    return this.state.set(PcState::AuthorizationExpired);
                }
                Err(_) => return this.state.set(PcState::Failed),
            };
            this.show(qr, generation, renewals).await;
        });
    }

    /// Shows the code the edge served with the page (`edge/README.md`, "The first code, served
    /// with the page") at once. The edge could not know this browser's device or key, so the
    /// first poll claims the code for them, before the live channel, which only the claiming
    /// device may open. A code past its time, or none (the edge was over its limit), is asked
    /// for as any other.
    fn show_first_code(&self, qr: CreateQrResponse) {
        if qr.expires_at <= now_seconds() {
            return self.new_code(0);
        }
        let this = self.clone();
        let generation = self.next_generation();
        self.state.set(PcState::Showing {
            qr: qr.clone(),
            status: QrStatus::Pending,
        });
        spawn_local(async move {
            let claimed = api::poll_qr(&qr).await;
            if !this.is_current(generation) {
                return;
            }
            match claimed {
                // A failure that may pass leaves the claim to the polls `follow` makes while
                // the channel refuses an unclaimed code.
                Ok(polled) => match handed(polled) {
                    // Confirmed before this first poll (a person is rarely so quick).
                    Some(handed) => this.hand_over(handed).await,
                    None => this.show(qr, generation, 0).await,
                },
                Err(error) if error.is_transient() => this.show(qr, generation, 0).await,
                // Claimed by another device, or gone: a code of this browser's own.
                Err(_) => this.new_code(1),
            }
        });
    }

    /// Shows `qr` and follows it until it is decided, ends or expires.
    async fn show(&self, qr: CreateQrResponse, generation: u64, renewals: u32) {
        self.state.set(PcState::Showing {
            qr: qr.clone(),
            status: QrStatus::Pending,
        });
        // Acted on once `follow` has returned: its socket, timer and queue are gone by then.
        match self.follow(&qr, generation).await {
            Followed::Handed(handed) => self.hand_over(handed).await,
            Followed::Confirmed => self.pick_up(&qr, generation).await,
            Followed::Expired if renewals < MAX_AUTO_RENEWALS => self.new_code(renewals + 1),
            Followed::Expired => self.state.set(PcState::Stale(qr)),
            // An app is told of the denial or cancel: the poll after it carries its redirect.
            Followed::Ended(_) if self.app.is_some() => self.pick_up(&qr, generation).await,
            Followed::Ended(status) => self.state.set(PcState::Ended(status)),
            Followed::Superseded => {}
        }
    }

    /// Follows a shown code until it is decided or expires: statuses pushed on the live
    /// channel, and polls at `interval` only while the channel is down (reopened with backoff).
    async fn follow(&self, qr: &CreateQrResponse, generation: u64) -> Followed {
        let interval_ms = (qr.interval.max(1) * 1000) as u32;
        let pc = device::device(Role::Pc);
        let (events, mut inbox) = mpsc::unbounded::<Event>();
        let open = |events: &mpsc::UnboundedSender<Event>| {
            let sender = events.clone();
            let channel = LiveChannel::open(qr, &pc, move |event| {
                let _ = sender.unbounded_send(Event::Live(event));
            });
            if channel.is_none() {
                // The browser refused the socket: as if it had closed, so it is tried again.
                let _ = events.unbounded_send(Event::Live(LiveEvent::Down));
            }
            channel
        };
        let mut live = open(&events);
        let mut live_up = false;
        let mut reconnect_ms = RECONNECT_FIRST_MS;
        let reconnect_later = |reconnect_ms: &mut u32| {
            spawn_local(send_after(events.clone(), *reconnect_ms, Event::Reconnect));
            *reconnect_ms = (*reconnect_ms * 2).min(RECONNECT_MAX_MS);
        };
        let mut last_ping = js_sys::Date::now();
        let mut last_heard = last_ping;
        // No poll before this: ticks that queued behind a slow poll are let pass, and a `429`
        // or `503` is given its `Retry-After`.
        let mut next_poll_at = 0.0;
        spawn_local(send_every(events.clone(), interval_ms));
        while let Some(event) = inbox.next().await {
            if !self.is_current(generation) {
                return Followed::Superseded;
            }
            let now = js_sys::Date::now();
            let status = match event {
                Event::Live(LiveEvent::Status(status)) => {
                    live_up = true;
                    last_heard = now;
                    reconnect_ms = RECONNECT_FIRST_MS;
                    status
                }
                Event::Live(LiveEvent::Alive) => {
                    last_heard = now;
                    continue;
                }
                Event::Live(LiveEvent::Down) => {
                    live = None;
                    live_up = false;
                    reconnect_later(&mut reconnect_ms);
                    continue;
                }
                Event::Reconnect => {
                    live = open(&events);
                    continue;
                }
                Event::Tick
                    if live_up && last_ping > last_heard && now - last_ping >= PONG_WAIT_MS =>
                {
                    // The last ping went unanswered: the connection died without closing (a
                    // laptop slept, the network changed). Polls stand in until it is reopened.
                    live = None;
                    live_up = false;
                    reconnect_later(&mut reconnect_ms);
                    continue;
                }
                Event::Tick if live_up => {
                    if now - last_ping >= PING_EVERY_MS {
                        live.iter().for_each(LiveChannel::ping);
                        last_ping = now;
                    }
                    continue;
                }
                Event::Tick if is_page_hidden() || now < next_poll_at => continue,
                Event::Tick => {
                    let polled = api::poll_qr(qr).await;
                    next_poll_at = js_sys::Date::now() + f64::from(interval_ms) / 2.0;
                    match polled {
                        Ok(polled) => {
                            let status = polled.status;
                            match handed(polled) {
                                Some(handed) if self.is_current(generation) => {
                                    return Followed::Handed(handed);
                                }
                                _ => status,
                            }
                        }
                        // The network or the edge hiccuped: keep the code, poll again later.
                        Err(error) if error.is_transient() => {
                            next_poll_at = js_sys::Date::now() + f64::from(error.retry_in_ms(0));
                            continue;
                        }
                        // Gone (`404`), or no longer this browser's (`401`: its storage was
                        // cleared meanwhile): a new code, counted as a renewal.
                        Err(_) => QrStatus::Expired,
                    }
                }
            };
            if !self.is_current(generation) {
                return Followed::Superseded;
            }
            match status {
                QrStatus::Pending | QrStatus::Scanned => self.state.set(PcState::Showing {
                    qr: qr.clone(),
                    status,
                }),
                QrStatus::Confirmed => return Followed::Confirmed,
                QrStatus::Expired => return Followed::Expired,
                QrStatus::Denied | QrStatus::Cancelled => return Followed::Ended(status),
            }
        }
        Followed::Superseded
    }

    /// The one poll that picks the token (or an app's redirect) up after `confirmed`, or an
    /// app's redirect after a denial or a cancel. While the edge still holds the token for this
    /// PC (its pick-up window), a failure that may pass (no answer, `429`, `503`, `500`) is
    /// tried again after its `Retry-After`, so one throttled request does not cost the person a
    /// new scan. Confirmed without a token means another tab took it; any other refusal, that
    /// the code is gone: start again.
    async fn pick_up(&self, qr: &CreateQrResponse, generation: u64) {
        let interval_ms = (qr.interval.max(1) * 1000) as u32;
        let give_up_at = js_sys::Date::now() + PICKUP_WINDOW_MS as f64;
        while self.is_current(generation) {
            let polled = api::poll_qr(qr).await;
            if !self.is_current(generation) {
                return;
            }
            match polled {
                Ok(polled) => match handed(polled) {
                    Some(handed) => return self.hand_over(handed).await,
                    None => return self.new_code(0),
                },
                Err(error) if !error.is_transient() => return self.new_code(0),
                Err(_) if js_sys::Date::now() >= give_up_at => {
                    return self.state.set(PcState::Failed);
                }
                Err(error) => sleep_ms(error.retry_in_ms(interval_ms)).await,
            }
        }
    }

    async fn hand_over(&self, handed: Handed) {
        match handed {
            Handed::Session(session) => self.signed_in_with(&session).await,
            Handed::Redirect(url) => self.leave_for(&url),
        }
    }

    /// Back to the app: a top-level navigation of this tab, which leaves no entry in the
    /// history (Back goes to the app's page that sent the person here).
    fn leave_for(&self, url: &str) {
        self.next_generation();
        self.state.set(PcState::Redirecting);
        redirect(url);
    }

    /// "Continue as": single sign-on with the token this browser holds. Refused (a sign-in the
    /// app finds too old, a token no longer valid, a request past its ten minutes), the offer
    /// goes and the code stays to scan; with `prompt=none` (`or_else`), any refusal goes back
    /// to the app with `login_required`.
    fn continue_as(&self, or_else: Option<String>) {
        let Some(app) = self.app.clone() else { return };
        let this = self.clone();
        spawn_local(async move {
            let answer = match app.continue_as.get_untracked() {
                Some((role, _)) => api::continue_authorization(role, &app.data.handle)
                    .await
                    .ok(),
                None => None,
            };
            match answer.map(|answer| answer.redirect_to).or(or_else) {
                Some(url) => this.leave_for(&url),
                None => app.continue_as.set(None),
            }
        });
    }

    /// "Cancel": the code is withdrawn, and the poll after it carries the app's redirect with
    /// `access_denied`; a code decided meanwhile hands over what it was decided to.
    fn cancel(&self) {
        let PcState::Showing { qr, .. } = self.state.get_untracked() else {
            return;
        };
        let this = self.clone();
        let generation = self.next_generation();
        spawn_local(async move {
            let _ = api::cancel_qr(&qr).await;
            if this.is_current(generation) {
                this.pick_up(&qr, generation).await;
            }
        });
    }

    async fn signed_in_with(&self, session: &LoginSession) {
        let who = SignedInAs {
            account: session.account.clone(),
            device_name: browser_name(&user_agent()),
            via: Via::Qr,
        };
        keep_sign_in(Role::Pc, session, &who).await;
        self.show_signed_in().await;
    }

    /// Shows who the PC is signed in as, then listens on the account's channel, which says at
    /// once when this PC is signed out from anywhere: the code comes back.
    async fn show_signed_in(&self) {
        let generation = self.next_generation();
        let Some(who) = device::signed_in_as(Role::Pc) else {
            // A token without its account (kept by an older version of this page).
            clear_token(Role::Pc);
            return self.new_code(0);
        };
        self.state.set(PcState::SignedIn(who));
        // Also for a PC signed in before the page gave the hint, or whose cookie was cleared.
        device::hint_signed_in(Role::Pc, true);
        let wanted = || self.is_current(generation);
        if account_channel::until_signed_out(Role::Pc, None, wanted).await {
            clear_token(Role::Pc);
            self.new_code(0);
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

    /// Withdraws the code shown, then opens the password page (`/password`, a page of its own
    /// so that this page's first visit does not carry the password form). A code confirmed on
    /// the phone before the click arrived cannot be withdrawn (`409`): the person has signed
    /// this PC in already, so its token is picked up, as the next poll would have, rather than
    /// left to expire while they type a password.
    fn use_password(&self) {
        self.leave_for_password_page(false);
    }

    /// As [`Controller::use_password`], to the password page's passkey sign-in, which starts at
    /// once (`?passkey`): this PC's own passkey, or a phone nearby through the browser's own
    /// cross-device flow (FIDO's hybrid transport), signs in without a scan of this page's code.
    /// Its code is there and not here, so this page's first visit stays within its budget.
    fn use_passkey(&self) {
        self.leave_for_password_page(true);
    }

    fn leave_for_password_page(&self, passkey: bool) {
        let shown = match self.state.get_untracked() {
            PcState::Showing { qr, .. } | PcState::Stale(qr) => Some(qr),
            _ => None,
        };
        let this = self.clone();
        let generation = self.next_generation();
        spawn_local(async move {
            if let Some(qr) = shown {
                let withdrawn = api::cancel_qr(&qr).await;
                if withdrawn.is_err_and(|error| error.is(ErrorCode::Conflict))
                    && let Ok(PollResponse {
                        session: Some(session),
                        ..
                    }) = api::poll_qr(&qr).await
                    && this.is_current(generation)
                {
                    return this.signed_in_with(&session).await;
                }
            }
            // The password page signs in to the app too, with the handle this tab keeps.
            // In authorization mode, the password page goes on into the app once the person
            // has signed in: it is handed the request's handle (nothing secret: the page's own
            // URL held the request).
            let mut page = PASSWORD_PAGE.to_owned();
            if passkey {
                page.push_str("?passkey=1");
            }
            if let Some(app) = &this.app {
                page.push_str(if passkey { "&" } else { "?" });
                page.push_str("authorization=");
                page.push_str(&app.data.handle);
            }
            go(&page);
        });
    }

    fn start(&self) {
        let first_code = take_first_code(FIRST_CODE_ELEMENT_ID, FIRST_VIEW_ELEMENT_ID)
            .and_then(|json| crate::json::from_json::<CreateQrResponse>(&json));
        if let Some(app) = &self.app {
            // `prompt=none` shows nothing: a code at once if signed in, else `login_required`.
            if let Some(login_required) = app.data.login_required_redirect.clone() {
                return self.continue_as(Some(login_required));
            }
            match first_code {
                Some(qr) => self.show_first_code(qr),
                None => self.new_code(0),
            }
        } else if device::token(Role::Pc).is_some() {
            let this = self.clone();
            spawn_local(async move { this.show_signed_in().await });
        } else if let Some(qr) = first_code {
            self.show_first_code(qr);
        } else {
            self.new_code(0);
        }
    }
}

#[wasm_bindgen(inline_js = "export function reload_when_restored() { \
    addEventListener('pageshow', (event) => event.persisted && location.reload()); } \
  export function data_block(id) { return document.getElementById(id)?.textContent; } \
  export function take_first_code(code_id, view_id) { \
    document.getElementById(view_id)?.remove(); \
    const element = document.getElementById(code_id); element?.remove(); return element?.textContent; } \
  export function keep_focus_on_page() { \
    let inside = false; \
    addEventListener('focusin', (event) => { inside = !!event.target.closest?.('main.pc'); }); \
    new MutationObserver(() => { \
      const main = document.querySelector('main.pc'); \
      if (inside && main && document.activeElement === document.body) \
        (main.querySelector('button.primary') ?? main.querySelector('button'))?.focus(); \
    }).observe(document.body, { childList: true, subtree: true }); }")]
extern "C" {
    /// Back to this page from the browser's back-forward cache, the page loads again: the code
    /// it showed may have been withdrawn on the way out (for the password page), and nothing
    /// follows it any more.
    fn reload_when_restored();

    /// The text of the element `code_id`, which is removed: the page's first code is shown
    /// once. The edge's drawing of it, `view_id`, is removed too: this page draws itself now,
    /// in this same task, so no frame goes without it.
    fn take_first_code(code_id: &str, view_id: &str) -> Option<String>;

    /// The text of the data block `id` that the edge served the page with, if it has one.
    fn data_block(id: &str) -> Option<String>;

    /// A state change can remove the control that has the focus (a denial pushed while "use
    /// password" is focused), which leaves it on the document's body, where a keyboard starts
    /// again from the top: it goes to the new state's first control (its primary one) instead.
    /// Focus moved elsewhere (the header), or nowhere (the window left), stays where it went.
    /// In JS, a few lines instead of the event and effect code that would weigh on the page.
    fn keep_focus_on_page();
}

/// Sends `Event::Tick` every `interval_ms` until the receiving loop has ended.
async fn send_every(events: mpsc::UnboundedSender<Event>, interval_ms: u32) {
    loop {
        sleep_ms(interval_ms).await;
        if events.unbounded_send(Event::Tick).is_err() {
            return;
        }
    }
}

async fn send_after(events: mpsc::UnboundedSender<Event>, delay_ms: u32, event: Event) {
    sleep_ms(delay_ms).await;
    let _ = events.unbounded_send(event);
}

/// The PC bundle's root: the sign-in page at `/`, and in authorization mode at the
/// authorization endpoint; any other path that reaches it (the assets' fallback page) is not
/// found.
#[component]
pub fn PcApp() -> impl IntoView {
    // Made inside the frame, as its children: a page made before would not see the language
    // the frame provides, and would stay in English.
    let path = current_path();
    view! {
        <Frame>
            {if path == "/" || path == paths::AUTHORIZE {
                view! { <PcPage /> }.into_any()
            } else {
                view! { <NotFound /> }.into_any()
            }}
        </Frame>
    }
}

/// The sign-in page. It is mounted once and lives as long as the browser shows it: every
/// navigation away is a full page load, so its loops need no cleanup.
#[component]
pub fn PcPage() -> impl IntoView {
    let app = data_block(AUTHORIZATION_ELEMENT_ID)
        .and_then(|json| crate::json::from_json::<AuthorizationData>(&json))
        .map(|data| {
            // A token of either role this browser holds: the phone's too, for a person who
            // authorizes an app on the phone itself (it cannot scan its own screen).
            let held = [Role::Pc, Role::Phone].into_iter().find_map(|role| {
                device::token(role)?;
                Some((role, device::signed_in_as(role)?.account.display_name))
            });
            ForApp {
                data,
                continue_as: RwSignal::new(held),
            }
        });
    let controller = Controller {
        state: RwSignal::new(PcState::Starting),
        generation: Rc::new(Cell::new(0)),
        app: app.clone(),
    };
    let now = RwSignal::new(now_seconds());
    spawn_local(async move {
        loop {
            now.set(now_seconds());
            sleep_ms(1000).await;
        }
    });
    controller.start();
    reload_when_restored();
    keep_focus_on_page();
    let state = controller.state;
    let on = |act: fn(&Controller)| {
        let controller = controller.clone();
        UnsyncCallback::new(move |()| act(&controller))
    };
    view! {
        <PcView
            state=state
            now=now
            on_new_code=on(|c| c.new_code(0))
            on_use_password=on(Controller::use_password)
            on_use_passkey=on(Controller::use_passkey)
            on_sign_out=on(Controller::sign_out)
            app=app
            on_continue=on(|c| c.continue_as(None))
            on_cancel=on(Controller::cancel)
        />
    }
}

/// What the PC page shows in each state; [`PcPage`] drives it, tests mount it directly.
#[component]
pub fn PcView(
    state: RwSignal<PcState>,
    now: RwSignal<u64>,
    on_new_code: UnsyncCallback<()>,
    on_use_password: UnsyncCallback<()>,
    on_use_passkey: UnsyncCallback<()>,
    on_sign_out: UnsyncCallback<()>,
    /// Authorization mode: the app, and what "Continue as" and "Cancel" do.
    #[prop(default = None)]
    app: Option<ForApp>,
    #[prop(optional)] on_continue: Option<UnsyncCallback<()>>,
    #[prop(optional)] on_cancel: Option<UnsyncCallback<()>>,
) -> impl IntoView {
    let lang = use_lang();
    let app_name = app.as_ref().map(|app| app.data.client_name.clone());
    let named = {
        let app_name = app_name.clone();
        move |text: &str| match &app_name {
            Some(name) => fill(text, name),
            None => text.to_owned(),
        }
    };
    let status = {
        let named = named.clone();
        move || {
            let state = state.get();
            let text = status_text(&state).get(lang.get());
            match state {
                // With the name, so that a screen reader says who is signed in.
                PcState::SignedIn(who) => format!("{text} {}", who.account.display_name),
                _ => named(text),
            }
        }
    };
    let title = move || match &app_name {
        Some(name) => fill(PcText::AppTitle.get(lang.get()), name),
        None => PcText::PcTitle.get(lang.get()).to_owned(),
    };
    // Beside the code in authorization mode: single sign-on, and back to the app.
    let continue_as = app.as_ref().map(|app| app.continue_as);
    // Beside the code in authorization mode: single sign-on (while a token is held), and back
    // to the app. Drawn with the code, whose view already follows the state and the language.
    let app_actions = move || {
        let offer = continue_as.and_then(|offer| offer.get()).map(|(_, name)| {
            let label = fill(PcText::ContinueAs.get(lang.get()), &name);
            view! {
                <button class="primary continue" on:click=move |_| {
                    if let Some(on_continue) = on_continue { on_continue.run(()) }
                }>{label}</button>
            }
        });
        let cancel = on_cancel.filter(|_| continue_as.is_some()).map(|on_cancel| {
            view! { <button class="link cancel" on:click=move |_| on_cancel.run(())>{PcText::Cancel.get(lang.get())}</button> }
        });
        (offer, cancel)
    };
    // Beside a code, and wherever none can be scanned.
    let use_password = move || {
        view! {
            <button class="link" on:click=move |_| on_use_passkey.run(())>{tr(Text::SignInWithPasskey)}</button>
            <button class="link" on:click=move |_| on_use_password.run(())>{tr(PcText::UsePassword)}</button>
        }
    };
    let body = move || {
        match state.get() {
        PcState::Starting => view! { <div class="qr-placeholder" aria-hidden="true"></div> }.into_any(),
        PcState::Showing { qr, .. } => {
            let expires_at = qr.expires_at;
            let left = move || expires_at.saturating_sub(now.get());
            view! {
                <p>{tr(PcText::PcInstructions)}</p>
                <QrCodeView url=qr.qr_url.clone() />
                <p class="countdown">{tr(PcText::ExpiresIn)}" " <strong>{left}</strong> " " {tr(PcText::Seconds)}</p>
                {app_actions()}
                {use_password()}
            }
            .into_any()
        }
        PcState::Stale(qr) => view! {
            <div class="stale">
                // Expired: a picture only, nothing for a screen reader to read out.
                <div aria-hidden="true"><QrCodeView url=qr.qr_url.clone() blurred=true /></div>
                <button class="primary overlay" on:click=move |_| on_new_code.run(())>{tr(PcText::NewCode)}</button>
            </div>
            {use_password()}
        }
        .into_any(),
        PcState::Ended(_) | PcState::Failed => view! {
            <button class="primary" on:click=move |_| on_new_code.run(())>{tr(PcText::NewCode)}</button>
            {use_password()}
        }
        .into_any(),
        PcState::SignedIn(who) => view! { <SignedIn who=who on_sign_out=move || on_sign_out.run(()) /> }.into_any(),
        PcState::Redirecting | PcState::AuthorizationExpired => ().into_any(),
    }
    };
    view! {
        <main class="pc">
            <h1>{title}</h1>
            <p class="status" role="status" aria-live="polite">{status}</p>
            {body}
        </main>
    }
}

#[component]
fn SignedIn(who: SignedInAs, on_sign_out: impl Fn() + 'static) -> impl IntoView {
    let via = via_text(who.via);
    view! {
        <section class="signed-in">
            <p class="who">
                <strong class="display-name">{who.account.display_name}</strong>
                " (" <span class="username">{who.account.username}</span> ")"
            </p>
            <p>{tr(PcText::ThisDevice)}": " {who.device_name} " · " {tr(via)}</p>
            <button class="primary" on:click=move |_| on_sign_out()>{tr(PcText::SignOut)}</button>
        </section>
    }
}
