// Scenario 4 over HTTP: one client drains a topic through a json consumer instance, fetching in
// sequence (create → subscribe → GET …/records until every record arrived → delete). The time
// includes the group join, as the native side's does.
import { performance } from 'node:perf_hooks';

export async function consumeViaGateway(url, topic, count, sample) {
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
      headers: { accept: 'application/vnd.kafka.json.v2+json' },
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
