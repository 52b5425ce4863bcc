// The app's service worker, served at /sw.js (root scope, Cache-Control: no-cache).
// Fetch: pages and files come from the network (see below).
// Web Push: a push shows its notification at once (inside waitUntil, so the browser keeps the worker alive and
// never shows its own "site updated in the background"); a newer one for the same lead replaces the older (tag);
// a tap focuses the app's window on the lead, or opens it.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// Requests for this app's pages and files go through here (Chrome also wants a fetch handler before it offers to
// install the app). For now the network answers everything; the offline step makes fromNetwork network-first with
// a cache fallback. Writes and other sites' requests are left to the browser.
self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(fromNetwork(request));
});

function fromNetwork(request) {
  return fetch(request);
}

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
