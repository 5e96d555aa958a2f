//! The object's alarm: the first-message deadline of waiting sockets, `expired` pushed at
//! `expires_at` with no request, and collection, after which nothing of the session is left.

use super::QrSessionObject;
use crate::objects::sockets::close;
use qrgate_protocol::live::{self, CloseCode};
use qrgate_protocol::qr::{QrSession, is_final};
use worker::{Response, Result, ScheduledTime};

impl QrSessionObject {
    /// The alarm, at `now_ms`.
    pub(super) async fn wake(&self, now_ms: u64) -> Result<Response> {
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

    /// Past the pick-up window and the collection minute: close what is left, forget
    /// everything, and set no alarm, so that nothing of the session remains.
    pub(super) async fn collect(&self) -> Result<Response> {
        for (socket, _) in self.open_sockets() {
            close(&socket, CloseCode::Collected);
        }
        self.session.forget(&self.state).await?;
        Response::empty()
    }

    /// Sets the alarm to the next moment something is due: the session's expiry or collection,
    /// or the deadline of a socket still waiting for its first message.
    pub(super) async fn schedule(&self, session: &QrSession, now_ms: u64) -> Result<()> {
        let waiting = self
            .waiting_sockets()
            .into_iter()
            .map(|(_, opened_at_ms)| opened_at_ms);
        let at_ms = live::next_alarm_ms(session.next_wake_ms(now_ms), waiting);
        let at = js_sys::Date::new(&(at_ms as f64).into());
        self.state.storage().set_alarm(ScheduledTime::new(at)).await
    }
}
