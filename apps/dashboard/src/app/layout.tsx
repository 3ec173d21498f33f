import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Providers } from "../ui/shell/Providers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "masq-dashboard", template: "%s · masq-dashboard" },
  description: "IP masquerading (ip-masq-agent) across every node: config, drift, resync, history.",
  robots: { index: false, follow: false },
};

export const viewport: Viewport = {
  colorScheme: "light dark",
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#fafafa" },
    { media: "(prefers-color-scheme: dark)", color: "#09090b" },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-dvh font-sans">
        <Providers>{children}</Providers>
      </body>
    </html>
  );
}
