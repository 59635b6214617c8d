// The Huawei interfaces served, one list per mode module (plugin.ts registers them all).
import type { HuaweiInterface } from './plugin.js';

export const HUAWEI_INTERFACES: HuaweiInterface[] = [];
