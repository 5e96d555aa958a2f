"""The `qrgate` CLI as a person uses it: run in a terminal of its own (a pseudo-terminal), its
output drawn on a VT100 screen (pyte) as the person sees it. The QR is read off that screen,
drawn as an image and decoded by zbarimg; the phone (qrgate's API, as in
tests/oidc/test_authlib.py) scans and confirms; the CLI prints the account. Then `whoami`,
a refresh, `logout`; a denial, an expiry, Ctrl-C while waiting, the typed user code, `--json`,
and command-line mistakes.

QRGATE_URL (the issuer) and QRGATE_OIDC_DIR must be set, as scripts/test.sh sets them, and
target/debug/qrgate built (`cargo build -p qrgate-cli`):

    QRGATE_URL=http://127.0.0.1:8787 QRGATE_OIDC_DIR=/tmp/oidc-test \\
        .venv/bin/python -m pytest -q tests/cli
"""

import fcntl
import json
import os
import re
import shutil
import stat
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pyte
import pytest
import requests

# The phone's side, as the authlib test plays it (tests/oidc/person.py); it reads QRGATE_URL.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "oidc"))
from person import BASE, api, decide, signed_in_phone  # noqa: E402

BINARY = Path(__file__).resolve().parents[2] / "target" / "debug" / "qrgate"
# Wide enough that no line of the CLI wraps: a wrapped line would count as two.
COLUMNS, ROWS = 200, 60
USER_CODE = re.compile(r"Or open (\S+) on the phone and enter the code ([A-Z]{4}-[A-Z]{4})")
# A QR module drawn as this many pixels square: zbarimg reads it easily.
PIXELS = 4

if not BINARY.exists():
    pytest.fail(f"{BINARY} is missing: run `cargo build -p qrgate-cli`", pytrace=False)
if not shutil.which("zbarimg"):
    pytest.fail("zbarimg is missing: run `bash scripts/setup.sh --tests`", pytrace=False)


# Every terminal opened, so that one a failing test left waiting is closed with the test.
OPENED = []


class Terminal:
    """One run of `qrgate` in a terminal: a pseudo-terminal that is its controlling terminal, so
    that Ctrl-C reaches it as the kernel sends it, with everything it writes drawn on a screen
    by a reader thread (as a terminal reads whether or not anyone looks). `pipe_stdout`:
    standard output goes to a pipe instead, as in `qrgate login --json | jq`."""

    def __init__(self, config, *args, pipe_stdout=False):
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.lock = threading.Lock()
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.process = subprocess.Popen(
            [BINARY, *args],
            stdin=slave,
            stdout=subprocess.PIPE if pipe_stdout else slave,
            stderr=slave,
            env={
                "PATH": os.environ["PATH"],
                "HOME": str(config.parent),
                "XDG_CONFIG_HOME": str(config),
                "TERM": "xterm-256color",
                "LANG": "C.UTF-8",
            },
            start_new_session=True,
            # Runs after the child's setsid: the terminal becomes its session's controlling one.
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
        )
        os.close(slave)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        OPENED.append(self)

    def _read(self):
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO: the last holder of the terminal closed it
                break
            if not chunk:
                break
            with self.lock:
                self.raw += chunk
                self.stream.feed(chunk)

    def text(self):
        with self.lock:
            return "\n".join(line.rstrip() for line in self.screen.display).strip("\n")

    def wait_for(self, text, timeout=20):
        """Waits until `text` is on the screen."""
        deadline = time.monotonic() + timeout
        while text not in self.text():
            assert self.process.poll() is None, f"qrgate ended before {text!r}:\n{self.text()}"
            assert time.monotonic() < deadline, f"no {text!r} on the screen:\n{self.text()}"
            time.sleep(0.05)

    def ctrl_c(self):
        os.write(self.master, b"\x03")

    def finish(self, timeout=30):
        """Waits for the exit: its status and what went to a piped standard output."""
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.close()
            pytest.fail(f"qrgate still running after {timeout} s:\n{self.text()}")
        self.close()
        stdout = self.process.stdout.read().decode() if self.process.stdout else ""
        return status, stdout

    def close(self):
        """Ends the run if it still goes on, and the terminal with it."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.master is not None:
            self.reader.join(5)
            os.close(self.master)
            self.master = None

    def qr_modules(self):
        """The QR as the screen shows it: the black-on-white block, each cell two modules (its
        upper and lower half). Answers rows of modules, True for dark."""
        with self.lock:
            buffer = self.screen.buffer
            cells = [
                [buffer[y][x] for x in range(COLUMNS) if buffer[y][x].bg == "white"] for y in range(ROWS)
            ]
        rows = [row for row in cells if row]
        assert rows, f"no black-on-white QR on the screen:\n{self.text()}"
        assert len({len(row) for row in rows}) == 1, "the QR is a rectangle"
        modules = []
        for row in rows:
            assert all(cell.data in " ▀▄█" for cell in row), "half blocks only"
            assert all(cell.fg == "black" for cell in row if cell.data != " "), "black ink"
            modules.append([cell.data in "▀█" for cell in row])
            modules.append([cell.data in "▄█" for cell in row])
        return modules


def decode(modules, folder):
    """The text zbarimg reads from `modules` drawn as a greyscale image (binary PGM)."""
    width, height = len(modules[0]) * PIXELS, len(modules) * PIXELS
    pixels = bytearray()
    for row in modules:
        line = b"".join((b"\x00" if dark else b"\xff") * PIXELS for dark in row)
        pixels += line * PIXELS
    image = folder / "qr.pgm"
    image.write_bytes(f"P5 {width} {height} 255\n".encode() + pixels)
    read = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True, text=True, timeout=60)
    assert read.returncode == 0, f"zbarimg read no code: {read.stderr}"
    return read.stdout.strip()


def run(config, *args, pipe_stdout=False):
    """A command that needs no one: its status, the screen and a piped standard output."""
    terminal = Terminal(config, *args, pipe_stdout=pipe_stdout)
    status, stdout = terminal.finish()
    return status, terminal.text(), stdout, bytes(terminal.raw)


def one_error_line(screen):
    """The screen holds one line, the CLI's error, and nothing of a panic or a backtrace."""
    lines = [line for line in screen.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("qrgate: "), screen
    assert not re.search(r"panicked|internal error|backtrace|Traceback", screen, re.I), screen
    return lines[0]


def start_login(config, *flags, pipe_stdout=False):
    """`qrgate login` in a terminal, waiting for its QR: the terminal and the code shown."""
    terminal = Terminal(config, "login", "--issuer", BASE, *flags, pipe_stdout=pipe_stdout)
    terminal.wait_for("Waiting for you to confirm on your phone")
    shown = USER_CODE.search(terminal.text())
    assert shown, terminal.text()
    verification_uri, user_code = shown.groups()
    assert verification_uri == f"{BASE}/m/device"
    assert re.fullmatch(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}", user_code)
    return terminal, user_code


def below_the_code(terminal):
    """What the screen shows below the line with the user code: where the spinner turned."""
    return terminal.text().split("enter the code", 1)[1].split("\n", 1)[1]


def account_json(account):
    """What `--json` prints for `account` (as the phone's API answered it)."""
    return {
        "issuer": BASE,
        "sub": account["account_id"],
        "name": account["display_name"],
        "preferred_username": account["username"],
    }


def credentials_file(config):
    return config / "qrgate" / "credentials.json"


def userinfo_status(access_token):
    answer = requests.get(f"{BASE}/oauth/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=30)
    return answer.status_code


@pytest.fixture(autouse=True)
def close_terminals():
    yield
    while OPENED:
        OPENED.pop().close()


@pytest.fixture(scope="module")
def phone():
    return signed_in_phone()


@pytest.fixture
def config(tmp_path):
    """A fresh XDG_CONFIG_HOME (its parent is HOME)."""
    return tmp_path / "config"


def test_scan_confirm_whoami_refresh_logout(config, tmp_path, phone):
    account = phone["account"]
    signed_in_line = f"Signed in as {account['display_name']} ({account['username']}) at {BASE}"
    outputs = []

    terminal, user_code = start_login(config)
    url = decode(terminal.qr_modules(), tmp_path)
    assert re.fullmatch(re.escape(BASE) + r"/m/qr/[0-9a-f]{64}", url), url
    qr_id = url.rsplit("/", 1)[-1]

    # The phone scans: the CLI hears it on the live channel; the phone shows the same code.
    status, scanned = api("POST", f"/api/qr/{qr_id}/scan", phone["headers"])
    assert status == 200, scanned
    assert scanned["user_code"] == user_code
    assert scanned["pc"]["device_name"] == "qrgate CLI"
    terminal.wait_for("Scanned: confirm on your phone")
    status, body = api("POST", f"/api/qr/{qr_id}/confirm", phone["headers"], {"scan_token": scanned["scan_token"]})
    assert status == 204, body

    status, _ = terminal.finish()
    screen = terminal.text()
    outputs.append(bytes(terminal.raw))
    assert status == 0, screen
    assert screen.splitlines()[-1] == signed_in_line
    assert "Waiting" not in screen and "Scanned" not in screen, "the spinner's line is cleared"

    path = credentials_file(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    kept = json.loads(path.read_text())
    assert (kept["issuer"], kept["client_id"]) == (BASE, "qrgate-cli")
    tokens = {kept["access_token"], kept["refresh_token"]}
    assert userinfo_status(kept["access_token"]) == 200

    status, screen, _, raw = run(config, "whoami")
    outputs.append(raw)
    assert (status, screen) == (0, signed_in_line)
    status, screen, stdout, raw = run(config, "whoami", "--json", pipe_stdout=True)
    outputs.append(raw + stdout.encode())
    assert (status, screen) == (0, ""), screen
    assert json.loads(stdout) == account_json(account)

    # An expired access token: whoami refreshes it, and keeps the rotated refresh token.
    path.write_text(json.dumps({**kept, "access_token_expires_at": 0}))
    status, screen, _, raw = run(config, "whoami")
    outputs.append(raw)
    assert (status, screen) == (0, signed_in_line)
    refreshed = json.loads(path.read_text())
    assert refreshed["refresh_token"] != kept["refresh_token"], "rotated and kept"
    assert refreshed["access_token"] != kept["access_token"]
    assert refreshed["access_token_expires_at"] > time.time()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens |= {refreshed["access_token"], refreshed["refresh_token"]}

    status, screen, _, raw = run(config, "logout")
    outputs.append(raw)
    assert (status, screen) == (0, f"Signed out of {BASE}")
    assert not path.exists()
    assert userinfo_status(refreshed["access_token"]) == 401, "revoked at the issuer"

    status, screen, _, raw = run(config, "whoami")
    outputs.append(raw)
    assert status == 1
    assert one_error_line(screen).startswith("qrgate: not signed in")

    for output in outputs:
        for token in tokens:
            assert token.encode() not in output, "a token was printed"


def test_deny_on_the_phone(config, tmp_path, phone):
    terminal, _ = start_login(config)
    qr_id = decode(terminal.qr_modules(), tmp_path).rsplit("/", 1)[-1]
    decide(qr_id, phone, "deny")
    status, _ = terminal.finish()
    assert status == 1, terminal.text()
    assert one_error_line(below_the_code(terminal)) == "qrgate: the sign-in was denied on the phone"
    assert not credentials_file(config).exists()


def test_code_expires_unconfirmed(config):
    # Location A's device codes live 30 s (scripts/test.sh); the CLI gives up when they end.
    terminal, _ = start_login(config)
    status, _ = terminal.finish(timeout=90)
    assert status == 1, terminal.text()
    assert one_error_line(below_the_code(terminal)).startswith("qrgate: the code expired")
    assert not credentials_file(config).exists()


def test_ctrl_c_while_waiting(config):
    terminal, _ = start_login(config)
    pressed = time.monotonic()
    terminal.ctrl_c()
    status, _ = terminal.finish(timeout=10)
    assert time.monotonic() - pressed < 2, "Ctrl-C ends the wait at once"
    assert status == 130, terminal.text()
    # The terminal's echo of ^C may stand before it.
    assert terminal.text().splitlines()[-1].endswith("qrgate: cancelled"), terminal.text()
    assert not credentials_file(config).exists()
    # Nothing left running: the session's process group is empty.
    with pytest.raises(ProcessLookupError):
        os.killpg(terminal.process.pid, 0)


def test_typed_user_code_and_json(config, phone):
    # Standard output piped, as into jq; the terminal still shows the code.
    terminal, user_code = start_login(config, "--json", pipe_stdout=True)
    status, found = api("POST", "/api/user-codes", phone["headers"], {"user_code": user_code})
    assert status == 200, found
    assert found["qr_url"] == f"{BASE}/m/qr/{found['qr_id']}"
    assert decide(found["qr_id"], phone)["user_code"] == user_code
    status, stdout = terminal.finish()
    assert status == 0, terminal.text()
    assert "Signed in" not in terminal.text(), "the answer goes to standard output only"
    assert json.loads(stdout) == account_json(phone["account"])
    assert stdout.count("\n") == 1, "one JSON document on one line"
    kept = json.loads(credentials_file(config).read_text())
    for token in (kept["access_token"], kept["refresh_token"]):
        assert token not in stdout and token.encode() not in terminal.raw, "a token was printed"


@pytest.mark.parametrize(
    "args",
    [["frobnicate"], ["login"], ["login", "--issuer"], ["whoami", "--issuer", "http://x"], ["logout", "--json"]],
)
def test_command_line_mistakes(config, args):
    status, screen, _, _ = run(config, *args)
    assert status == 2
    assert one_error_line(screen).endswith("(see `qrgate help`)")
