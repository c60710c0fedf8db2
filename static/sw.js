// dsplay's service worker: once the playground has loaded, it starts without a network.
//
// - On install it caches the page and every file the page names (Trunk's hashed wasm, js and
//   css), so the very next load works offline.
// - The page itself is fetched from the network first (a new release is picked up as soon as
//   it is served) and from the cache when the network fails; when a new page arrives, the
//   files the old one named are dropped from the cache.
// - Every other file of the site is served from the cache first: its name changes with its
//   content, so a cached copy is never stale.
const CACHE = 'dsplay-site';
const PAGE = new URL('./', self.location).href;

// The site's files a page names: href and src attributes pointing into this folder, quoted
// or not (the release page is minified).
function assetsOf(html) {
  const urls = new Set();
  for (const m of html.matchAll(/(?:href|src)=(?:"([^"]*)"|'([^']*)'|([^\s>"']+))/g)) {
    const value = m[1] ?? m[2] ?? m[3];
    if (!value || value.startsWith('#') || value.startsWith('data:')) continue;
    const u = new URL(value, PAGE);
    if (u.origin === self.location.origin && u.href.startsWith(PAGE) && !u.href.startsWith('data:')) urls.add(u.href);
  }
  return [...urls];
}

async function cachePage(response) {
  const cache = await caches.open(CACHE);
  const html = await response.clone().text();
  const keep = new Set([PAGE, ...assetsOf(html)]);
  await cache.put(PAGE, response);
  await Promise.all([...keep].filter((u) => u !== PAGE).map(async (u) => {
    if (!(await cache.match(u))) {
      const r = await fetch(u);
      if (r.ok) await cache.put(u, r);
    }
  }));
  for (const req of await cache.keys()) {
    if (!keep.has(req.url)) await cache.delete(req);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(fetch(PAGE, { cache: 'no-cache' }).then((r) => (r.ok ? cachePage(r) : undefined)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

async function page(request) {
  try {
    const r = await fetch(request, { cache: 'no-cache' });
    if (r.ok) await cachePage(r.clone());
    return r;
  } catch (e) {
    const cached = await caches.match(PAGE);
    if (cached) return cached;
    throw e;
  }
}

async function asset(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const r = await fetch(request);
  if (r.ok && request.url.startsWith(PAGE)) {
    const cache = await caches.open(CACHE);
    await cache.put(request, r.clone());
  }
  return r;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || !request.url.startsWith(PAGE)) return;
  const url = new URL(request.url);
  const isPage = request.mode === 'navigate' || url.pathname === new URL(PAGE).pathname || url.pathname.endsWith('/index.html');
  event.respondWith(isPage ? page(request) : asset(request));
});
