// What a binding is: the modes, call restrictions and ring configuration. Pure types + helpers.

export const MODES = ['AXB', 'AXN', 'AXE', 'AX'] as const;
/**
 * Binding modes as stored (in Redis data: never renamed). `AXE` is what Alibaba's API calls an
 * "AXN extension" binding (BindAxnExtension) and Huawei's calls AXE: one X shared by many A's,
 * each reached through an extension.
 */
export type Mode = (typeof MODES)[number];

/** Alibaba CallRestrict values. CONTROL_CLEAR_DISABLE (update only) clears a restriction. */
export const CALL_RESTRICTS = ['CONTROL_AX_DISABLE', 'CONTROL_BX_DISABLE'] as const;
export type CallRestrict = (typeof CALL_RESTRICTS)[number];

/** RingConfig keys Alibaba accepts (tone ids are operator-uploaded audio, see /v1/ring-tones). */
export const RING_KEYS = ['AXBRing_A', 'AXBRing_B', 'AXNRing_AB', 'AXNRing_A', 'AXNRing_N'] as const;
export type RingKey = (typeof RING_KEYS)[number];
export type RingConfig = Partial<Record<RingKey, string>>;

/**
 * What a binding made through the Huawei PrivateNumber API carries beyond xline's own fields
 * (HUAWEI.md §3), stored with it so that the call side and the queries read them. callDirection is
 * xline's callRestrict; recordFlag is `recording`; duration / bindExpiredTime set `expiresAt`.
 * Tone names are ring-tone ids (PUT /v1/ring-tones/{id}), as the client sent them.
 */
export interface HuaweiFields {
  /** The app that made the binding: its callbacks (statusUrl, feeUrl) are this binding's. */
  appKey: string;
  /** AXB duration as asked, seconds (0: never expires); echoed by queries. */
  duration?: number;
  /** Minutes from answer after which the call is cut (0 or absent: no limit). */
  maxDuration?: number;
  /** Played when one minute of maxDuration is left. */
  lastMinVoice?: string;
  /** Played to both parties at answer on a recorded call. */
  recordHintTone?: string;
  /** privateSms as asked (xline carries no SMS; stored and echoed). */
  privateSms?: boolean;
  /** preVoice.callerHintTone: what A hears before the callee answers when A calls X. */
  callerHintTone?: string;
  /** preVoice.calleeHintTone: what the other party hears when it calls X. */
  calleeHintTone?: string;
  /** 1–256 characters, echoed in call events and CDRs. */
  userData?: string;
  /** Unix seconds of the last modify (queries' subscribeTime: bind or last modify). */
  modifiedAt?: number;
  /** areaCode / areaMatchMode as asked at bind time. */
  areaCode?: string;
  areaMatchMode?: string;
  // AX and AXE
  calleeNumDisplay?: string;
  displayNumMode?: string;
  callbackNum?: string;
  callbackTone?: string;
  timeUnit?: string;
  bindExpiredTime?: number;
  callbackExpiredTime?: number;
  /** AX: the temporary callee last set (PUT /rest/caas/privatenumber/calleenumber/v1.0). */
  tempCallee?: TempCallee;
}

/** The AX temporary callee: A dialling X reaches `number` until `expiresAt` (unix seconds). */
export interface TempCallee {
  number: string;
  expiresAt: number;
  userData?: string;
}

export interface Binding {
  subsId: string;
  mode: Mode;
  poolKey: string;
  /** Virtual number, canonical form. */
  x: string;
  /** Real numbers, canonical form. In AXN / AXE, b is the optional default B. */
  a: string;
  b?: string;
  /** AXE only: 1–4 digits. */
  extension?: string;
  /** Unix seconds; the binding stops routing at this second. */
  expiresAt: number;
  createdAt: number;
  callRestrict?: CallRestrict;
  ringConfig?: RingConfig;
  recording: boolean;
  /** Alibaba CallDisplayType; xline always shows X to the called party (1). */
  callDisplayType: number;
  outId?: string;
  outOrderId?: string;
  expectCity?: string;
  asrStatus?: boolean;
  asrModelId?: string;
  /** Set when the binding was made through the Huawei API. */
  huawei?: HuaweiFields;
}

/** A change to HuaweiFields: the keys given replace the stored ones; null removes one. */
export type HuaweiPatch = { [K in keyof HuaweiFields]?: HuaweiFields[K] | null };

/** Fields of a binding that UpdateSubscription may change, one OperateType at a time. */
export type BindingPatch = Partial<
  Pick<
    Binding,
    'a' | 'b' | 'expiresAt' | 'callRestrict' | 'callDisplayType' | 'outId' | 'recording' | 'ringConfig' | 'asrStatus' | 'asrModelId'
  >
> & { clearCallRestrict?: boolean; huawei?: HuaweiPatch };

/** Alibaba SecretReport call_type. */
export const CALL_TYPE = { CALLER: 0, CALLEE: 1, INTERCEPTED: 4 } as const;
