//! The PC page, served with its first code (`edge/README.md`, "The first code, served with the
//! page"): at `/`, to sign in to qrgate; at `/oauth/authorize`, in authorization mode, to sign
//! in to an app (`oauth/authorize.rs` checks the request first). The HTML is the static assets'
//! own; what this adds is a QR session made for the page, drawn as the page draws it
//! (`first_view.rs`), so that the code is on screen before the page's code has run, and handed
//! to that code, which then needs no round trip of its own. Everything up to the end of the
//! body, the drawn code with it, is sent at once, so the browser paints the code, and fetches and
//! compiles the page's code, while the session's object is made; the session follows in the
//! last chunk. A request that is not a browser loading the page (a prefetch, a link preview,
//! curl), or a PC page that says it is signed in, gets the static page, and makes nothing; in
//! authorization mode, with the request's data block all the same.

mod first_view;

use crate::api::qr::FreshObject;
use crate::config::Config;
use crate::context::{client_address, origin_of, request_location};
use crate::error::{AppError, AppResult};
use crate::limits;
use crate::logs;
use crate::objects::qr_session::rpc::NewSession;
use first_view::first_view;
use futures_util::{StreamExt, stream};
use qrgate_protocol::oauth::{AUTHORIZATION_ELEMENT_ID, AuthorizationData};
use qrgate_protocol::qr::{Audience, ForApp};
use qrgate_protocol::text::{Lang, Localized, PcText, fill};
use qrgate_protocol::{DeviceType, FIRST_CODE_ELEMENT_ID, SIGNED_IN_HINT_COOKIE, browser_name};
use worker::{Env, Request, Response};

/// The page's route, for the logs.
pub const ROUTE: &str = "GET /";

/// The static assets' binding in `wrangler.toml`.
const ASSETS_BINDING: &str = "ASSETS";

/// What the page is for.
pub enum Mode {
    /// `/`: signing in to qrgate.
    SignIn,
    /// `/oauth/authorize`: signing in to an app.
    Authorization(Box<ForAuthorization>),
}

/// The page in authorization mode: the checked request's data block, and the app the first
/// code is made for (none for `prompt=none`, which shows no code).
pub struct ForAuthorization {
    pub data: AuthorizationData,
    pub app: Option<ForApp>,
}

/// What of the request the session needs, read before the answer starts.
struct Visit {
    client_address: String,
    device_name: String,
    location: qrgate_protocol::location::Location,
}

/// Serves the page in `mode`. An edge without the app's assets (the tests' second location)
/// has no page: `404`, as for any path it does not serve.
pub async fn serve(req: Request, env: Env, mode: Mode) -> AppResult<Response> {
    let Ok(assets) = env.assets(ASSETS_BINDING) else {
        return Err(AppError::NotFound("page"));
    };
    let makes_code = is_page_load(&req)
        && match &mode {
            Mode::SignIn => !says_signed_in(&req),
            Mode::Authorization(page) => page.app.is_some(),
        };
    if !makes_code && matches!(mode, Mode::SignIn) {
        return Ok(changeable(assets.fetch_request(req).await?));
    }
    // The URL as a string: `Request::url` would link the `url` crate's parser into the bundle.
    let origin = origin_of(&req.inner().url());
    // The page itself, asked without the browser's validators: this answer is never `304`. A
    // request of web-sys's own: `Fetcher::fetch` would link workers-rs's `RequestInit`, and
    // with it the serializer of every Cloudflare request option, into the bundle.
    let index =
        web_sys::Request::new_with_str(&format!("{origin}/")).map_err(worker::Error::from)?;
    let mut page = assets.fetch_request(Request::from(index)).await?;
    if page.status_code() != 200 {
        return Ok(changeable(page));
    }
    let headers = page.headers().clone();
    // What is served differs from the asset: no validator, no length. It holds a poll secret
    // or an authorization's handle: `Cache-Control: no-store` (set by the caller).
    headers.delete("ETag")?;
    headers.delete("Content-Length")?;
    let html = page.text().await?;
    let Some(body_end) = html.rfind("</body>") else {
        return Ok(Response::from_html(html)?.with_headers(headers));
    };
    let header = |name: &str| req.headers().get(name).ok().flatten().unwrap_or_default();
    // The language the page's code picks when the person has not chosen one: the browser's.
    let lang = Lang::from_preference(&header("Accept-Language"));
    let (head, tail) = html.split_at(body_end);
    // The document's language is the view's, as the page's code sets it.
    let mut head = head.replacen(
        "<html lang=\"en\">",
        &format!("<html lang=\"{}\">", lang.code()),
        1,
    );
    let (title, app) = match mode {
        Mode::SignIn => (PcText::PcTitle.get(lang).to_owned(), None),
        Mode::Authorization(page) => {
            let ForAuthorization { data, app } = *page;
            let title = fill(PcText::AppTitle.get(lang), &data.client_name);
            head += &data_block(AUTHORIZATION_ELEMENT_ID, &serde_json::to_string(&data)?);
            (title, app)
        }
    };
    if !makes_code {
        head += tail;
        return Ok(Response::from_html(head)?.with_headers(headers));
    }
    let visit = Visit {
        client_address: client_address(&req),
        device_name: browser_name(&header("User-Agent")),
        location: request_location(&req),
    };
    let config = Config::from_env(&env)?;
    // The session's object is chosen now, and the code drawn into the first chunk, before the
    // object has made it: the code is on screen while it is made (no person scans so fast). If
    // it cannot be made, the page's code removes the drawing and asks for a code itself.
    let object = FreshObject::new(&env, &origin);
    let view = object
        .as_ref()
        .ok()
        .and_then(|object| first_view(lang, &title, &object.qr_url, config.qr_ttl_seconds));
    head += &view.unwrap_or_default();
    let tail = tail.to_owned();
    let rest = async move {
        let made = match object {
            Ok(object) => first_code(&env, &config, visit, app, object).await,
            Err(error) => Err(error),
        };
        let first_code = made.unwrap_or_else(|error| {
            // The page then asks for its code itself (`POST /api/qr`), and is told why.
            logs::write(&logs::Line::FirstCode {
                error: error.code(),
            });
            String::new()
        });
        Ok::<_, worker::Error>(format!("{first_code}{tail}").into_bytes())
    };
    let body = stream::once(async move { Ok(head.into_bytes()) }).chain(stream::once(rest));
    Ok(Response::from_stream(body)?.with_headers(headers))
}

/// `response` with headers of its own: those of the assets' answers cannot be changed, and
/// the caller sets some on every answer.
fn changeable(response: Response) -> Response {
    let headers = response.headers().clone();
    response.with_headers(headers)
}

/// A browser loading the page to show it: a top-level navigation (a link followed, or an
/// app's form posted to the authorization endpoint) that is no prefetch or prerender, which may
/// never be shown (`Sec-Purpose`, and the older `Purpose`).
fn is_page_load(req: &Request) -> bool {
    let header = |name: &str| req.headers().get(name).ok().flatten();
    matches!(req.method(), worker::Method::Get | worker::Method::Post)
        && header("Sec-Fetch-Mode").as_deref() == Some("navigate")
        && header("Sec-Fetch-Dest").as_deref() == Some("document")
        && header("Sec-Purpose").is_none()
        && header("Purpose").is_none()
}

/// The PC page holds a token, says its cookie ([`SIGNED_IN_HINT_COOKIE`]): it shows who it is
/// signed in as, and a code made for it would never be used.
fn says_signed_in(req: &Request) -> bool {
    let cookies = req
        .headers()
        .get("Cookie")
        .ok()
        .flatten()
        .unwrap_or_default();
    let hint = format!("{SIGNED_IN_HINT_COOKIE}=1");
    cookies.split(';').any(|cookie| cookie.trim() == hint)
}

/// The page's session, made in `object` within the client's creation limit, for `app` if it is
/// an app's, in the element that hands it over. Its device is unknown here: the page's first
/// poll claims it.
async fn first_code(
    env: &Env,
    config: &Config,
    visit: Visit,
    app: Option<ForApp>,
    object: FreshObject,
) -> AppResult<String> {
    limits::check_qr_create(env, &visit.client_address).await?;
    let Visit {
        device_name,
        location,
        ..
    } = visit;
    let created = object
        .make_session(config.poll_interval_seconds, |poll_secret_hash| {
            NewSession {
                device_id: None,
                device_type: DeviceType::Pc,
                device_name,
                location,
                poll_secret_hash,
                dpop_jkt: None,
                audience: app.map_or(Audience::Qrgate, Audience::App),
                lifetime_seconds: config.qr_ttl_seconds,
                rules: config.session_rules(),
            }
        })
        .await?;
    Ok(data_block(
        FIRST_CODE_ELEMENT_ID,
        &serde_json::to_string(&created)?,
    ))
}

/// `json` in a data block `id` that the page reads and no browser runs. `<` is escaped, so
/// nothing in it can end the element.
fn data_block(id: &str, json: &str) -> String {
    format!(
        "<script type=\"application/json\" id=\"{id}\">{}</script>",
        json.replace('<', "\\u003c")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_block_cannot_be_ended_by_its_contents() {
        let element = data_block(
            FIRST_CODE_ELEMENT_ID,
            r#"{"qr_url":"https://x/</script><b>"}"#,
        );
        assert_eq!(element.matches("</script>").count(), 1);
        assert!(element.ends_with(r#"\u003c/script>\u003cb>"}</script>"#));
    }
}
