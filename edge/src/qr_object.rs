//! The QR session's Durable Object: the one writer of one session.
//!
//! Each event is: load the session, ask the pure state machine (`qrgate_protocol::qr`, with
//! this object's clock passed in), store, tell the PC's live sockets. The only awaits between
//! loading and storing are this object's own storage calls, during which the runtime's input
//! gate delivers no other event, so every step is decided against the state the previous one
//! left (see `edge/README.md`). KV and `fetch` are never awaited here.
//!
//! The live channel uses the hibernation API: sockets are accepted by the runtime, `ping` is
//! answered by its auto-response without waking the object, and what the object must remember
//! about a socket (has it authenticated, when did it open) lives in the socket's attachment,
//! which survives hibernation where fields of this struct do not.

use crate::config::Config;
use crate::context::DeviceHeaders;
use crate::crypto::{constant_time_eq, hash_secret};
use crate::error::AppError;
use crate::logs;
use crate::objects::{self, Stored};
use crate::qr_rpc::{
    Command, NewSession, Outcome, PcProof, PickUp, PresentedKey, Refusal, Reply, Step,
};
use qrgate_protocol::live::{self, CloseCode, Frame, LiveHello, PING, PONG, Reaction};
use qrgate_protocol::qr::{Creator, QrSession, expires_at, is_final};
use qrgate_protocol::{PcInfo, PollResponse, QrStatus};
use serde::{Deserialize, Serialize};
use worker::{
    Date, DurableObject, Env, Request, Response, Result, ScheduledTime, Socket, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair, WebSocketRequestResponsePair, durable_object,
};

/// What the object remembers about one socket, in its hibernation-proof attachment.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct SocketState {
    authenticated: bool,
    opened_at_ms: u64,
}

#[durable_object]
pub struct QrSessionObject {
    state: State,
    /// `[vars]`, read once: they do not change while an instance lives.
    config: Option<Config>,
    session: Stored<QrSession>,
}

impl DurableObject for QrSessionObject {
    fn new(state: State, env: Env) -> Self {
        // Answered by the runtime, even while the object hibernates.
        if let Ok(pair) = WebSocketRequestResponsePair::new(PING, PONG) {
            state.set_websocket_auto_response(&pair);
        }
        Self {
            state,
            config: Config::from_env(&env).ok(),
            session: Stored::new("session"),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        let now_ms = now_ms();
        if req.headers().get("Upgrade")?.is_some() {
            return self.open_live(now_ms).await;
        }
        let reply = self.run(objects::command(req).await?, now_ms).await?;
        Response::from_json(&reply)
    }

    async fn alarm(&self) -> Result<Response> {
        let now_ms = now_ms();
        for (socket, opened_at_ms) in self.waiting_sockets() {
            if live::hello_overdue(opened_at_ms, now_ms) {
                close(&socket, CloseCode::HelloTimeout);
            }
        }
        let session = match self.session.load(&self.state).await? {
            Some(session) if now_ms < session.collect_at_ms() => session,
            _ => return self.collect().await,
        };
        // At `expires_at` an undecided session turns `expired` with no request: push it.
        let status = session.status(now_ms);
        if is_final(status) {
            self.push(&session, status)?;
        }
        self.schedule(&session, now_ms).await?;
        Response::empty()
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let frame = match &message {
            WebSocketIncomingMessage::String(text) => Frame::Text(text),
            WebSocketIncomingMessage::Binary(_) => Frame::Binary,
        };
        let Some(socket_state) = attachment(&ws) else {
            // Every socket this object accepts gets an attachment first; one without is not ours.
            close(&ws, CloseCode::BadMessage);
            return Ok(());
        };
        if !socket_state.authenticated && live::hello_overdue(socket_state.opened_at_ms, now_ms()) {
            close(&ws, CloseCode::HelloTimeout);
            return Ok(());
        }
        match live::react(frame, socket_state.authenticated) {
            // The auto-response normally answers before the object sees a ping.
            Reaction::Pong => ws.send_with_str(PONG)?,
            Reaction::Close(code) => close(&ws, code),
            Reaction::Hello(hello) => self.authenticate(&ws, socket_state, &hello).await?,
        }
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        logs::write(&logs::Line::LiveClose {
            by: logs::Closer::Client,
            code: u16::try_from(code).unwrap_or(u16::MAX),
        });
        // Complete the closing handshake; where the runtime already answered it, this fails
        // harmlessly. Nothing else is kept per socket.
        let _ = ws.close(Some(CloseCode::Done.code()), Some("closed"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        // The socket is gone; the session is unaffected and its PC reconnects or polls.
        Ok(())
    }

    async fn connect(&self, _socket: Socket) -> Result<()> {
        Err(worker::Error::RustError(
            "a QR session serves no TCP connections".into(),
        ))
    }
}

impl QrSessionObject {
    /// Decides one command: load, ask the state machine, store, tell the sockets.
    async fn run(&self, command: Command, now_ms: u64) -> Result<Reply> {
        let step = match command {
            Command::Create(new_session) => return self.create(new_session, now_ms).await,
            Command::Step(step) => step,
        };
        let Some(mut session) = self.session.load(&self.state).await? else {
            return Ok(Err(Refusal::NotFound));
        };
        let config = self.config()?;
        let rules = Rules {
            interval: config.poll_interval_seconds,
            require_key: config.require_dpop,
        };
        let applied = match apply(&mut session, step, now_ms, rules) {
            Ok(applied) => applied,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if applied.changed {
            self.session.store(&self.state, &session).await?;
        }
        if applied.status_changed {
            self.push(&session, session.status(now_ms))?;
        }
        Ok(Ok(applied.outcome))
    }

    /// Stores a new session (its id was just made, so nothing is there yet) and sets the
    /// alarm that will push `expired`.
    async fn create(&self, new_session: NewSession, now_ms: u64) -> Result<Reply> {
        let NewSession {
            device_id,
            device_type,
            device_name,
            location,
            poll_secret_hash,
            dpop_jkt,
        } = new_session;
        let created_at = now_ms / 1000;
        let session = QrSession::new(
            Creator {
                device_id,
                poll_secret_hash,
                dpop_jkt,
                info: PcInfo::new(device_type, device_name, created_at, location),
            },
            expires_at(now_ms, self.config()?.qr_ttl_seconds),
        );
        // The alarm first: should storing the session fail, the alarm finds nothing and sets
        // none, where the other order could leave a session that no alarm ever collects.
        self.schedule(&session, now_ms).await?;
        self.session.store(&self.state, &session).await?;
        Ok(Ok(Outcome::Created {
            expires_at: session.expires_at,
        }))
    }

    /// `GET /api/qr/{qr_id}/live`, after the Worker's checks: `404` for a session that does not
    /// exist, else a hibernatable socket that must authenticate within 10 s.
    async fn open_live(&self, now_ms: u64) -> Result<Response> {
        let Some(session) = self.session.load(&self.state).await? else {
            return Ok(AppError::NotFound("QR session").into_response());
        };
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        pair.server.serialize_attachment(SocketState {
            authenticated: false,
            opened_at_ms: now_ms,
        })?;
        for socket in live::crowded_out(self.waiting_sockets()) {
            close(&socket, CloseCode::HelloTimeout);
        }
        // Wake at this socket's deadline, if it comes before the session's next moment.
        self.schedule(&session, now_ms).await?;
        Response::from_websocket(pair.client)
    }

    /// The first message: the creating PC's poll secret and device, or the socket is closed.
    async fn authenticate(
        &self,
        ws: &WebSocket,
        socket_state: SocketState,
        hello: &LiveHello,
    ) -> Result<()> {
        let Some(session) = self.session.load(&self.state).await? else {
            close(ws, CloseCode::Collected);
            return Ok(());
        };
        let proof = PcProof {
            pc: DeviceHeaders {
                device_id: hello.device_id.clone(),
                device_type: hello.device_type,
            },
            poll_secret_hash: hash_secret(hello.poll_secret.expose()),
            // The live channel carries no token, so it needs no proof (`shared/API.md`).
            key: PresentedKey::None,
        };
        if !is_creator(&session, &proof) {
            close(ws, CloseCode::Unauthorized);
            return Ok(());
        }
        ws.serialize_attachment(SocketState {
            authenticated: true,
            ..socket_state
        })?;
        // The current status first, so a PC that reconnects never misses a change.
        let status = session.status(now_ms());
        ws.send_with_str(status_message(&session, status, self.config()?)?)?;
        if is_final(status) {
            close(ws, CloseCode::Done);
        }
        Ok(())
    }

    /// Tells every authenticated socket the new status, and closes them after a final one.
    fn push(&self, session: &QrSession, status: QrStatus) -> Result<()> {
        let message = status_message(session, status, self.config()?)?;
        for (socket, socket_state) in self.open_sockets() {
            if socket_state.authenticated {
                // A socket that dropped meanwhile is simply not told; its PC polls.
                let _ = socket.send_with_str(&message);
                if is_final(status) {
                    close(&socket, CloseCode::Done);
                }
            }
        }
        Ok(())
    }

    /// Past the pick-up window and the collection minute: close what is left, forget
    /// everything, and set no alarm, so that nothing of the session remains.
    async fn collect(&self) -> Result<Response> {
        for (socket, _) in self.open_sockets() {
            close(&socket, CloseCode::Collected);
        }
        self.session.forget(&self.state).await?;
        Response::empty()
    }

    /// Sets the alarm to the next moment something is due: the session's expiry or collection,
    /// or the deadline of a socket still waiting for its first message.
    async fn schedule(&self, session: &QrSession, now_ms: u64) -> Result<()> {
        let waiting = self
            .waiting_sockets()
            .into_iter()
            .map(|(_, opened_at_ms)| opened_at_ms);
        let at_ms = live::next_alarm_ms(session.next_wake_ms(now_ms), waiting);
        let at = js_sys::Date::new(&(at_ms as f64).into());
        self.state.storage().set_alarm(ScheduledTime::new(at)).await
    }

    /// The sockets still open, with what the object knows of each.
    fn open_sockets(&self) -> Vec<(WebSocket, SocketState)> {
        const OPEN: u16 = 1;
        self.state
            .get_websockets()
            .into_iter()
            .filter(|socket| socket.as_ref().ready_state() == OPEN)
            .filter_map(|socket| {
                let socket_state = attachment(&socket)?;
                Some((socket, socket_state))
            })
            .collect()
    }

    /// The open sockets still waiting for their first message, each with when it opened.
    fn waiting_sockets(&self) -> Vec<(WebSocket, u64)> {
        self.open_sockets()
            .into_iter()
            .filter(|(_, socket_state)| !socket_state.authenticated)
            .map(|(socket, socket_state)| (socket, socket_state.opened_at_ms))
            .collect()
    }

    fn config(&self) -> Result<&Config> {
        self.config
            .as_ref()
            .ok_or_else(|| worker::Error::RustError("a [vars] entry is not a number".into()))
    }
}

/// What a step did to the session: its answer, whether the session must be stored, and
/// whether the PC's sockets must be told a new status.
#[derive(Debug)]
struct Applied {
    outcome: Outcome,
    changed: bool,
    status_changed: bool,
}

impl Applied {
    fn unchanged(outcome: Outcome) -> Self {
        Self {
            outcome,
            changed: false,
            status_changed: false,
        }
    }

    fn changed(outcome: Outcome, status_changed: bool) -> Self {
        Self {
            outcome,
            changed: true,
            status_changed,
        }
    }
}

/// What the edge's configuration asks of the steps.
#[derive(Debug, Clone, Copy)]
struct Rules {
    /// The `interval` a poll answers.
    interval: u64,
    /// `REQUIRE_DPOP`: a session is claimed only with a proof, as it is created only with one.
    require_key: bool,
}

/// One step against the session, with no I/O: the object stores and pushes what this says.
fn apply(
    session: &mut QrSession,
    step: Step,
    now_ms: u64,
    rules: Rules,
) -> std::result::Result<Applied, Refusal> {
    Ok(match step {
        Step::Poll(proof) => {
            let claimed = check_creator(session, &proof, rules.require_key)?;
            let status = session.status(now_ms);
            let pick_up = session.pick_up(now_ms).map(|account| PickUp {
                account,
                device_name: session.pc.info.device_name.clone(),
                dpop_jkt: session.pc.dpop_jkt.clone(),
            });
            let picked_up = pick_up.is_some();
            let outcome = Outcome::Polled {
                status,
                expires_at: session.expires_at,
                interval: rules.interval,
                pick_up,
            };
            if picked_up || claimed {
                Applied::changed(outcome, false)
            } else {
                Applied::unchanged(outcome)
            }
        }
        Step::ReleasePickUp => {
            session.release_pick_up();
            Applied::changed(Outcome::Done, false)
        }
        Step::Cancel(proof) => {
            check_creator(session, &proof, rules.require_key)?;
            session.cancel(now_ms)?;
            Applied::changed(Outcome::Done, true)
        }
        Step::Scan {
            scanner,
            scan_token_hash,
        } => {
            // A rescan by the same phone changes nothing the PC sees: nothing to push.
            let status_changed = session.scan(scanner, scan_token_hash, now_ms)?;
            let outcome = Outcome::Scanned {
                expires_at: session.expires_at,
                pc: session.pc.info.clone(),
            };
            Applied::changed(outcome, status_changed)
        }
        Step::Decide {
            scanner,
            scan_token_hash,
            verdict,
        } => {
            let token_matches = session.scan_token_hash().is_some_and(|stored| {
                constant_time_eq(stored.as_bytes(), scan_token_hash.as_bytes())
            });
            session.decide(&scanner, token_matches, verdict, now_ms)?;
            Applied::changed(Outcome::Done, true)
        }
    })
}

/// Whether `proof` holds the session's poll secret, compared in constant time.
fn presents_poll_secret(session: &QrSession, proof: &PcProof) -> bool {
    constant_time_eq(
        proof.poll_secret_hash.as_bytes(),
        session.pc.poll_secret_hash.as_bytes(),
    )
}

/// Whether `proof` is the creating PC's. Both halves are always evaluated, and the hash is
/// compared in constant time.
fn is_creator(session: &QrSession, proof: &PcProof) -> bool {
    let secret_matches = presents_poll_secret(session, proof);
    let same_device = session
        .pc
        .is_device(&proof.pc.device_id, proof.pc.device_type);
    secret_matches & same_device
}

/// A poll or a cancel by the creating PC: its poll secret and device, then its proof: never an
/// invalid one, and for a session created with a DPoP proof, one by the same key. A session
/// the edge made for a page is first claimed here by the device and key of the first request
/// that presents its poll secret; whether this one did (the session is then to be stored).
fn check_creator(
    session: &mut QrSession,
    proof: &PcProof,
    require_key: bool,
) -> std::result::Result<bool, Refusal> {
    if session.pc.device_id.is_none() && presents_poll_secret(session, proof) {
        let key = match &proof.key {
            PresentedKey::Invalid => return Err(Refusal::InvalidDpopProof),
            PresentedKey::None if require_key => return Err(Refusal::InvalidDpopProof),
            PresentedKey::None => None,
            PresentedKey::Proven(key) => Some(key.clone()),
        };
        let (device_id, device_type) = (&proof.pc.device_id, proof.pc.device_type);
        return match session.pc.claim(device_id, device_type, key) {
            true => Ok(true),
            false => Err(Refusal::Unauthorized),
        };
    }
    if !is_creator(session, proof) {
        return Err(Refusal::Unauthorized);
    }
    match (&session.pc.dpop_jkt, &proof.key) {
        (_, PresentedKey::Invalid) => Err(Refusal::InvalidDpopProof),
        (Some(bound), PresentedKey::Proven(key)) if key == bound => Ok(false),
        (Some(_), _) => Err(Refusal::InvalidDpopProof),
        (None, _) => Ok(false),
    }
}

fn status_message(session: &QrSession, status: QrStatus, config: &Config) -> Result<String> {
    Ok(serde_json::to_string(&PollResponse {
        status,
        expires_at: session.expires_at,
        interval: config.poll_interval_seconds,
        session: None,
    })?)
}

fn attachment(ws: &WebSocket) -> Option<SocketState> {
    ws.deserialize_attachment().ok().flatten()
}

fn close(ws: &WebSocket, code: CloseCode) {
    // A socket that is already closing cannot be closed again; that is fine.
    if ws.close(Some(code.code()), Some(code.reason())).is_ok() {
        logs::write(&logs::Line::LiveClose {
            by: logs::Closer::Edge,
            code: code.code(),
        });
    }
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrgate_protocol::location::Location;
    use qrgate_protocol::qr::{Scanner, StepError, Verdict};
    use qrgate_protocol::{Account, DeviceType};

    const NOW: u64 = 1_700_000_000_000;
    const RULES: Rules = Rules {
        interval: 1,
        require_key: false,
    };

    fn pc() -> DeviceHeaders {
        DeviceHeaders {
            device_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            device_type: DeviceType::Pc,
        }
    }

    fn phone(account_id: &str) -> Scanner {
        Scanner {
            account: Account {
                account_id: account_id.into(),
                username: account_id.into(),
                display_name: account_id.into(),
            },
            device_id: "6f1c2a9e-3b7d-4c2f-9a51-2d8e7b4f0c11".into(),
        }
    }

    fn session() -> QrSession {
        let pc = pc();
        QrSession::new(
            Creator {
                device_id: Some(pc.device_id),
                poll_secret_hash: hash_secret("poll-secret"),
                dpop_jkt: None,
                info: PcInfo::new(
                    pc.device_type,
                    "Work PC".into(),
                    NOW / 1000,
                    Location::default(),
                ),
            },
            NOW / 1000 + 120,
        )
    }

    fn proof(secret: &str, pc: DeviceHeaders) -> PcProof {
        PcProof {
            pc,
            poll_secret_hash: hash_secret(secret),
            key: PresentedKey::None,
        }
    }

    fn poll(secret: &str, pc: DeviceHeaders) -> Step {
        Step::Poll(proof(secret, pc))
    }

    fn scan(account_id: &str, token: &str) -> Step {
        Step::Scan {
            scanner: phone(account_id),
            scan_token_hash: hash_secret(token),
        }
    }

    fn decide(account_id: &str, token: &str, verdict: Verdict) -> Step {
        Step::Decide {
            scanner: phone(account_id),
            scan_token_hash: hash_secret(token),
            verdict,
        }
    }

    /// `account_id`'s phone scans the session and confirms it.
    fn scan_and_confirm(session: &mut QrSession, account_id: &str) {
        apply(session, scan(account_id, "t1"), NOW, RULES).unwrap();
        let confirm = decide(account_id, "t1", Verdict::Confirmed);
        apply(session, confirm, NOW, RULES).unwrap();
    }

    fn picked_up(applied: &Applied) -> Option<&Account> {
        match &applied.outcome {
            Outcome::Polled { pick_up, .. } => pick_up.as_ref().map(|p| &p.account),
            other => panic!("not a poll: {other:?}"),
        }
    }

    #[test]
    fn polls_need_the_poll_secret_and_the_creating_device() {
        let mut session = session();
        let other_device = DeviceHeaders {
            device_type: DeviceType::Web,
            ..pc()
        };
        for step in [poll("wrong", pc()), poll("poll-secret", other_device)] {
            assert_eq!(
                apply(&mut session, step, NOW, RULES).err(),
                Some(Refusal::Unauthorized)
            );
        }
        let applied = apply(&mut session, poll("poll-secret", pc()), NOW, RULES).unwrap();
        assert!(!applied.changed, "a plain poll stores nothing");
        assert!(picked_up(&applied).is_none());
    }

    #[test]
    fn a_session_made_with_a_key_is_polled_and_cancelled_only_with_that_key() {
        let mut session = session();
        session.pc.dpop_jkt = Some("pc-key".into());
        let with_key = |key: PresentedKey| PcProof {
            key,
            ..proof("poll-secret", pc())
        };
        let others = || {
            [
                PresentedKey::None,
                PresentedKey::Proven("another key".into()),
                PresentedKey::Invalid,
            ]
        };
        for key in others() {
            assert_eq!(
                apply(&mut session, Step::Poll(with_key(key)), NOW, RULES).err(),
                Some(Refusal::InvalidDpopProof)
            );
        }
        for key in others() {
            assert_eq!(
                apply(&mut session, Step::Cancel(with_key(key)), NOW, RULES).err(),
                Some(Refusal::InvalidDpopProof)
            );
        }
        // The poll secret is checked first: a wrong one says nothing about the key.
        let wrong_secret = PcProof {
            key: PresentedKey::Invalid,
            ..proof("wrong", pc())
        };
        assert_eq!(
            apply(&mut session, Step::Poll(wrong_secret), NOW, RULES).err(),
            Some(Refusal::Unauthorized)
        );
        scan_and_confirm(&mut session, "ann");
        let applied = apply(
            &mut session,
            Step::Poll(with_key(PresentedKey::Proven("pc-key".into()))),
            NOW,
            RULES,
        )
        .unwrap();
        match applied.outcome {
            Outcome::Polled {
                pick_up: Some(pick_up),
                ..
            } => assert_eq!(pick_up.dpop_jkt.as_deref(), Some("pc-key")),
            other => panic!("no pick-up: {other:?}"),
        }
    }

    /// A session the edge made for a page it served: no device yet.
    fn unclaimed() -> QrSession {
        let mut session = session();
        session.pc.device_id = None;
        session
    }

    #[test]
    fn the_first_poll_with_the_secret_claims_an_unclaimed_session_for_its_device() {
        let mut session = unclaimed();
        assert_eq!(
            apply(&mut session, poll("wrong", pc()), NOW, RULES).err(),
            Some(Refusal::Unauthorized)
        );
        assert_eq!(session.pc.device_id, None, "a wrong secret claims nothing");
        let claim = apply(&mut session, poll("poll-secret", pc()), NOW, RULES).unwrap();
        assert!(
            claim.changed && !claim.status_changed,
            "the claim is stored, not pushed"
        );
        let other = DeviceHeaders {
            device_id: "2c0d6a8e-5f4b-4e1a-9c3d-7b8a6e5f4d3c".into(),
            ..pc()
        };
        assert_eq!(
            apply(&mut session, poll("poll-secret", other), NOW, RULES).err(),
            Some(Refusal::Unauthorized)
        );
        let again = apply(&mut session, poll("poll-secret", pc()), NOW, RULES).unwrap();
        assert!(!again.changed);
    }

    #[test]
    fn a_claim_binds_the_key_it_proves_and_an_edge_that_requires_keys_needs_one() {
        let strict = Rules {
            require_key: true,
            ..RULES
        };
        let mut session = unclaimed();
        assert_eq!(
            apply(&mut session, poll("poll-secret", pc()), NOW, strict).err(),
            Some(Refusal::InvalidDpopProof)
        );
        let with_key = |key: &str| PcProof {
            key: PresentedKey::Proven(key.into()),
            ..proof("poll-secret", pc())
        };
        apply(&mut session, Step::Poll(with_key("jkt")), NOW, strict).unwrap();
        assert_eq!(session.pc.dpop_jkt.as_deref(), Some("jkt"));
        assert_eq!(
            apply(&mut session, Step::Poll(with_key("other")), NOW, RULES).err(),
            Some(Refusal::InvalidDpopProof)
        );
    }

    #[test]
    fn a_scan_is_stored_and_pushed_once_and_a_rescan_only_stored() {
        let mut session = session();
        let first = apply(&mut session, scan("ann", "t1"), NOW, RULES).unwrap();
        assert!(first.changed && first.status_changed);
        let again = apply(&mut session, scan("ann", "t2"), NOW, RULES).unwrap();
        assert!(again.changed && !again.status_changed);
        assert_eq!(
            apply(&mut session, scan("bob", "t3"), NOW, RULES).err(),
            Some(Refusal::Step(StepError::Conflict))
        );
    }

    #[test]
    fn only_the_latest_scan_token_decides() {
        let mut session = session();
        apply(&mut session, scan("ann", "t1"), NOW, RULES).unwrap();
        apply(&mut session, scan("ann", "t2"), NOW, RULES).unwrap();
        assert_eq!(
            apply(
                &mut session,
                decide("ann", "t1", Verdict::Confirmed),
                NOW,
                RULES
            )
            .err(),
            Some(Refusal::Step(StepError::Forbidden))
        );
        let applied = apply(
            &mut session,
            decide("ann", "t2", Verdict::Confirmed),
            NOW,
            RULES,
        )
        .unwrap();
        assert!(applied.changed && applied.status_changed);
    }

    #[test]
    fn the_confirming_account_is_picked_up_by_exactly_one_poll() {
        let mut session = session();
        scan_and_confirm(&mut session, "ann");
        let first = apply(&mut session, poll("poll-secret", pc()), NOW, RULES).unwrap();
        assert_eq!(picked_up(&first), Some(&phone("ann").account));
        assert!(first.changed && !first.status_changed);
        let second = apply(&mut session, poll("poll-secret", pc()), NOW, RULES).unwrap();
        assert_eq!(picked_up(&second), None);
        // A pick-up whose token could not be stored is given back, once.
        apply(&mut session, Step::ReleasePickUp, NOW, RULES).unwrap();
        let third = apply(&mut session, poll("poll-secret", pc()), NOW, RULES).unwrap();
        assert_eq!(picked_up(&third), Some(&phone("ann").account));
    }

    #[test]
    fn a_cancel_needs_the_pc_and_ends_the_session() {
        let mut session = session();
        let cancel = |secret: &str| Step::Cancel(proof(secret, pc()));
        assert_eq!(
            apply(&mut session, cancel("wrong"), NOW, RULES).err(),
            Some(Refusal::Unauthorized)
        );
        let applied = apply(&mut session, cancel("poll-secret"), NOW, RULES).unwrap();
        assert!(applied.changed && applied.status_changed);
        assert_eq!(session.status(NOW), QrStatus::Cancelled);
        assert_eq!(
            apply(&mut session, scan("ann", "t1"), NOW, RULES).err(),
            Some(Refusal::Step(StepError::Conflict))
        );
    }
}
