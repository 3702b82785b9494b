import Link from "next/link";

export default async function ForbiddenPage({ searchParams }: { searchParams: Promise<{ need?: string }> }) {
  const { need } = await searchParams;
  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="max-w-md rounded-lg border border-slate-200 bg-white p-6 text-center shadow-sm">
        <h1 className="text-lg font-semibold">Not allowed</h1>
        <p className="mt-2 text-sm text-slate-600">
          Your role may not open this page{need ? `: it needs the ${need} role` : ""}. Ask an admin if you need access.
        </p>
        <Link href="/" className="mt-4 inline-block text-sm font-medium text-brand-600 underline">Back to the overview</Link>
      </div>
    </main>
  );
}
