// A worker's Prometheus metrics (DMS_METRICS_ADDRESS), scraped and looked up by name and labels.

/** One scrape: each sample's value by its name and labels, as Prometheus text writes them. */
export async function scrape(address: string): Promise<Map<string, number>> {
  const text = await (await fetch(`http://${address}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** The value of the sample whose name is `name` and whose labels include `labels`. */
export function sample(samples: Map<string, number>, name: string, labels: Record<string, string>): number | undefined {
  for (const [key, value] of samples) {
    if (!key.startsWith(`${name}{`) && key !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) return value;
  }
  return undefined;
}
