// IndexedDB on the tablet: settings and the sign-in (kv), assignments, the sync queue, synced records, photos,
// and the outcomes of home visits.
const DB_NAME = "vmo-tablet";
const DB_VERSION = 2;
let opening = null;

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = (event) => {
        const db = request.result;
        // Each version adds its stores: a tablet upgrading from an older one keeps what it holds.
        if (event.oldVersion < 1) {
          db.createObjectStore("kv", { keyPath: "key" });
          // queue: records made here and not yet accepted (state queued, conflict or rejected).
          db.createObjectStore("queue", { keyPath: "client_id" }).createIndex("stop_id", "stop_id");
          // done: records the server answered created or duplicate (kept for the stop summary).
          db.createObjectStore("done", { keyPath: "client_id" }).createIndex("stop_id", "stop_id");
          // photos: Blobs waiting for upload, key "<client_id>:<sha256>".
          db.createObjectStore("photos", { keyPath: "id" }).createIndex("client_id", "client_id");
        }
        if (event.oldVersion < 2) {
          // outcomes: one per home visit, recorded here (state queued, synced or rejected), with the
          // visit's details, so it still shows once the visit has left the assignments.
          db.createObjectStore("outcomes", { keyPath: "visit_id" });
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  return opening;
}

async function run(stores, mode, work) {
  const db = await openDb();
  const tx = db.transaction(stores, mode);
  const finished = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
  });
  const [result] = await Promise.all([work(tx), finished]);
  return result;
}

export const all = (store) => run([store], "readonly", (tx) => promisify(tx.objectStore(store).getAll()));
export const get = (store, key) => run([store], "readonly", (tx) => promisify(tx.objectStore(store).get(key)));
export const put = (store, value) => run([store], "readwrite", (tx) => promisify(tx.objectStore(store).put(value)));
export const del = (store, key) => run([store], "readwrite", (tx) => promisify(tx.objectStore(store).delete(key)));
export const count = (store) => run([store], "readonly", (tx) => promisify(tx.objectStore(store).count()));

export async function kvGet(key, fallback = null) {
  const row = await get("kv", key);
  return row === undefined ? fallback : row.value;
}

export const kvSet = (key, value) => put("kv", { key, value });
export const kvDel = (key) => del("kv", key);

/** A new record and its photos, in one transaction: both are there, or neither. */
export function saveInspection(record, photos) {
  return run(["queue", "photos"], "readwrite", async (tx) => {
    tx.objectStore("queue").put(record);
    for (const photo of photos) tx.objectStore("photos").put(photo);
  });
}

/** Move a record the server accepted from the queue to the done store, in one transaction. */
export function markDone(record) {
  return run(["queue", "done"], "readwrite", async (tx) => {
    tx.objectStore("done").put(record);
    tx.objectStore("queue").delete(record.client_id);
  });
}

/** Records (queued and done) at one stop. */
export async function recordsAt(stopId) {
  return run(["queue", "done"], "readonly", async (tx) => {
    const [queued, done] = await Promise.all([
      promisify(tx.objectStore("queue").index("stop_id").getAll(stopId)),
      promisify(tx.objectStore("done").index("stop_id").getAll(stopId)),
    ]);
    return [...queued, ...done].sort((a, b) => a.created_at.localeCompare(b.created_at));
  });
}
