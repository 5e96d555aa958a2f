"""The person's side of a sign-in, for the Python tests (as tests/oidc/flow.mjs is for
Node's): a phone signed in to qrgate, and a PC that shows an app's authorization page, all through
qrgate's own API as the pages would (shared/API.md). Used by tests/oidc/test_authlib.py and
tests/cli/test_cli.py."""

import json
import os
import re
import secrets
import uuid

import requests

BASE = os.environ.get("QRGATE_URL")
if not BASE:
    raise RuntimeError("set QRGATE_URL (the edge's base URL), as scripts/test.sh does")
PASSWORD = "correct horse battery"


def device(device_type):
    """A device: its headers, from an address of its own (the limits count per address)."""
    a, b, c = secrets.token_bytes(3)
    return {
        "X-Device-Id": str(uuid.uuid4()),
        "X-Device-Type": device_type,
        "CF-Connecting-IP": f"10.{a}.{b}.{c}",
    }


def api(method, path, headers, body=None):
    response = requests.request(method, BASE + path, headers=headers, json=body, timeout=30)
    return response.status_code, (response.json() if response.text else None)


def signed_in_phone():
    """A new account, and a phone signed in to it."""
    phone = device("ios")
    username = f"oidc-{secrets.token_hex(6)}"
    account = {"username": username, "password": PASSWORD, "display_name": f"Ann {username}"}
    status, body = api("POST", "/api/accounts", phone, account)
    assert status == 201, body
    status, body = api("POST", "/api/sessions", phone, {"username": username, "password": PASSWORD})
    assert status == 201, body
    return {"headers": {**phone, "Authorization": f"Bearer {body['token']}"}, "account": body["account"]}


def authorization_page(url):
    """The authorization data block of the PC page served for `url` (no browser: no first code)."""
    response = requests.get(url, allow_redirects=False, timeout=30)
    assert response.status_code == 200, f"the authorization page for {url}: {response.status_code}"
    match = re.search(
        r'<script type="application/json" id="qrgate-authorization">(.*?)</script>', response.text, re.S
    )
    assert match, "the page carries its authorization data block"
    return json.loads(match.group(1))


def decide(qr_id, phone, step="confirm"):
    """The phone scans the QR session `qr_id` and confirms (or denies): what it was shown."""
    status, scanned = api("POST", f"/api/qr/{qr_id}/scan", phone["headers"])
    assert status == 200, scanned
    status, body = api("POST", f"/api/qr/{qr_id}/{step}", phone["headers"], {"scan_token": scanned["scan_token"]})
    assert status == 204, body
    return scanned


def approve(authorization_url, phone, deny=False):
    """The PC opens `authorization_url`, makes a code for it, the phone scans it and confirms
    (or, with `deny`, denies); the PC's next poll hands over the redirect back to the client.
    Answers that redirect and what the phone was shown."""
    page = authorization_page(authorization_url)
    pc = device("pc")
    status, qr = api("POST", "/api/qr", pc, {"authorization": page["handle"], "device_name": "Chromium on Linux"})
    assert status == 201, qr
    scanned = decide(qr["qr_id"], phone, "deny" if deny else "confirm")
    assert scanned["client"]["client_name"] == page["client_name"], "the phone is told which app"
    status, polled = api("GET", f"/api/qr/{qr['qr_id']}", {**pc, "Authorization": f"Bearer {qr['poll_secret']}"})
    assert status == 200, polled
    assert "session" not in polled, "the PC is not signed in to qrgate by an authorization"
    assert polled.get("authorization", {}).get("redirect_to"), polled
    return polled["authorization"]["redirect_to"], scanned


# --- The app's side: authlib ------------------------------------------------------------------


