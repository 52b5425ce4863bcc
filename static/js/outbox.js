// The outbox: entries made without signal (a walk-in, a logged contact, a next follow-up, an appointment, a note),
// kept in IndexedDB until the server has them. Loaded by every page (static/js/app.js shows it) and by the service
// worker (which fills it when a write cannot reach the server, and replays it on the `sync` event).
//
// Each entry is the form's fields as sent, with the UUID the page made for it: the replay sends it as
// Idempotency-Key, so however often an entry is sent (a lost answer, a second tab, a retry) the server applies it
// once and answers every replay with its first answer (app/views/idempotency.py). An entry leaves the outbox only
// when the server answered 2xx; a refusal (4xx) moves it to "needs attention", where the consultant fixes and
// resends it or discards it. Nothing is ever dropped silently.
(function (scope) {
  "use strict";

  const DATABASE = "dealer-leads-outbox";
  const STORE = "entries";
  const LOCK = "dealer-leads-outbox-sync";
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(DATABASE) : null;

  // Which kind of entry a write is, from where it goes (the outbox page names the kinds).
  const KINDS = [
    [/^\/walk-ins\/new$/, "walk_in"],
    [/^\/leads\/\d+\/contacts\/log$/, "contact"],
    [/^\/contacts\/\d+$/, "contact"],
    [/^\/leads\/\d+\/next-follow-up$/, "follow_up"],
    [/^\/leads\/\d+\/appointments$/, "booking"],
    [/^\/leads\/\d+\/notes$/, "note"],
  ];

  let opening = null;

  function open() {
    if (!opening) {
      opening = new Promise((resolve, reject) => {
        const request = indexedDB.open(DATABASE, 1);
        request.onupgradeneeded = () => {
          const store = request.result.createObjectStore(STORE, {keyPath: "seq", autoIncrement: true});
          store.createIndex("key", "key", {unique: true});
        };
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  // One transaction on the store; resolves with the request's result once the transaction has committed.
  async function withStore(mode, work) {
    const database = await open();
    return new Promise((resolve, reject) => {
      const transaction = database.transaction(STORE, mode);
      const request = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request ? request.result : undefined);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  function announce(message) {
    if (channel) channel.postMessage(message);
  }

  function kindOf(url) {
    const path = new URL(url, scope.location.origin).pathname;
    const found = KINDS.find(([pattern]) => pattern.test(path));
    return found ? found[1] : "entry";
  }

  // The entry a page's write stands for: its form fields and key, and what the page said about it
  // (X-Offline-Entry: who entered it, the lead, a title for the list).
  async function entryFrom(request) {
    const about = JSON.parse(decodeURIComponent(request.headers.get("X-Offline-Entry") || "%7B%7D"));
    return {
      key: request.headers.get("Idempotency-Key"),
      user: String(about.user || ""),
      url: request.url,
      body: await request.text(),
      kind: kindOf(request.url),
      title: about.title || "",
      lead: about.lead || null,
      made: new Date().toISOString(),
      state: "waiting",
      problem: null,
    };
  }

  // Keep an entry. The same key twice (a double tap, a page that sent again) is kept once.
  async function add(entry) {
    try {
      await withStore("readwrite", (store) => store.add(entry));
    } catch (error) {
      if (!error || error.name !== "ConstraintError") throw error;
    }
    announce({type: "changed"});
  }

  async function entries(user) {
    const all = await withStore("readonly", (store) => store.getAll());
    return all.filter((entry) => entry.user === String(user)).sort((a, b) => a.seq - b.seq);
  }

  async function counts(user) {
    const mine = await entries(user);
    const waiting = mine.filter((entry) => entry.state === "waiting").length;
    return {waiting, attention: mine.length - waiting};
  }

  async function get(seq) {
    return withStore("readonly", (store) => store.get(seq));
  }

  async function remove(seq) {
    await withStore("readwrite", (store) => store.delete(seq));
    announce({type: "changed"});
  }

  // A refused entry the consultant sends again as it is (the lead was given back, say): back in the queue.
  async function retry(seq) {
    const entry = await get(seq);
    if (!entry) return;
    entry.state = "waiting";
    entry.problem = null;
    await withStore("readwrite", (store) => store.put(entry));
    announce({type: "changed"});
  }

  async function refuse(entry, response) {
    entry.state = "attention";
    entry.problem = {
      status: response.status,
      trigger: response.headers.get("HX-Trigger"),
      html: (await response.text()).slice(0, 200000),
    };
    await withStore("readwrite", (store) => store.put(entry));
  }

  function withoutCsrf(body) {
    const fields = new URLSearchParams(body);
    fields.delete("csrf_token");
    return fields.toString();
  }

  // Send the signed-in user's waiting entries, oldest first, each with its key and a fresh CSRF token.
  // Returns {state, sent}: "done" (nothing waits), "offline" (no network: try again later), "retry" (the server
  // is busy or failing: later), "signed-out" (sign in first), "busy" (another tab or the worker is sending).
  async function replay() {
    let session;
    try {
      const answer = await fetch("/session", {cache: "no-store", credentials: "same-origin"});
      if (!answer.ok) return {state: "retry", sent: 0};
      session = await answer.json();
    } catch (error) {
      return {state: "offline", sent: 0};
    }
    if (!session.user) return {state: "signed-out", sent: 0};
    let sent = 0;
    for (const entry of await entries(session.user)) {
      if (entry.state !== "waiting") continue;
      let response;
      try {
        response = await fetch(entry.url, {
          method: "POST", credentials: "same-origin", body: withoutCsrf(entry.body), cache: "no-store",
          headers: {
            "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
            "Idempotency-Key": entry.key,
            "X-CSRFToken": session.csrf_token,
            "HX-Request": "true",
            "X-Outbox-Replay": "1",
          },
        });
      } catch (error) {
        return {state: "offline", sent};
      }
      if (response.headers.get("HX-Redirect")) return {state: "signed-out", sent};  // the session ended
      if (response.ok) {
        await remove(entry.seq);
        sent += 1;
      } else if (response.status === 409 || response.status === 429 || response.status >= 500) {
        return {state: "retry", sent};  // still being saved, or the server is struggling: the entry waits
      } else {
        await refuse(entry, response);
        announce({type: "changed"});
      }
    }
    return {state: "done", sent};
  }

  // One sender at a time across tabs and the worker (Web Locks); the others return "busy" at once.
  async function sync() {
    const locks = scope.navigator && scope.navigator.locks;
    const result = locks
      ? await locks.request(LOCK, {ifAvailable: true}, (lock) => (lock ? replay() : {state: "busy", sent: 0}))
      : await replay();
    if (result.sent) announce({type: "synced", sent: result.sent});
    return result;
  }

  scope.Outbox = {entryFrom, add, entries, counts, get, remove, retry, sync, kindOf, channelName: DATABASE};
})(self);
