import type { Metadata } from "next";
import { ConfigView } from "../../../ui/config/ConfigEditor";

export const metadata: Metadata = { title: "Config" };

export default function ConfigPage() {
  return <ConfigView />;
}
