// TEST DOUBLE: the display language of the emulated Windows: reg.exe's messages and the console
// code page its output is written in.
//
// Console output: a cmd.exe console writes in the system's OEM code page (437 on US English
// Windows, 852 on Polish Windows; Microsoft Learn "Code Page Identifiers", "chcp") unless the
// session asked for another one: WinRM's WINRS_CODEPAGE shell option ([MS-WSMV] 2.2.4.38;
// tlsfleet's WinRM client asks for 65001 = UTF-8), nothing over Windows OpenSSH (its cmd.exe runs
// with the OEM code page). Characters the code page lacks come out as "?".
//
// reg.exe's not-found message on Polish Windows is the one admins quote from it:
// "BŁĄD: System nie może odnaleźć określonego klucza rejestru lub wartości." The other Polish
// texts are close translations, not checked against a Polish reg.exe; tlsfleet must not read any
// of them (it decides from exit codes and structured output).

import { StringDecoder } from "node:string_decoder";

export interface RegMessages {
  notFound: string;
  success: string;
  invalidSyntax: (sub: string) => string;
  invalidKey: (sub: string) => string;
  networkPath: string;
  invalidData: string;
  invalidType: string;
  canceled: string;
  overwrite: (name: string) => string;
  deleteValue: (name: string) => string;
  deleteAllValues: (key: string) => string;
  deleteKey: (key: string) => string;
  /** The answer that confirms a prompt (Yes / Tak). */
  yes: RegExp;
  /** How reg.exe names the unnamed value. */
  defaultValueName: string;
}

export interface WindowsLocale {
  name: "en-US" | "pl-PL";
  oemCodePage: number;
  reg: RegMessages;
}

const EN_US: WindowsLocale = {
  name: "en-US",
  oemCodePage: 437,
  reg: {
    notFound: "ERROR: The system was unable to find the specified registry key or value.\r\n",
    success: "The operation completed successfully.\r\n",
    invalidSyntax: (sub) => `ERROR: Invalid syntax.\r\nType "REG ${sub}/?" for usage.\r\n`,
    invalidKey: (sub) => `ERROR: Invalid key name.\r\nType "REG ${sub} /?" for usage.\r\n`,
    networkPath: "ERROR: The network path was not found.\r\n",
    invalidData: `ERROR: Invalid value specified for /d.\r\nType "REG ADD /?" for usage.\r\n`,
    invalidType: `ERROR: Invalid type specified.\r\nType "REG ADD /?" for usage.\r\n`,
    canceled: "The operation was canceled by the user.\r\n",
    overwrite: (name) => `Value ${name} exists, overwrite(Yes/No)? `,
    deleteValue: (name) => `Delete the registry value ${name} (Yes/No)? `,
    deleteAllValues: (key) => `Delete all values under the registry key ${key} (Yes/No)? `,
    deleteKey: (key) => `Permanently delete the registry key ${key} (Yes/No)? `,
    yes: /^\s*y/i,
    defaultValueName: "(Default)",
  },
};

const PL_PL: WindowsLocale = {
  name: "pl-PL",
  oemCodePage: 852,
  reg: {
    notFound: "BŁĄD: System nie może odnaleźć określonego klucza rejestru lub wartości.\r\n",
    success: "Operacja ukończona pomyślnie.\r\n",
    invalidSyntax: (sub) => `BŁĄD: Nieprawidłowa składnia.\r\nWpisz "REG ${sub}/?", aby uzyskać informacje o użyciu.\r\n`,
    invalidKey: (sub) => `BŁĄD: Nieprawidłowa nazwa klucza.\r\nWpisz "REG ${sub} /?", aby uzyskać informacje o użyciu.\r\n`,
    networkPath: "BŁĄD: Nie można odnaleźć ścieżki sieciowej.\r\n",
    invalidData: `BŁĄD: Określono nieprawidłową wartość dla /d.\r\nWpisz "REG ADD /?", aby uzyskać informacje o użyciu.\r\n`,
    invalidType: `BŁĄD: Określono nieprawidłowy typ.\r\nWpisz "REG ADD /?", aby uzyskać informacje o użyciu.\r\n`,
    canceled: "Operacja została anulowana przez użytkownika.\r\n",
    overwrite: (name) => `Wartość ${name} istnieje, zastąpić (Tak/Nie)? `,
    deleteValue: (name) => `Usunąć wartość rejestru ${name} (Tak/Nie)? `,
    deleteAllValues: (key) => `Usunąć wszystkie wartości w kluczu rejestru ${key} (Tak/Nie)? `,
    deleteKey: (key) => `Trwale usunąć klucz rejestru ${key} (Tak/Nie)? `,
    yes: /^\s*t/i,
    defaultValueName: "(Domyślna)",
  },
};

export const LOCALES = { "en-US": EN_US, "pl-PL": PL_PL } as const;
export type LocaleName = keyof typeof LOCALES;

/** Code page 852 (OEM Latin 2) for the Polish letters; ASCII maps to itself. From the code page
 *  chart (Microsoft "Code Page 852"; the same table as glibc's iconv CP852). */
export const CP852_POLISH: Readonly<Record<string, number>> = {
  Ą: 0xa4, ą: 0xa5, Ć: 0x8f, ć: 0x86, Ę: 0xa8, ę: 0xa9, Ł: 0x9d, ł: 0x88, Ń: 0xe3, ń: 0xe4,
  Ó: 0xe0, ó: 0xa2, Ś: 0x97, ś: 0x98, Ź: 0x8d, ź: 0xab, Ż: 0xbd, ż: 0xbe,
};

/** Encodes text for a console in `codePage` (65001 = UTF-8). */
export function encodeConsole(text: string, codePage: number): Buffer {
  if (codePage === 65001) return Buffer.from(text, "utf8");
  const bytes: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) bytes.push(c);
    else bytes.push((codePage === 852 ? CP852_POLISH[ch] : undefined) ?? 0x3f);
  }
  return Buffer.from(bytes);
}

/** A stream encoder: the programs write UTF-8 and a chunk may end inside a character. */
export function consoleEncoder(codePage: number): (chunk: Buffer) => Buffer {
  if (codePage === 65001) return (chunk) => chunk;
  const decoder = new StringDecoder("utf8");
  return (chunk) => encodeConsole(decoder.write(chunk), codePage);
}

const STREAMS = new WeakMap<object, { stdout: (b: Buffer) => Buffer; stderr: (b: Buffer) => Buffer }>();

/** The stdout/stderr encoders of one running program (kept across WinRM Receives / SSH writes). */
export function consoleStreams(program: object, codePage: number): { stdout: (b: Buffer) => Buffer; stderr: (b: Buffer) => Buffer } {
  let s = STREAMS.get(program);
  if (!s) {
    s = { stdout: consoleEncoder(codePage), stderr: consoleEncoder(codePage) };
    STREAMS.set(program, s);
  }
  return s;
}
