//! `GET` or `POST /oauth/authorize` (`shared/API.md`, "Authorization"): the request checked
//! by `qrgate_protocol::oauth::authorize`, then one of three answers. A client or redirect URI
//! that cannot be trusted gets a `400` page and no redirect, whatever else is wrong, so this is
//! no open redirect; any other refusal goes back to the client (`303`, with `state` and `iss`);
//! a good request gets the PC page in authorization mode (`page/`), with its handle.

use super::error::{OAuthError, OAuthResult};
use super::grants::refusal;
use super::token::is_form;
use super::{Registry, handle, issuer};
use crate::config::Config;
use crate::context::{origin_of, read_limited_body};
use crate::page::{self, ForAuthorization, Mode};
use qrgate_protocol::oauth::authorize::{NoRedirect, Prompt, Refused, check};
use qrgate_protocol::oauth::form::{Params, with_query};
use qrgate_protocol::oauth::{AuthorizationData, OAuthErrorCode};
use qrgate_protocol::qr::ForApp;
use qrgate_protocol::text::{ErrorPageText, Lang, Localized};
use worker::{Env, Method, Request, Response};

pub async fn serve(mut req: Request, env: Env, now_ms: u64) -> OAuthResult<Response> {
    let params = match req.method() {
        // A body that is no form of at most 8 KiB holds no parameters: it is answered as a
        // request without them (the error page), as `GET` would be.
        Method::Post => match read_limited_body(&mut req).await {
            Ok(body) if is_form(&req) => Params::parse(&body),
            _ => Params::default(),
        },
        _ => {
            let url = req.inner().url();
            let query = url.split_once('?').map_or("", |(_, query)| query);
            let query = query.split('#').next().unwrap_or_default();
            Params::parse(query.as_bytes())
        }
    };
    let config = Config::from_env(&env)?;
    let registry = Registry::load(&env)?;
    let issuer = issuer(&config, &origin_of(&req.inner().url()));
    let lang = Lang::from_preference(
        &req.headers()
            .get("Accept-Language")
            .ok()
            .flatten()
            .unwrap_or_default(),
    );
    let (request, client) = match check(&params, &registry.clients) {
        Ok(checked) => checked,
        Err(Refused::NoRedirect(why)) => return error_page(lang, why),
        Err(Refused::Redirect {
            redirect_uri,
            error,
            description,
            state,
        }) => {
            let mut answer = vec![
                ("error", error.as_str()),
                ("error_description", description),
            ];
            if let Some(state) = &state {
                answer.push(("state", state));
            }
            answer.push(("iss", &issuer));
            return redirect(&with_query(&redirect_uri, &answer));
        }
    };
    let now = now_ms / 1000;
    let handle = handle::mint(&registry.keys, &request, now)
        .ok_or_else(|| OAuthError::ServerError("no key to make a handle with".into()))?;
    let shows_nothing = request.prompt == Prompt::None;
    let data = AuthorizationData {
        handle,
        client_name: client.client_name.clone(),
        login_required_redirect: shows_nothing
            .then(|| refusal(&issuer, &request, OAuthErrorCode::LoginRequired)),
    };
    let app = (!shows_nothing).then(|| ForApp {
        request,
        client_name: client.client_name.clone(),
    });
    let mode = Mode::Authorization(Box::new(ForAuthorization { data, app }));
    Ok(page::serve(req, env, mode).await?)
}

/// `303 See Other`: the browser follows with a `GET`, whatever the request's method was.
fn redirect(location: &str) -> OAuthResult<Response> {
    Ok(Response::builder()
        .with_status(303)
        .with_header("Location", location)?
        .empty())
}

/// The page that says why the person cannot be sent back to the app.
fn error_page(lang: Lang, why: NoRedirect) -> OAuthResult<Response> {
    let explanation = match why {
        NoRedirect::UnknownClient => ErrorPageText::UnknownClient,
        NoRedirect::BadRedirectUri => ErrorPageText::BadRedirectUri,
    };
    let html = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><main><h1>{title}</h1><p>{}</p></main></body></html>",
        lang.code(),
        explanation.get(lang),
        title = ErrorPageText::Title.get(lang),
    );
    let response = Response::from_html(html)?.with_status(400);
    // Nothing on it runs, loads or may be framed.
    response.headers().set(
        "Content-Security-Policy",
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    )?;
    Ok(response)
}
