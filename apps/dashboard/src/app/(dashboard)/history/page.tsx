import type { Metadata } from "next";
import { HistoryView } from "../../../ui/history/HistoryView";
import { SourceChanges } from "../../../ui/sources/SourceChanges";

export const metadata: Metadata = { title: "History" };

export default function HistoryPage() {
  return (
    <>
      <HistoryView />
      <SourceChanges />
    </>
  );
}
