// Scenario 4 over HTTP: one client drains a topic through a json consumer instance, fetching in
// sequence (create → subscribe → GET …/records until every record arrived → delete). The time
// includes the group join, as the native side's does.
import { performance } from 'node:perf_hooks';

export async function consumeViaGateway(url, topic, count, sample, encoding = 'identity') {
  const v2 = 'application/vnd.kafka.v2+json';
  const created = await fetch(`${url}/consumers/bench-http-${Date.now()}`, {
    method: 'POST',
    headers: { 'content-type': v2 },
    body: JSON.stringify({ format: 'json', 'auto.offset.reset': 'earliest', 'auto.commit.enable': 'false' }),
  }).then((r) => r.json());
  const base = created.base_uri;
  sample();
  const start = performance.now();
  await fetch(`${base}/subscription`, {
    method: 'POST',
    headers: { 'content-type': v2 },
    body: JSON.stringify({ topics: [topic] }),
  });
  const latencies = [];
  let n = 0;
  let bytes = 0;
  while (n < count) {
    const t0 = performance.now();
    const res = await fetch(`${base}/records?timeout=5000`, {
      headers: { accept: 'application/vnd.kafka.json.v2+json', 'accept-encoding': encoding },
    });
    const text = await res.text();
    latencies.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`fetch answered ${res.status}: ${text.slice(0, 200)}`);
    n += JSON.parse(text).length;
    bytes += text.length;
  }
  const elapsed = (performance.now() - start) / 1000;
  const usage = sample();
  await fetch(base, { method: 'DELETE' });
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    records: n,
    records_per_s: n / elapsed,
    bytes_per_s: bytes / elapsed,
    fetches: latencies.length,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    cpu_percent: (usage.cpuSeconds / elapsed) * 100,
    peak_rss_mib: usage.peakRssMiB,
  };
}

/**
 * Scenario 4b: the same drain over one event stream (`Accept: text/event-stream`): create →
 * subscribe → one GET …/records held open until every record arrived as an event → delete.
 * Also reports the time to the first record (from the subscribe, data waiting).
 */
export async function consumeViaSse(url, topic, count, sample) {
  const http = await import('node:http');
  const base = await createInstance(url);
  sample();
  const start = performance.now();
  await subscribe(base, topic);
  let n = 0;
  let bytes = 0;
  let first;
  await new Promise((resolve, reject) => {
    const req = http.get(`${base}/records`, { headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      res.setEncoding('utf8');
      let tail = '';
      res.on('data', (chunk) => {
        bytes += chunk.length;
        const text = tail + chunk;
        // Count complete events (each record is one `data:` line ending in a blank line).
        let at = 0;
        let end;
        while ((end = text.indexOf('\n\n', at)) >= 0) {
          if (text.startsWith('id: ', at)) n++;
          at = end + 2;
        }
        tail = text.slice(at);
        if (first === undefined && n > 0) first = performance.now() - start;
        if (n >= count) {
          req.destroy();
          resolve();
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', (err) => (n >= count ? resolve() : reject(err)));
  });
  const elapsed = (performance.now() - start) / 1000;
  const usage = sample();
  await fetch(base, { method: 'DELETE' });
  return {
    records: n,
    records_per_s: n / elapsed,
    bytes_per_s: bytes / elapsed,
    first_record_ms: first,
    cpu_percent: (usage.cpuSeconds / elapsed) * 100,
    peak_rss_mib: usage.peakRssMiB,
  };
}

/**
 * Time to first record with data waiting, on a warm (joined) instance: `rounds` times, one record
 * is produced (acks=all) and then fetched — by a v2 fetch issued after the produce's ack, and by
 * an open event stream (from the ack to the event). `produce(i)` sends record i and resolves on its ack.
 */
export async function firstRecordViaGateway(url, topic, rounds, produce) {
  const http = await import('node:http');
  const fetchBase = await createInstance(url, 'latest');
  await subscribe(fetchBase, topic);
  const streamBase = await createInstance(url, 'latest');
  await subscribe(streamBase, topic);
  const accept = { accept: 'application/vnd.kafka.json.v2+json' };
  // Warm: both instances joined and positioned at the end.
  await fetch(`${fetchBase}/records?timeout=3000`, { headers: accept }).then((r) => r.text());
  let onEvent = () => undefined;
  const stream = http.get(`${streamBase}/records`, { headers: { accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      if (chunk.includes('\ndata: ')) onEvent();
    });
    res.on('error', () => undefined);
  });
  stream.on('error', () => undefined);
  await new Promise((r) => setTimeout(r, 2000));
  const v2 = [];
  const sse = [];
  for (let i = 0; i < rounds; i++) {
    const event = new Promise((resolve) => (onEvent = resolve));
    await produce(i);
    const acked = performance.now();
    await event;
    sse.push(performance.now() - acked);
    const t0 = performance.now();
    let got = 0;
    while (got === 0) {
      const res = await fetch(`${fetchBase}/records?timeout=1000`, { headers: accept });
      got = JSON.parse(await res.text()).length;
    }
    v2.push(performance.now() - t0);
  }
  stream.destroy();
  await fetch(fetchBase, { method: 'DELETE' });
  await fetch(streamBase, { method: 'DELETE' });
  return { v2: summary(v2), sse: summary(sse) };
}

export function summary(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1] };
}

async function createInstance(url, reset = 'earliest') {
  const created = await fetch(`${url}/consumers/bench-http-${Date.now()}-${Math.random().toString(36).slice(2)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.kafka.v2+json' },
    body: JSON.stringify({ format: 'json', 'auto.offset.reset': reset, 'auto.commit.enable': 'false' }),
  }).then((r) => r.json());
  return created.base_uri;
}

async function subscribe(base, topic) {
  await fetch(`${base}/subscription`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.kafka.v2+json' },
    body: JSON.stringify({ topics: [topic] }),
  });
}
