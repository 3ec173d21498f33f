import type { Metadata } from "next";
import { FleetView } from "../../ui/fleet/FleetView";

export const metadata: Metadata = { title: "Fleet" };

export default function FleetPage() {
  return <FleetView />;
}
