import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "tlsfleet", template: "%s · tlsfleet" },
  description: "Fleet TLS compliance: find, fix and prove TLS 1.2",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen bg-slate-50 text-slate-900 antialiased">{children}</body>
    </html>
  );
}
