// The app's service worker, served at /sw.js (root scope, Cache-Control: no-cache) by app/views/service_worker.py,
// which writes in the release (VERSION) and the app shell (SHELL).
//
// Reading without signal: the shell (styles, scripts, icons, the offline and outbox pages) is kept at install;
// Today, the inbox, walk-in registration and the leads opened recently (with their forms) come from the network
// first and from the copy kept last time when there is none, marked "offline — as of HH:MM". Anything else
// without signal is the offline page (a page) or a short "not on the phone" message (a part of a page).
// Caches carry the release in their names; a new release deletes the old ones when it takes over, which happens
// when the user taps "Reload" (static/js/app.js), never in the middle of an entry.
//
// Writing without signal: a page's write marked for offline entry (Idempotency-Key and X-Offline-Entry headers,
// static/js/app.js) that cannot reach the server is kept in the outbox (static/js/outbox.js) and answered
// "queued"; while older entries wait, new ones queue behind them, so entries reach the server in order.
//
// Web Push: a push shows its notification at once (inside waitUntil, so the browser keeps the worker alive and
// never shows its own "site updated in the background"); a newer one for the same lead replaces the older (tag);
// a tap focuses the app's window on the lead, or opens it.
"use strict";

const VERSION = "__VERSION__";
const SHELL = ["__SHELL__"];
const SHELL_CACHE = `shell-${VERSION}`;
const PAGES_CACHE = `pages-${VERSION}`;
const KEPT_PAGES = 80;  // the newest pages and forms kept for reading offline
const SLOW = 4000;  // ms: a network this slow ("lie-fi" in a basement) gets the kept copy instead
// The pages kept for offline use: Today, the inbox, the outbox, walk-in registration, a lead and its forms.
const KEPT = /^\/(today|inbox|outbox|walk-ins\/new|leads\/\d+(\/contacts\/log|\/appointments)?)$/;
const HOME = "/today";  // what "/" (the app's start URL) shows without signal
const OFFLINE_PAGE = "/offline";

importScripts(SHELL.find((url) => url.endsWith("/outbox.js")));

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await Promise.all(SHELL.map(async (url) => {
      // "no-cache": asked again of the server, which answers 304 when the browser's copy (the page just loaded
      // it) is current; never a stale copy, and a phone on a weak signal does not download the shell twice.
      const response = await fetch(new Request(url, {cache: "no-cache", credentials: "same-origin"}));
      if (!response.ok || response.redirected) throw new Error(`cannot keep ${url}: ${response.status}`);
      await cache.put(url, response);
    }));
    // The first worker takes over at once; a new release waits until the user chooses to reload.
    if (!self.registration.active) await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const current = [SHELL_CACHE, PAGES_CACHE];
    await Promise.all((await caches.keys()).filter((name) => !current.includes(name)).map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  if (message.type === "activate") self.skipWaiting();
  // Signing out: the pages kept hold this user's customers. (The outbox stays: its entries are the user's,
  // sent when they sign in again, and never as anybody else.)
  if (message.type === "forget") event.waitUntil(caches.delete(PAGES_CACHE));
  if (message.type === "warm") event.waitUntil(warm(message.urls || []));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST") {
    if (request.headers.has("Idempotency-Key") && request.headers.has("X-Offline-Entry")
        && !request.headers.has("X-Outbox-Replay")) {
      event.respondWith(sendOrQueue(request));
    }
    return;
  }
  if (request.method !== "GET") return;
  if (SHELL.includes(url.pathname) && url.pathname.startsWith("/static/")) {
    event.respondWith(fromShell(request));
    return;
  }
  const asPage = request.mode === "navigate" || request.headers.get("HX-Request") === "true";
  if (!asPage) return;  // the scripts' own requests (the session, a subscription) go to the network
  const variant = isFragment(request) ? "fragment" : "page";
  if (KEPT.test(url.pathname)) {
    event.respondWith(networkFirst(request, keyFor(url, variant), variant));
  } else {
    event.respondWith(fetch(request).catch(() => (
      url.pathname === "/" ? keptOr(keyFor(new URL(HOME, url), "page"), "page") : unavailable(variant))));
  }
});

// Part of a page (htmx swapping a fragment) rather than a whole page: as wants_fragment() on the server.
function isFragment(request) {
  const headers = request.headers;
  return headers.get("HX-Request") === "true" && headers.get("HX-Boosted") !== "true"
    && headers.get("HX-History-Restore-Request") !== "true";
}

// A page and its htmx fragment share a URL but not their content: each has its own key.
function keyFor(url, variant) {
  const key = new URL(url);
  key.hash = "";
  if (variant === "fragment") key.searchParams.set("sw-fragment", "1");
  return key.href;
}

async function fromShell(request) {
  const kept = await caches.match(request, {cacheName: SHELL_CACHE, ignoreSearch: true});
  return kept || fetch(request);
}

async function networkFirst(request, key, variant) {
  const network = fetch(request).then(async (response) => {
    if (response.ok && response.type === "basic" && !response.redirected
        && (response.headers.get("Content-Type") || "").startsWith("text/html")) {
      await keep(key, response.clone());
    }
    return response;
  });
  network.catch(() => {});  // a kept copy may already have answered
  try {
    const first = await Promise.race([network, new Promise((resolve) => setTimeout(resolve, SLOW, null))]);
    if (first) return first;
    const kept = await fromKept(key, variant);
    return kept || await network;
  } catch (error) {
    return keptOr(key, variant);
  }
}

async function keptOr(key, variant) {
  return (await fromKept(key, variant)) || unavailable(variant);
}

// Keep a copy with the time it was fetched; the oldest go once there are more than KEPT_PAGES.
async function keep(key, response) {
  const headers = new Headers(response.headers);
  headers.set("X-Kept-At", new Date().toISOString());
  const copy = new Response(await response.blob(), {status: response.status, statusText: response.statusText, headers});
  const cache = await caches.open(PAGES_CACHE);
  await cache.delete(key);
  await cache.put(key, copy);
  const keys = await cache.keys();
  await Promise.all(keys.slice(0, Math.max(0, keys.length - KEPT_PAGES)).map((old) => cache.delete(old)));
}

// A kept copy, marked as such: a whole page shows "offline — as of HH:MM" (base.html's data-offline-note).
async function fromKept(key, variant) {
  const kept = await caches.match(key, {cacheName: PAGES_CACHE, ignoreVary: true})
    || await caches.match(key, {cacheName: SHELL_CACHE, ignoreVary: true});
  if (!kept) return null;
  const keptAt = kept.headers.get("X-Kept-At") || "";
  const headers = new Headers(kept.headers);
  headers.set("X-Offline-As-Of", keptAt);
  let body = await kept.text();
  if (variant === "page") body = body.replace("data-offline-note hidden", `data-offline-note data-as-of="${keptAt}"`);
  return new Response(body, {status: 200, headers});
}

// Without signal and without a copy: the offline page, or for a part of a page a message (no swap).
async function unavailable(variant) {
  if (variant === "page") {
    const page = await caches.match(OFFLINE_PAGE, {cacheName: SHELL_CACHE});
    if (page) return page;
  }
  return new Response("", {status: 503, headers: {
    "HX-Trigger": JSON.stringify({"offline-unavailable": {}}), "HX-Reswap": "none",
  }});
}

// A page asks to keep some pages while there is signal (the leads on Today, with their forms), so they can
// be opened and entered offline later. Copies younger than FRESH are left as they are.
const FRESH = 2 * 60 * 60 * 1000;

async function warm(list) {
  const cache = await caches.open(PAGES_CACHE);
  for (const {url, fragment} of list.slice(0, 40)) {
    const target = new URL(url, self.location.origin);
    if (target.origin !== self.location.origin || !KEPT.test(target.pathname)) continue;
    const key = keyFor(target, fragment ? "fragment" : "page");
    const kept = await cache.match(key, {ignoreVary: true});
    if (kept && Date.now() - Date.parse(kept.headers.get("X-Kept-At")) < FRESH) continue;
    const headers = fragment ? {"HX-Request": "true"} : {};
    try {
      const response = await fetch(target.href, {credentials: "same-origin", headers});
      if (response.ok && !response.redirected) await keep(key, response);
    } catch (error) {
      return;  // the signal went: the rest another time
    }
  }
}

// A write marked for offline entry: to the server if it can be reached and nothing older waits; else queued.
async function sendOrQueue(request) {
  const entry = await Outbox.entryFrom(request.clone());
  if ((await Outbox.counts(entry.user)).waiting) return queue(entry);
  try {
    return await fetch(request);
  } catch (error) {
    return queue(entry);
  }
}

async function queue(entry) {
  await Outbox.add(entry);
  return new Response("", {status: 202, headers: {
    "HX-Trigger": JSON.stringify({"entry-queued": {lead: entry.lead}}), "HX-Reswap": "none",
  }});
}

// Background Sync, where the browser has it (Chromium): the waiting entries go once the signal is back, even
// with the app closed. A failed attempt is retried by the browser later; pages also send on load and online.
self.addEventListener("sync", (event) => {
  if (event.tag !== "outbox") return;
  event.waitUntil(Outbox.sync().then((result) => {
    if (result.state === "offline" || result.state === "retry") throw new Error(`outbox not sent: ${result.state}`);
  }));
});

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = {body: event.data ? event.data.text() : ""};
  }
  const options = {
    body: message.body || "",
    tag: message.tag || undefined,
    renotify: Boolean(message.tag),
    icon: "/static/icons/icon.svg",
    data: {url: sameSiteUrl(message.url)},
  };
  event.waitUntil(self.registration.showNotification(message.title || "Dealer Leads", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = sameSiteUrl(event.notification.data && event.notification.data.url);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({type: "window", includeUncontrolled: true});
    const open = windows.find((client) => client.url === url) || windows[0];
    if (open) {
      await open.focus();
      return open.url === url ? open : open.navigate(url);
    }
    return self.clients.openWindow(url);
  })());
});

// Only a page of this app: a push names a path; anything else opens the app's home.
function sameSiteUrl(path) {
  try {
    const url = new URL(path || "/", self.location.origin);
    return url.origin === self.location.origin ? url.href : self.location.origin + "/";
  } catch (error) {
    return self.location.origin + "/";
  }
}
