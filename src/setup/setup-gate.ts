import { randomBytes, timingSafeEqual } from "node:crypto";

/** How long a registration attempt's state is accepted: GitHub's page is a click away. */
export const STATE_TTL_MS = 10 * 60_000;
/** At most this many attempts wait at once; older ones are dropped first. */
const MAX_PENDING_STATES = 50;

/**
 * The gate of the set-up page: only whoever reads the server's console can register the
 * GitHub App. The code (about 100 bits, in groups that are easy to type) opens one browser
 * session; that session's registration attempts each get their own state, used once.
 */
export function createSetupGate(now: () => number = Date.now) {
  const code = formatCode(randomBytes(13));
  let session: string | undefined;
  const states = new Map<string, { sessionId: string; until: number }>();

  const sameText = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };

  /** True for the session the code was spent on. */
  const isSession = (sessionId: string | undefined) =>
    session !== undefined && sessionId !== undefined && sameText(sessionId, session);

  return {
    /** The one-time code, shown on the server's console only. */
    code,
    /**
     * Spends the code: the id of the one browser session that may register the App from now
     * on, or undefined when `given` is not the code or the code was spent already.
     */
    unlock(given: string): string | undefined {
      if (session !== undefined || !sameText(normalizeCode(given), normalizeCode(code))) {
        return undefined;
      }
      session = randomBytes(24).toString("base64url");
      return session;
    },
    isSession,
    /** A new state for one registration attempt of that session (valid STATE_TTL_MS). */
    newState(sessionId: string): string {
      for (const [key, entry] of states) if (entry.until <= now()) states.delete(key);
      while (states.size >= MAX_PENDING_STATES) states.delete(states.keys().next().value!);
      const state = randomBytes(20).toString("hex");
      states.set(state, { sessionId, until: now() + STATE_TTL_MS });
      return state;
    },
    /** True once for a state this session was given, within its time; the state is then spent. */
    takeState(state: string, sessionId: string | undefined): boolean {
      const entry = states.get(state);
      if (!entry || sessionId === undefined || !sameText(entry.sessionId, sessionId)) return false;
      states.delete(state);
      return entry.until > now() && isSession(sessionId);
    },
  };
}

const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no 0/O, 1/I: read off a terminal

/** 13 random bytes as 20 characters of ALPHABET, in groups of five. */
function formatCode(bytes: Buffer): string {
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let text = "";
  for (let i = 0; i < 20; i++) {
    text += ALPHABET[Number(bits & 31n)];
    bits >>= 5n;
  }
  return text.match(/.{5}/g)!.join("-");
}

/** What a person may type differently: case, spaces, dashes. */
function normalizeCode(text: string): string {
  return text.toUpperCase().replace(/[\s-]/g, "").slice(0, 64);
}
