// Service worker of the tablet app (scope /tablet/): keeps the app shell so the app opens without a signal.
// Change VERSION when SHELL changes; old caches are deleted on activation. The API is never cached here:
// assignments, queued inspections and photos live in IndexedDB.
const VERSION = "vmo-tablet-v3";
const SHELL = [
  "/tablet/",
  "/tablet/app.css",
  "/tablet/app.js",
  "/tablet/api.js",
  "/tablet/i18n.js",
  "/tablet/store.js",
  "/tablet/sync.js",
  "/tablet/manifest.webmanifest",
  "/tablet/icon-192.png",
  "/tablet/icon-512.png",
];
const NETWORK_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(VERSION)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("vmo-tablet-") && k !== VERSION)
        .map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// Network first (so a new version shows at once), with a short timeout; the cached copy when offline.
async function shell(request) {
  const cache = await caches.open(VERSION);
  const key = request.mode === "navigate" ? "/tablet/" : request;
  try {
    const response = await Promise.race([
      fetch(request),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), NETWORK_TIMEOUT_MS)),
    ]);
    if (response.ok && response.type === "basic") await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(key, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/tablet/")) return; // the API goes straight to the network
  event.respondWith(shell(event.request));
});
