// A Kubernetes Service in front of several dashboard processes, as kube-proxy makes one: each
// new TCP connection goes to the next ready endpoint (round robin); an endpoint removed (its
// pod died and the endpoints controller dropped it) gets no new connections, and the
// connections it had end with it. A connection to an endpoint that refuses is reset, as a
// client of a Service whose endpoint just died sees it.
import { connect, createServer, type Server, type Socket } from "node:net";

export class ServiceProxy {
  private readonly endpoints: number[] = [];
  private readonly sockets = new Set<Socket>();
  private next = 0;
  private server: Server | undefined;
  port = 0;
  /** Which endpoint (port) each accepted connection went to, in order. */
  readonly routed: number[] = [];

  constructor(endpoints: number[]) {
    this.endpoints.push(...endpoints);
  }

  async start(): Promise<this> {
    this.server = createServer((client) => this.route(client));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  /** The endpoint is gone: no new connections go there. */
  remove(endpoint: number): void {
    const i = this.endpoints.indexOf(endpoint);
    if (i >= 0) this.endpoints.splice(i, 1);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const s = this.server;
    this.server = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private route(client: Socket): void {
    this.sockets.add(client);
    client.on("close", () => this.sockets.delete(client));
    if (this.endpoints.length === 0) return void client.resetAndDestroy();
    const port = this.endpoints[this.next++ % this.endpoints.length]!;
    this.routed.push(port);
    const upstream = connect(port, "127.0.0.1");
    this.sockets.add(upstream);
    upstream.on("close", () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.resetAndDestroy());
    client.on("error", () => upstream.destroy());
    client.on("close", () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
