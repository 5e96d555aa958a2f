// Debian's Chromium, headless, as every browser test and benchmark here launches it: as root it
// needs --no-sandbox, and without the network flags it tries hosts this machine cannot reach.
import { chromium } from "playwright-core";

const CHROMIUM_ARGS = [
  "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-dev-shm-usage",
];

/**
 * With `backForwardCache`, pages left are kept and restored on Back as Chromium does for people;
 * Playwright turns that cache off by default.
 */
export function launch({ backForwardCache = false } = {}) {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    ignoreDefaultArgs: backForwardCache ? ["--disable-back-forward-cache"] : [],
  });
}

/**
 * The PC page's code as the page's own code draws it. Before that code has run, the page shows
 * the code the edge drew into its HTML (edge/README.md, "The first code, served with the page"),
 * inside `#qrgate-first-view`, whose buttons are hidden until then: a test that acts on the page
 * waits for this one.
 */
export const PAGE_DRAWN_CODE = "body > main .qr-image svg";
