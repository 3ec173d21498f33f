// A private certificate authority and a server certificate it signs, made with openssl as a
// cluster admin would make them: for a `wss://` dashboard behind a privately signed TLS proxy.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PrivateCa {
  /** The CA's certificate (PEM): what a client must trust. */
  caPem: string;
  /** A server certificate for 127.0.0.1 and localhost, signed by the CA, and its key (PEM). */
  serverCert: string;
  serverKey: string;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** Makes a CA and a server certificate valid for a day; nothing is left on disk. */
export function privateCa(): PrivateCa {
  const dir = mkdtempSync(join(tmpdir(), "testkit-ca-"));
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  try {
    openssl(
      ["req", "-x509", ...EC, "-keyout", f("ca.key"), "-out", f("ca.pem")]
        .concat(["-days", "1", "-subj", "/CN=testkit private CA"])
        .concat(["-addext", "basicConstraints=critical,CA:TRUE"])
        .concat(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]),
    );
    openssl([
      "req",
      ...EC,
      "-keyout",
      f("srv.key"),
      "-out",
      f("srv.csr"),
      "-subj",
      "/CN=127.0.0.1",
    ]);
    writeFileSync(f("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    openssl(
      ["x509", "-req", "-in", f("srv.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key")].concat([
        "-CAcreateserial",
        "-out",
        f("srv.pem"),
        "-days",
        "1",
        "-extfile",
        f("ext.cnf"),
      ]),
    );
    const read = (name: string) => readFileSync(f(name), "utf8");
    return { caPem: read("ca.pem"), serverCert: read("srv.pem"), serverKey: read("srv.key") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
