// Memory figures from INFO memory. "data" = used_memory minus what is not the dataset and moves on
// its own (replication buffers and backlog, client buffers, cluster links, AOF buffer): the
// figure to compare before/after a load, on standalone and on a replicated Cluster alike.

export function infoFields(info: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of info.split('\n')) {
    const m = /^([a-z_]+):(\d+)\r?$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function dataMemory(info: string): number {
  const f = infoFields(info);
  const minus = ['mem_total_replication_buffers', 'mem_clients_slaves', 'mem_clients_normal', 'mem_cluster_links', 'mem_aof_buffer'];
  return (f.used_memory ?? 0) - minus.reduce((s, k) => s + (f[k] ?? 0), 0);
}
