import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createHash, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { certificateBindingHash, extractFault, extractReceive, NS, openWinRmSession, parseXml, xmlAttr, xmlChild, xmlText, XmlError } from "./winrm";
import { TransportError } from "./types";

const env = (body: string) =>
  `<s:Envelope xmlns:s="${NS.soap}" xmlns:rsp="${NS.shell}"><s:Header/><s:Body>${body}</s:Body></s:Envelope>`;

describe("parseXml", () => {
  it("resolves namespaces, attributes, entities, CDATA and comments", () => {
    const doc = parseXml(
      `<?xml version="1.0"?><!-- c --><a:Root xmlns:a="urn:a" xmlns="urn:d" x="1 &amp; 2"><Child a:y='q'>t&lt;&#x41;&#66;<![CDATA[<raw>]]></Child></a:Root>`,
    );
    expect(doc).toMatchObject({ ns: "urn:a", local: "Root" });
    expect(xmlAttr(doc, "x")).toBe("1 & 2");
    const child = xmlChild(doc, "urn:d", "Child");
    expect(xmlText(child)).toBe("t<AB<raw>");
    expect(xmlAttr(child, "y", "urn:a")).toBe("q");
  });

  it.each([
    ["a DTD (entity expansion)", `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>`, /DTD/],
    ["an unknown entity", "<a>&ext;</a>", /entity/],
    ["mismatched tags", "<a><b></a></b>", /does not match/],
    ["an unbound prefix", "<x:a/>", /unbound/],
    ["two roots", "<a/><b/>", /more than one root/],
    ["text after the root", "<a/>junk", /outside the root/],
    ["an unterminated document", "<a><b>", /unclosed/],
    ["duplicate attributes", `<a x="1" x="2"/>`, /duplicate/],
    ["an unquoted attribute", "<a x=1/>", /quoted/],
    ["a surrogate character reference", "<a>&#xD800;</a>", /invalid entity/],
    ["deep nesting", "<a>".repeat(100) + "</a>".repeat(100), /deeper/],
  ])("refuses %s", (_what, xml, message) => {
    expect(() => parseXml(xml)).toThrow(XmlError);
    expect(() => parseXml(xml)).toThrow(message);
  });

  it("refuses documents over the size limit without scanning them", () => {
    expect(() => parseXml(`<a>${"x".repeat(2000)}</a>`, { maxChars: 1000 })).toThrow(/larger than/);
    expect(() => parseXml(`<a>${"<b/>".repeat(200)}</a>`, { maxNodes: 100 })).toThrow(/more than 100 elements/);
  });

  it("never throws anything but XmlError on random garbage", () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const alphabet = `<>/="'&;:!?[]-abcxmlns `;
    for (let i = 0; i < 2000; i++) {
      const s = Array.from({ length: Math.floor(rnd() * 60) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join("");
      try {
        parseXml(s);
      } catch (e) {
        expect(e).toBeInstanceOf(XmlError);
      }
    }
  });
});

describe("WS-Management answers", () => {
  it("extracts a WSManFault with its code", () => {
    const fault = extractFault(
      parseXml(
        `<s:Envelope xmlns:s="${NS.soap}"><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>` +
          `<s:Reason><s:Text xml:lang="en-US">timed out</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="${NS.wsmanFault}" Code="2150858793" Machine="x">` +
          `<f:Message>The WS-Management service cannot complete the operation within the time specified in OperationTimeout.\u0007</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`,
      ),
    );
    expect(fault).toEqual({
      code: 2150858793,
      subcode: "w:TimedOut",
      message: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
    });
    expect(extractFault(parseXml(env("")))).toBeNull();
  });

  it("extracts streams and the exit code of a finished command", () => {
    const r = extractReceive(
      parseXml(
        env(
          `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="AB-1">${Buffer.from("hi").toString("base64")}</rsp:Stream>` +
            `<rsp:Stream Name="stderr" CommandId="AB-1" End="true"></rsp:Stream>` +
            `<rsp:CommandState CommandId="AB-1" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>-1073741510</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`,
        ),
      ),
    );
    expect(r.streams.map((s) => [s.name, Buffer.from(s.data, "base64").toString(), s.end])).toEqual([
      ["stdout", "hi", false],
      ["stderr", "", true],
    ]);
    expect(r.state).toEqual({ commandId: "AB-1", done: true, exitCode: -1073741510 });
  });

  it.each([
    ["an unknown stream", `<rsp:Stream Name="stdin" CommandId="A">aGk=</rsp:Stream>`],
    ["data that is not base64", `<rsp:Stream Name="stdout" CommandId="A">not base64!</rsp:Stream>`],
    ["a command id with markup characters", `<rsp:Stream Name="stdout" CommandId="A&quot;B">aGk=</rsp:Stream>`],
  ])("rejects %s", (_what, streams) => {
    expect(() => extractReceive(parseXml(env(`<rsp:ReceiveResponse>${streams}</rsp:ReceiveResponse>`)))).toThrow();
  });
});

describe("certificateBindingHash (RFC 5929 tls-server-end-point)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "tlsfleet-cbt-"));
  const make = (name: string, digest: string) => {
    const file = path.join(dir, `${name}.pem`);
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", `-${digest}`, "-days", "1", "-nodes", "-keyout", path.join(dir, `${name}.key`), "-out", file, "-subj", "/CN=t"], {
      stdio: "ignore",
    });
    return new X509Certificate(readFileSync(file)).raw;
  };
  it.each([
    ["sha256", "sha256"],
    ["sha384", "sha384"],
    ["sha512", "sha512"],
    ["sha1", "sha256"], // SHA-1 and MD5 are upgraded to SHA-256
  ])("a %s-signed certificate is hashed with %s", (digest, expected) => {
    const der = make(digest, digest);
    expect(certificateBindingHash(der)).toEqual(createHash(expected).update(der).digest());
  });
});

describe("openWinRmSession configuration checks (nothing is sent)", () => {
  it("refuses Basic over plain HTTP", async () => {
    await expect(openWinRmSession({ host: "198.18.0.99", transport: "http", auth: { kind: "basic", username: "a", password: "b" } })).rejects.toMatchObject({
      code: "config",
    });
  });
  it("refuses a thumbprint that is neither SHA-1 nor SHA-256", async () => {
    const p = openWinRmSession({ host: "198.18.0.99", transport: "https", auth: { kind: "ntlm", username: "a", password: "b" }, tls: { thumbprint: "abcd" } });
    await expect(p).rejects.toBeInstanceOf(TransportError);
    await expect(p).rejects.toThrow(/SHA-1 \(40 hex digits\)/);
  });
});

describe("parseXml against hostile input", () => {
  it("refuses an element with thousands of attributes quickly (the duplicate check was quadratic)", () => {
    const attrs = Array.from({ length: 200_000 }, (_, i) => `a${i}=""`).join(" ");
    const started = performance.now();
    expect(() => parseXml(`<x ${attrs}/>`)).toThrow(/more than 64 attributes on <x>/);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("keeps names in error messages short", () => {
    const name = "n".repeat(100_000);
    expect(() => parseXml(`<${name}></b>`)).toThrow(/^end tag <\/b> does not match$/);
    const err = (() => {
      try {
        parseXml(`<a></${name}>`);
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(XmlError);
    expect(err!.message.length).toBeLessThan(200);
  });
});
