// What a binding is: the modes, call restrictions and ring configuration. Pure types + helpers.
import type { HuaweiFields, HuaweiPatch } from './huawei-binding.js';

export const MODES = ['AXB', 'AXN', 'AXE', 'AX'] as const;
/** AXE is "AXN extension": one X shared by many A's, each reached through an extension. */
export type Mode = (typeof MODES)[number];

/** Alibaba CallRestrict values. CONTROL_CLEAR_DISABLE (update only) clears a restriction. */
export const CALL_RESTRICTS = ['CONTROL_AX_DISABLE', 'CONTROL_BX_DISABLE'] as const;
export type CallRestrict = (typeof CALL_RESTRICTS)[number];

/** RingConfig keys Alibaba accepts (tone ids are operator-uploaded audio, see /v1/ring-tones). */
export const RING_KEYS = ['AXBRing_A', 'AXBRing_B', 'AXNRing_AB', 'AXNRing_A', 'AXNRing_N'] as const;
export type RingKey = (typeof RING_KEYS)[number];
export type RingConfig = Partial<Record<RingKey, string>>;

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
  /** Bindings made through the Huawei PrivateNumber API (huawei-binding.ts). */
  huawei?: HuaweiFields;
}

/** Fields of a binding that UpdateSubscription may change, one OperateType at a time. */
export type BindingPatch = Partial<
  Pick<
    Binding,
    'a' | 'b' | 'expiresAt' | 'callRestrict' | 'callDisplayType' | 'outId' | 'recording' | 'ringConfig' | 'asrStatus' | 'asrModelId'
  >
> & { clearCallRestrict?: boolean; huawei?: HuaweiPatch };

/** Alibaba SecretReport call_type. */
export const CALL_TYPE = { CALLER: 0, CALLEE: 1, INTERCEPTED: 4 } as const;
