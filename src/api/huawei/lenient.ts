// Where Huawei's text is silent (UNCONFIRMED in HUAWEI.md) xline takes the most lenient reading.
// Every such choice is here, so changing one is changing one line; README ("Huawei PrivateNumber
// API", lenient choices) lists them.

/** Created: `yyyy-MM-ddTHH:mm:ssZ` as Huawei; milliseconds (`.123Z`) also accepted. */
export const CREATED = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d{1,3})?Z$/;

/** Nonce: Huawei says 1–128 letters and digits; dashed UUIDs and `_` also accepted. */
export const NONCE = /^[A-Za-z0-9_-]{1,128}$/;

/** A Created that cannot be read answers as one outside the window (1010013), not as missing. */
export const MALFORMED_CREATED_CODE = '1010013' as const;

/** Java demos send `dsl="Appkey"` where the docs say `type="Appkey"`: read as the same attribute. */
export const TYPE_ATTRIBUTE_ALIASES = ['type', 'dsl'] as const;

/**
 * Attribute names in Authorization / X-AKSK / X-WSSE are matched case-insensitively (the docs
 * write both `Username` and `UserName`); separators `,` or `, `; any order.
 */
export const ATTRIBUTE_NAMES_CASE_INSENSITIVE = true;

/**
 * Legacy X-WSSE PasswordDigest: Base64 of the raw SHA-256 (Java demo) or of its hex string (an old
 * Python demo): both accepted.
 */
export const WSSE_ACCEPT_HEX_DIGEST = true;

/** recordFlag / privateSms: the strings "true"/"false" as documented, or JSON booleans. */
export const BOOLEAN_AS_JSON_BOOLEAN = true;

/** Integer fields may be sent as numeric strings ("duration":"3600"). */
export const INTEGER_AS_STRING = true;

/** Unknown body and query fields are ignored (clients send fields of other versions). */
export const IGNORE_UNKNOWN_FIELDS = true;

/** Bodies are read as JSON whatever their Content-Type says (some clients send text/plain). */
export const JSON_WHATEVER_CONTENT_TYPE = true;

/** AXB query pageSize: 10–100; absent or out of range → 50 (Huawei's default), not an error. */
export const PAGE_SIZE = { min: 10, max: 100, fallback: 50 } as const;

/** AXB bind duration: 0 (never) or 1–7776000 s (current doc); the older doc's "60 minimum" is not enforced. */
export const DURATION_MAX_SECONDS = 7_776_000;

/**
 * Tone names (preVoice, recordHintTone, lastMinVoice, callbackTone): ring-tone ids uploaded with
 * PUT /v1/ring-tones/{id}; a name with a `.wav` suffix also names the tone without it. Kept with
 * the pure Huawei helpers (the call side reads it too): domain/huawei-binding.ts toneIdCandidates.
 */
export { toneIdCandidates } from '../../domain/huawei-binding.js';

// Kept beside the code that applies them (listed here to be found):
// - AX: Huawei's 5 X per A is counted per app (api/huawei/ax.ts AX_MAX_X_PER_A).
// - AXE: a callback record without callbackExpiredTime (or 0) lasts as long as the binding
//   (domain/huawei-binding.ts CALLBACK_RECORD_DEFAULT_SECONDS).
// - callStop: an unknown, ended or other app's sessionid is 1020152 (HTTP 404, result-codes.ts);
//   the answer waits for the call's end at most CALL_STOP_WAIT_MS (api/huawei/call-stop.ts).

/** userData: 1–256 characters, no `{` `}` (Huawei); `^`, which some pages also forbid, is allowed. */
export const USER_DATA_FORBIDDEN = /[{}]/;
