// Verifies a signed checkpoint note (golang.org/x/mod/sumdb/note, Ed25519) in the browser against
// the published verifier keys, so an auditor sees the log's latest checkpoint checked by their own
// machine rather than told so by the server. This checks the signature only: the full log check
// (every event hashed into the tree, consistency with the anchored checkpoints) is `anpr audit verify`.

export type NoteCheck =
  | { ok: true; signer: string; text: string }
  | { ok: false; why: string };

const enc = new TextEncoder();

function b64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

interface Key {
  name: string;
  hash: number;
  raw: Uint8Array<ArrayBuffer>;
}

/** Parses "<name>+<hash hex>+<base64(0x01 || 32-byte Ed25519 key)>" lines; others are skipped. */
export function parseKeys(text: string): Key[] {
  const keys: Key[] = [];
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (!line || line.startsWith("#")) continue;
    // The key's base64 may itself hold '+', so only the first two separate fields.
    const m = /^([^+\s]+)\+([0-9a-f]{8})\+(\S+)$/.exec(line);
    if (!m) continue;
    try {
      const k = b64(m[3] ?? "");
      if (k.length !== 33 || k[0] !== 1) continue;
      keys.push({ name: m[1] ?? "", hash: parseInt(m[2] ?? "", 16), raw: k.slice(1) });
    } catch {
      continue;
    }
  }
  return keys;
}

/** Checks that note (the base64 of the signed note) carries a valid signature by one of keys. */
export async function verifyNote(noteB64: string, keysText: string): Promise<NoteCheck> {
  let msg: string;
  try {
    msg = new TextDecoder("utf-8", { fatal: true }).decode(b64(noteB64));
  } catch {
    return { ok: false, why: "the checkpoint note is not valid base64 UTF-8" };
  }
  const split = msg.lastIndexOf("\n\n");
  if (split < 0) return { ok: false, why: "the checkpoint note has no signatures" };
  const text = msg.slice(0, split + 1);
  const sigs = msg.slice(split + 2).split("\n").filter(Boolean);
  if (!globalThis.crypto?.subtle) return { ok: false, why: "this page is not a secure context (HTTPS), so the browser cannot check signatures" };
  const keys = parseKeys(keysText);
  if (keys.length === 0) return { ok: false, why: "no Ed25519 verifier keys were published" };
  for (const line of sigs) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m) continue;
    let sig: Uint8Array<ArrayBuffer>;
    try {
      sig = b64(m[2] ?? "");
    } catch {
      continue;
    }
    if (sig.length !== 68) continue;
    const hash = new DataView(sig.buffer).getUint32(0);
    const key = keys.find((k) => k.name === m[1] && k.hash === hash);
    if (!key) continue;
    const pub = await crypto.subtle.importKey("raw", key.raw, { name: "Ed25519" }, false, ["verify"]);
    if (await crypto.subtle.verify({ name: "Ed25519" }, pub, sig.slice(4), enc.encode(text))) {
      return { ok: true, signer: key.name, text };
    }
    return { ok: false, why: `the signature by ${key.name} does not verify` };
  }
  return { ok: false, why: "no signature by a published key" };
}
