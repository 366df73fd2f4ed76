// The sync queue: send waiting records in batches, keep every answer, then upload photos of synced records.
import { HttpError, NetworkError, jsonOf, request } from "./api.js";
import { all, del, kvGet, kvSet, markDone, put } from "./store.js";

const BATCH = 100;
// What the server's sync takes for one record; the rest (state, answer, created_at) stays on the tablet.
const WIRE_FIELDS = ["client_id", "stop_id", "plate", "vin", "engine_number", "odometer_km", "checklist", "result",
  "defects", "recorded_at", "lat", "lon", "photos"];
let running = null;

export function wire(record) {
  return Object.fromEntries(WIRE_FIELDS.map((name) => [name, record[name] ?? (name === "photos" ? [] : null)]));
}

/** Counts for the sync indicator: records and visit outcomes waiting, photos waiting, those needing the officer. */
export async function queueCounts() {
  const [queue, photos, outcomes] = await Promise.all([all("queue"), all("photos"), all("outcomes")]);
  const items = [...queue, ...outcomes];
  return {
    waiting: items.filter((r) => r.state === "queued").length,
    problems: items.filter((r) => r.state === "conflict" || r.state === "rejected").length,
    photos: photos.length,
  };
}

/** One sync at a time: a second call while one runs gets the running one. */
export function syncAll() {
  if (!running) {
    running = (async () => {
      try {
        const records = await syncRecords();
        const outcomes = await syncOutcomes();
        const photos = await uploadPhotos();
        await kvSet("last_sync", new Date().toISOString());
        return { records, outcomes, photos };
      } finally {
        running = null;
      }
    })();
  }
  return running;
}

async function deviceId() {
  let id = await kvGet("device_id");
  if (!id) {
    id = `tablet-${crypto.randomUUID().slice(0, 8)}`;
    await kvSet("device_id", id);
  }
  return id;
}

async function syncRecords() {
  const officer = await kvGet("username");
  // A record goes up only under the sign-in of the officer who logged it.
  const queued = (await all("queue")).filter((r) => r.state === "queued" && (!r.officer || r.officer === officer))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  const answered = { created: 0, duplicate: 0, conflict: 0, rejected: 0 };
  const device = await deviceId();
  for (let start = 0; start < queued.length; start += BATCH) {
    const batch = queued.slice(start, start + BATCH);
    const response = await request("/api/v1/mobile/inspections/sync", {
      method: "POST",
      json: { device_id: device, sent_at: new Date().toISOString(), records: batch.map(wire) },
    });
    const body = await jsonOf(response);
    if (response.status === 403) {
      // Not assigned to any stop in the batch (a tour reassigned): each record is kept, with the reason.
      for (const record of batch) {
        await put("queue", { ...record, state: "rejected", answer: { message: body && body.message } });
        answered.rejected += 1;
      }
      continue;
    }
    if (!response.ok) throw new HttpError(response.status, body);
    const byId = new Map(batch.map((r) => [r.client_id, r]));
    for (const result of body.results) {
      const record = byId.get(result.client_id);
      if (!record) continue;
      answered[result.status] += 1;
      if (result.status === "created" || result.status === "duplicate") {
        await markDone({ ...record, state: "synced", server_id: result.id, answer: null,
          synced_at: new Date().toISOString() });
      } else {
        // conflict or rejected: kept in the queue, shown to the officer with the reason; never dropped.
        await put("queue", { ...record, state: result.status, server_id: result.id ?? null,
          answer: { differences: result.differences || null, errors: result.errors || null } });
      }
    }
  }
  return answered;
}

/** Home-visit outcomes: each sent with its client_id, so a resend (a lost answer) changes nothing. */
async function syncOutcomes() {
  const officer = await kvGet("username");
  const queued = (await all("outcomes")).filter((o) => o.state === "queued" && (!o.officer || o.officer === officer))
    .sort((a, b) => a.created_at.localeCompare(b.created_at));
  const answered = { synced: 0, rejected: 0 };
  for (const item of queued) {
    const response = await request(`/api/v1/home-visits/${item.visit_id}/outcome`, {
      method: "POST",
      json: { outcome: item.outcome, note: item.note || null, client_id: item.client_id, recorded_at: item.recorded_at },
    });
    const body = await jsonOf(response);
    if (response.ok) {
      await put("outcomes", { ...item, state: "synced", answer: null, synced_at: new Date().toISOString() });
      answered.synced += 1;
    } else if (response.status >= 500 || response.status === 429) {
      throw new HttpError(response.status, body);
    } else {
      // Refused for good (another outcome came first, the visit was moved to another officer): kept and shown.
      await put("outcomes", { ...item, state: "rejected",
        answer: { message: (body && body.message) || `HTTP ${response.status}`, reason: body && body.reason } });
      answered.rejected += 1;
    }
  }
  return answered;
}

async function uploadPhotos() {
  const photos = await all("photos");
  if (!photos.length) return { uploaded: 0 };
  const synced = new Set((await all("done")).map((r) => r.client_id));
  let uploaded = 0;
  for (const photo of photos) {
    if (!synced.has(photo.client_id) || photo.state === "failed") continue;
    const response = await request(
      `/api/v1/mobile/inspections/${encodeURIComponent(photo.client_id)}/photos/${photo.sha256}`
        + (photo.kind ? `?kind=${encodeURIComponent(photo.kind)}` : ""),
      { method: "PUT", body: photo.blob, headers: { "Content-Type": photo.type || "application/octet-stream" } },
    );
    if (response.ok) {
      await del("photos", photo.id);
      uploaded += 1;
    } else if ([413, 415].includes(response.status)) {
      // The server will never take these bytes: keep the photo and tell the officer.
      const body = await jsonOf(response);
      await put("photos", { ...photo, state: "failed", error: (body && body.message) || `HTTP ${response.status}` });
    } else if (response.status >= 500) {
      throw new HttpError(response.status, await jsonOf(response));
    }
    // 404 (record not on the server yet) or 422 (bytes damaged on the way): tried again next sync.
  }
  return { uploaded };
}

export { NetworkError };
