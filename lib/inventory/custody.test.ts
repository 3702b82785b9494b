import { describe, expect, it } from "vitest";
import { decideCustody, type CustodyState } from "./custody";

const stored: CustodyState = { address: "198.18.0.5", transport: "ssh", port: 22, credentialId: "cred-a" };
const bare: CustodyState = { ...stored, credentialId: null };

describe("decideCustody", () => {
  it.each<[string, CustodyState | null, CustodyState, boolean, Partial<ReturnType<typeof decideCustody>>]>([
    ["admin moves a credentialed host: kept, scope checked, pin reset", stored, { ...stored, address: "198.18.0.6" }, true, { changed: ["address"], credentialId: "cred-a", credentialDropped: false, identityReset: true, checkScope: true, refusal: null }],
    ["operator moves a credentialed host: credential dropped", stored, { ...stored, address: "198.18.0.6" }, false, { changed: ["address"], credentialId: null, credentialDropped: true, identityReset: true }],
    ["operator changes the port: dropped", stored, { ...stored, port: 2222 }, false, { changed: ["port"], credentialId: null, credentialDropped: true }],
    ["operator changes the transport: dropped", stored, { ...stored, transport: "winrm" }, false, { changed: ["transport"], credentialDropped: true }],
    ["operator swaps the credential: dropped, not swapped", stored, { ...stored, credentialId: "cred-b" }, false, { changed: ["credential"], credentialId: null, credentialDropped: true, identityReset: false }],
    ["operator attaches a credential: refused", bare, stored, false, { refusal: expect.stringMatching(/Only an admin attaches/) as unknown as string }],
    ["operator creates a host with a credential: refused", null, stored, false, { refusal: expect.stringMatching(/Only an admin/) as unknown as string }],
    ["operator edits nothing custodial: kept", stored, { ...stored }, false, { changed: [], credentialId: "cred-a", credentialDropped: false, identityReset: false }],
    ["admin creates with a credential: scope checked", null, stored, true, { credentialId: "cred-a", checkScope: true }],
    ["admin keeps everything: no scope check", stored, { ...stored }, true, { checkScope: false }],
    ["port null and 22 differ (default vs explicit)", stored, { ...stored, port: null }, true, { changed: ["port"], identityReset: true }],
  ])("%s", (_name, before, wanted, admin, expected) => {
    expect(decideCustody(before, wanted, admin)).toMatchObject(expected);
  });
});
