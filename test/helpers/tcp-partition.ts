import { connect, createServer, type Socket } from 'node:net';

/** A loopback TCP relay to a server that can cut its clients off without closing their connections. */
export interface TcpPartition {
  /** The relay's port: connect here instead of to the server. */
  port: number;
  /** Holds every byte either way (a network partition: sockets stay open, nothing arrives). */
  cut(): void;
  /** Delivers the held bytes, in order, and everything after. */
  heal(): void;
  close(): Promise<void>;
}

export async function tcpPartition(targetPort: number): Promise<TcpPartition> {
  const sockets = new Set<Socket>();
  const held: Array<() => void> = [];
  let cut = false;
  const relay = (from: Socket, to: Socket) =>
    from.on('data', (chunk: Buffer) => {
      const send = () => void (to.destroyed || to.write(chunk));
      if (cut) held.push(send);
      else send();
    });
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) sockets.add(s);
    relay(client, upstream);
    relay(upstream, client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    cut: () => void (cut = true),
    heal: () => {
      cut = false;
      for (const send of held.splice(0)) send();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
