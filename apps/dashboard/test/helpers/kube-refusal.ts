// A client-node call the test API server must refuse: its HTTP status and the server's sentence.
import { apiMessage, statusCode } from "../../src/server/kube/client.js";

export async function refusal(p: Promise<unknown>): Promise<{ code?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: statusCode(e), message: apiMessage(e) };
  }
  throw new Error("the call was allowed");
}
