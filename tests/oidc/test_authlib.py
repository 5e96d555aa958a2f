"""qrgate as an OpenID Provider, proved by a client none of us wrote: Python's authlib (its
requests OAuth2Session, and joserfc, the JOSE library authlib 1.9 itself validates ID tokens
with) against a real `wrangler dev`. Discovery, the code flow with PKCE, state and nonce, the ID
token checked against the JWKS with authlib's own OpenID claims class, userinfo, refresh with
rotation and reuse detection, revocation; for a confidential client (Basic and post), a public
one and an RS256 one; and a denial. Then the device grant (RFC 8628) for the public qrgate-cli:
authlib has no device flow of its own, so the device authorization is a plain POST with authlib's
client authentication and the polls are its fetch_token with the device-code grant, slowed down
as RFC 8628 §3.5 asks. The phone scans and confirms through qrgate's API (tests/oidc/person.py).

QRGATE_URL (the base URL, which is the issuer) and QRGATE_OIDC_DIR (the run's clients'
secrets, tests/oidc/config.mjs) must be set, as scripts/test.sh sets them:

    QRGATE_URL=http://127.0.0.1:8787 QRGATE_OIDC_DIR=/tmp/oidc-test \\
        .venv/bin/python -m pytest -q tests/oidc/test_authlib.py
"""

import json
import os
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from person import approve, decide, signed_in_phone

BASE = os.environ.get("QRGATE_URL")
OIDC_DIR = os.environ.get("QRGATE_OIDC_DIR")
if not BASE or not OIDC_DIR:
    pytest.fail(
        "set QRGATE_URL (the issuer) and QRGATE_OIDC_DIR (the folder with secrets.json), "
        "as scripts/test.sh does",
        pytrace=False,
    )
SECRETS = json.loads((Path(OIDC_DIR) / "secrets.json").read_text())
REDIRECT_URI = "https://client.example/cb"
PUBLIC_REDIRECT_URI = "http://localhost/spa"


@pytest.fixture(scope="module")
def metadata():
    response = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def jwks(metadata):
    response = requests.get(metadata["jwks_uri"], timeout=30)
    assert response.status_code == 200, response.text
    return KeySet.import_key_set(response.json())


@pytest.fixture(scope="module")
def phone():
    return signed_in_phone()


def oauth_session(metadata, client_id, auth_method, scope="openid profile", redirect_uri=REDIRECT_URI):
    """authlib's client as an app configures it from discovery; PKCE with S256."""
    return OAuth2Session(
        client_id=client_id,
        client_secret=SECRETS.get(client_id),
        token_endpoint_auth_method=auth_method,
        revocation_endpoint_auth_method=auth_method,
        scope=scope,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        default_timeout=30,
    )


def sign_in(session, metadata, phone):
    """The code flow as an app runs it: the authorization URL, the person's approval on the
    phone, and the code exchanged at the redirect. Answers the token, the nonce sent and what
    the phone was shown."""
    verifier = generate_token(64)
    state = generate_token(32)
    nonce = generate_token(32)
    url, _ = session.create_authorization_url(
        metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
    )
    assert "code_challenge_method=S256" in url
    redirect_to, shown = approve(url, phone)
    parts = urlsplit(redirect_to)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == session.redirect_uri
    # RFC 9207: authlib does not check the response's iss, so the app (this test) does.
    assert parse_qs(parts.query)["iss"] == [BASE], "RFC 9207's iss"
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=redirect_to, state=state, code_verifier=verifier
    )
    return token, nonce, shown


def id_token_claims(token, jwks, client_id, nonce=None, alg="ES256"):
    """The ID token verified against the JWKS (only `alg` accepted) and validated as authlib's
    own OpenID client does: its CodeIDToken claims, iss, aud, exp and nonce as claims options."""
    decoded = jwt.decode(token["id_token"], jwks, registry=JWSRegistry(algorithms=[alg]))
    assert decoded.header["alg"] == alg
    assert decoded.header.get("kid"), "the ID token names its key"
    options = {
        "iss": {"essential": True, "value": BASE},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
    }
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    params = {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]}
    claims = CodeIDToken(decoded.claims, decoded.header, options, params)
    claims.validate()
    return claims


def assert_userinfo_is(session, metadata, account):
    """userinfo, asked with the session's access token, answers exactly `account`'s id and names."""
    userinfo = session.get(metadata["userinfo_endpoint"])
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json() == {
        "sub": account["account_id"],
        "name": account["display_name"],
        "preferred_username": account["username"],
    }


def refresh_error(session, metadata, refresh_token):
    """The `error` a refresh with `refresh_token` is refused with."""
    with pytest.raises(OAuthError) as refused:
        session.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token)
    return refused.value.error


def test_discovery(metadata):
    assert metadata["issuer"] == BASE, "the issuer, byte for byte"
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert metadata["authorization_response_iss_parameter_supported"] is True


def test_confidential_basic_code_userinfo_refresh_rotation(metadata, jwks, phone):
    session = oauth_session(metadata, "test-confidential", "client_secret_basic")
    token, nonce, shown = sign_in(session, metadata, phone)
    assert shown["client"] == {
        "client_id": "test-confidential",
        "client_name": "Test app",
        "redirect_origin": "https://client.example",
    }
    assert shown["scope"] == ["openid", "profile"]
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] == 300
    assert token["refresh_token"]

    account = phone["account"]
    claims = id_token_claims(token, jwks, "test-confidential", nonce)
    assert claims["sub"] == account["account_id"], "signed in as exactly the confirming account"
    assert claims["amr"] == ["mca"]
    assert claims["name"] == account["display_name"]
    assert claims["preferred_username"] == account["username"]
    assert abs(claims["auth_time"] - time.time()) < 60, "auth_time is the confirmation"

    # The access token is an RFC 9068 JWT the app's own APIs can verify with the JWKS alone.
    access = jwt.decode(token["access_token"], jwks, registry=JWSRegistry(algorithms=["ES256"]))
    assert access.header["typ"] == "at+jwt"
    assert (access.claims["sub"], access.claims["aud"], access.claims["client_id"]) == (
        account["account_id"],
        "test-confidential",
        "test-confidential",
    )

    assert_userinfo_is(session, metadata, account)

    first_refresh_token = token["refresh_token"]
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=first_refresh_token)
    assert refreshed["refresh_token"] != first_refresh_token, "rotated"
    refreshed_claims = id_token_claims(refreshed, jwks, "test-confidential")
    assert refreshed_claims["sub"] == account["account_id"]
    assert "nonce" not in refreshed_claims, "a refreshed ID token carries no nonce"
    assert session.get(metadata["userinfo_endpoint"]).status_code == 200

    # The rotated-away token presented again: refused, and the whole grant revoked.
    assert refresh_error(session, metadata, first_refresh_token) == "invalid_grant"
    assert refresh_error(session, metadata, refreshed["refresh_token"]) == "invalid_grant"
    userinfo = session.get(metadata["userinfo_endpoint"])
    assert userinfo.status_code == 401, "the refreshed access token went with its grant"


def test_confidential_post_then_revocation(metadata, jwks, phone):
    session = oauth_session(metadata, "test-confidential", "client_secret_post")
    token, nonce, _ = sign_in(session, metadata, phone)
    assert id_token_claims(token, jwks, "test-confidential", nonce)["sub"] == phone["account"]["account_id"]

    revoked = session.revoke_token(
        metadata["revocation_endpoint"], token=token["refresh_token"], token_type_hint="refresh_token"
    )
    assert revoked.status_code == 200, revoked.text
    assert refresh_error(session, metadata, token["refresh_token"]) == "invalid_grant"
    # session.token still holds the access token: userinfo now refuses it.
    userinfo = session.get(metadata["userinfo_endpoint"])
    assert userinfo.status_code == 401, userinfo.text
    assert 'error="invalid_token"' in userinfo.headers.get("WWW-Authenticate", "")
    # Revoking again, or revoking nonsense: 200 all the same (RFC 7009).
    again = session.revoke_token(metadata["revocation_endpoint"], token=token["refresh_token"])
    assert again.status_code == 200, again.text
    assert session.revoke_token(metadata["revocation_endpoint"], token="not-a-token").status_code == 200


def test_public_client_with_pkce(metadata, jwks, phone):
    session = oauth_session(metadata, "test-public", "none", redirect_uri=PUBLIC_REDIRECT_URI)
    assert session.client_secret is None
    token, nonce, shown = sign_in(session, metadata, phone)
    assert shown["client"]["redirect_origin"] == "http://localhost"
    assert token["access_token"] and token["refresh_token"]
    assert id_token_claims(token, jwks, "test-public", nonce)["sub"] == phone["account"]["account_id"]
    userinfo = session.get(metadata["userinfo_endpoint"])
    assert userinfo.status_code == 200, userinfo.text
    assert userinfo.json()["sub"] == phone["account"]["account_id"]


def test_rs256_client(metadata, jwks, phone):
    session = oauth_session(metadata, "test-rs256", "client_secret_basic")
    token, nonce, _ = sign_in(session, metadata, phone)
    claims = id_token_claims(token, jwks, "test-rs256", nonce, alg="RS256")
    assert claims.header["alg"] == "RS256"
    assert claims["sub"] == phone["account"]["account_id"]


def test_deny_on_the_phone(metadata, phone):
    session = oauth_session(metadata, "test-confidential", "client_secret_basic", scope="openid")
    state = generate_token(32)
    url, _ = session.create_authorization_url(
        metadata["authorization_endpoint"], state=state, code_verifier=generate_token(64)
    )
    redirect_to, _ = approve(url, phone, deny=True)
    parts = urlsplit(redirect_to)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    # authlib's fetch_token does not read an error response (without a code it would fall back
    # to another grant), so the app reads error and state itself, as this does.
    query = parse_qs(parts.query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == [state]
    assert query["iss"] == [BASE]
    assert "code" not in query


# --- Devices without a browser (RFC 8628): qrgate-cli, a public client ----------------------------

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def device_authorization(session, metadata):
    """The device authorization request (RFC 8628 §3.1), authenticated as authlib authenticates
    the client at the token endpoint (for a public client: its client_id in the form)."""
    response = session.post(
        metadata["device_authorization_endpoint"],
        data={"scope": session.scope},
        auth=session.client_auth(session.token_endpoint_auth_method),
    )
    assert response.status_code == 200, response.text
    authorization = response.json()
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", authorization["user_code"])
    assert authorization["interval"] == 5
    return authorization


def device_qr_id(authorization):
    """The device's QR session: the last path segment of the URI it shows as a QR."""
    return urlsplit(authorization["verification_uri_complete"]).path.rsplit("/", 1)[-1]


def poll(session, metadata, authorization):
    """One token request with the device code; authlib raises an error answer as OAuthError."""
    return session.fetch_token(
        metadata["token_endpoint"], grant_type=DEVICE_CODE_GRANT, device_code=authorization["device_code"]
    )


def poll_until_decided(session, metadata, authorization, after_first_poll, interval=None):
    """The device's polls (RFC 8628 §3.5): `interval` seconds apart, 5 s more after each
    slow_down, until an answer that is neither that nor authorization_pending.
    `after_first_poll` runs once the first of them is answered: the person deciding on the phone
    while the device waits. Answers the token, the errors seen on the way and what
    `after_first_poll` answered."""
    interval = interval or authorization["interval"]
    seen, decided = [], None
    while True:
        time.sleep(interval)
        try:
            return poll(session, metadata, authorization), seen, decided
        except OAuthError as error:
            if error.error not in ("authorization_pending", "slow_down"):
                raise
            if error.error == "slow_down":
                interval += 5
            if not seen:
                decided = after_first_poll()
            seen.append(error.error)


def test_device_grant_qr_scanned_and_confirmed(metadata, jwks, phone):
    session = oauth_session(metadata, "qrgate-cli", "none")
    authorization = device_authorization(session, metadata)
    qr_id = device_qr_id(authorization)
    assert authorization["verification_uri_complete"] == f"{BASE}/m/qr/{qr_id}"
    token, seen, shown = poll_until_decided(session, metadata, authorization, lambda: decide(qr_id, phone))
    assert seen == ["authorization_pending"]
    # The phone was told what asks, and the code to check against the device's screen.
    assert shown["pc"]["device_type"] == "device"
    assert shown["pc"]["device_name"] == "qrgate CLI"
    assert shown["user_code"] == authorization["user_code"]
    assert shown["scope"] == ["openid", "profile"]

    assert token["token_type"].lower() == "bearer"
    assert token["scope"] == "openid profile"
    assert token["refresh_token"]
    account = phone["account"]
    claims = id_token_claims(token, jwks, "qrgate-cli")
    assert claims["sub"] == account["account_id"], "signed in as exactly the confirming account"
    assert claims["preferred_username"] == account["username"]
    assert_userinfo_is(session, metadata, account)


def test_device_grant_denied_on_the_phone(metadata, phone):
    session = oauth_session(metadata, "qrgate-cli", "none")
    authorization = device_authorization(session, metadata)
    with pytest.raises(OAuthError) as denied:
        poll_until_decided(
            session, metadata, authorization, lambda: decide(device_qr_id(authorization), phone, "deny")
        )
    assert denied.value.error == "access_denied"


def test_device_grant_polled_too_soon_slows_down(metadata, phone):
    session = oauth_session(metadata, "qrgate-cli", "none")
    authorization = device_authorization(session, metadata)
    # Two polls back to back: the first is never too soon, the second is.
    errors = []
    for _ in range(2):
        with pytest.raises(OAuthError) as refused:
            poll(session, metadata, authorization)
        errors.append(refused.value.error)
    assert errors == ["authorization_pending", "slow_down"]
    # Polling 5 s less often from then on (10 s), the device is answered again, and signed in.
    token, seen, _ = poll_until_decided(
        session,
        metadata,
        authorization,
        lambda: decide(device_qr_id(authorization), phone),
        interval=authorization["interval"] + 5,
    )
    assert seen == ["authorization_pending"]
    assert token["access_token"]
